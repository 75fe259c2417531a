#!/bin/sh
# lsrd kernel lab: the guest's /init. It loads the modules the host chose, mounts
# the host's root read-only with a tmpfs overlay on top, and runs the host's
# command script inside it. Every failure is said on the console as "lab: FAIL:"
# and, once the results share is mounted, written to /results/guest-error.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
	echo "lab: FAIL: $*"
	if [ -w /results ]; then echo "$*" >/results/guest-error; fi
	sync
	poweroff -f
	sleep 10
}

load() {
	while read -r m args; do
		# $args is split on purpose: it holds the module's parameters.
		# shellcheck disable=SC2086
		out=$(insmod "/modules/$m" $args 2>&1) || fail "module ${m%.ko} failed to load: $out"
	done <"$1"
}

load /boot.modules
mkdir -p /results /host /upper /root
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /results ||
	fail "cannot mount the results share"
load /extra.modules

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 hostroot /host ||
	fail "cannot mount the host's root over 9p"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/host,upperdir=/upper/data,workdir=/upper/work overlay /root ||
	fail "cannot mount the overlay on the host's root"
mount -t proc proc /root/proc
mount -t sysfs sysfs /root/sys
mount -t devtmpfs devtmpfs /root/dev
mkdir -p /root/dev/pts /root/dev/shm
mount -t devpts devpts /root/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /root/dev/shm
# /tmp stays the overlay of the host's /tmp (writes land in the tmpfs upper
# layer): a checkout or a go test binary under the host's /tmp must be visible.
mount -t tmpfs -o mode=0755 tmpfs /root/run
mkdir -p /root/run/lab
mount -o bind /results /root/run/lab || fail "cannot bind the results share into the guest root"

echo "lab: ready"
chroot /root /bin/sh /run/lab/guest.sh
sync
poweroff -f
sleep 10
