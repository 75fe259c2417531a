#!/bin/sh
# lsrd kernel lab: runs inside the guest's root (the host's userland under an
# overlay). Brings up loopback, runs the host's command script with its output in
# /run/lab/output and its exit status in /run/lab/status.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
# Fixtures that rewrite namespaces and /etc/frr check this before they start.
export LSRD_LAB=1
hostname lab
ip link set lo up
date +%s.%N >/run/lab/ready
/bin/sh /run/lab/cmd.sh >/run/lab/output 2>&1
echo $? >/run/lab/status.tmp
mv /run/lab/status.tmp /run/lab/status
