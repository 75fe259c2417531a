package zerotier

import "testing"

func TestDeviceName(t *testing.T) {
	// Names observed on Linux hosts that joined these networks.
	cases := []struct {
		nwid string
		want string
	}{
		{"0123456789abcdef", "ztm2vo5ktg"},
		{"abfd31bd47a56b31", "ztc25jjvtw"},
		{"8056c2e21c123456", "ztmjfnbvsk"},
	}
	for _, c := range cases {
		id, err := ParseNetworkID(c.nwid)
		if err != nil {
			t.Fatal(err)
		}
		got := DeviceName(id)
		if got != c.want {
			t.Errorf("DeviceName(%s) = %s, want %s", c.nwid, got, c.want)
		}
		if !IsDeviceName(got) {
			t.Errorf("IsDeviceName(%s) = false", got)
		}
	}
}

func TestParseNetworkIDRejects(t *testing.T) {
	for _, s := range []string{"", "0123", "0123456789abcdeg", "0123456789abcdef0"} {
		if _, err := ParseNetworkID(s); err == nil {
			t.Errorf("ParseNetworkID(%q) accepted", s)
		}
	}
}

func TestIsDeviceName(t *testing.T) {
	for _, s := range []string{"eth0", "zt1234567", "ztABCDEFGH", "zt0189abcd", "ztabcdefghi"} {
		if IsDeviceName(s) {
			t.Errorf("IsDeviceName(%q) = true", s)
		}
	}
}
