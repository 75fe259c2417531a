package fec

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"

	"github.com/lsrd/lsrd/ldp/wire"
)

func TestPrefix(t *testing.T) {
	for _, c := range []struct {
		in     string
		valid  bool
		want   string
		family Family
	}{
		{"10.1.2.3/24", true, "10.1.2.0/24", IPv4},
		{"2001:db8::1/64", true, "2001:db8::/64", IPv6},
	} {
		f := Prefix(netip.MustParsePrefix(c.in))
		if f.IsValid() != c.valid || f.String() != c.want || f.Family() != c.family {
			t.Errorf("Prefix(%s) = %v valid %v family %v, want %s valid %v family %v", c.in, f, f.IsValid(), f.Family(), c.want, c.valid, c.family)
		}
	}
	if (FEC{}).IsValid() || Prefix(netip.Prefix{}).IsValid() {
		t.Error("the zero FEC and the FEC of no prefix are valid")
	}
}

func TestCompareSortsFamiliesApart(t *testing.T) {
	fs := []FEC{
		Prefix(netip.MustParsePrefix("2001:db8::/32")),
		Prefix(netip.MustParsePrefix("10.0.0.0/8")),
		Prefix(netip.MustParsePrefix("10.0.0.0/16")),
		Prefix(netip.MustParsePrefix("9.0.0.0/8")),
	}
	slices.SortFunc(fs, FEC.Compare)
	var got []string
	for _, f := range fs {
		got = append(got, f.String())
	}
	want := []string{"9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "2001:db8::/32"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %v, want %v", got, want)
	}
}

func TestJSONAndWire(t *testing.T) {
	in := map[string]FEC{"a": Prefix(netip.MustParsePrefix("2001:db8:1::/48")), "b": Prefix(netip.MustParsePrefix("10.9.0.0/24"))}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"a":"2001:db8:1::/48","b":"10.9.0.0/24"}` {
		t.Errorf("JSON %s", b)
	}
	var out map[string]FEC
	if err := json.Unmarshal(b, &out); err != nil || out["a"] != in["a"] || out["b"] != in["b"] {
		t.Errorf("round trip %v, %v", out, err)
	}
	var bad FEC
	if err := json.Unmarshal([]byte(`"10.0.0.0"`), &bad); err == nil {
		t.Error("an address without a length was taken for a FEC")
	}
	if _, err := (FEC{}).MarshalText(); err == nil {
		t.Error("the zero FEC was encoded")
	}
	for _, f := range in {
		g, ok := FromElement(f.Element())
		if !ok || g != f {
			t.Errorf("FromElement(%v.Element()) = %v, %v", f, g, ok)
		}
	}
	if _, ok := FromElement(wire.WildcardFEC{}); ok {
		t.Error("a wildcard names one FEC")
	}
}
