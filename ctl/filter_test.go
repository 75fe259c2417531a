package ctl

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"

	"github.com/lsrd/lsrd/fib"
	"github.com/lsrd/lsrd/ldp/lib"
	"github.com/lsrd/lsrd/rib"
)

// fecs lists the bindings' FECs with their remote peers, "FEC peer,peer".
func fecs(bs []lib.Binding) []string {
	var out []string
	for _, b := range bs {
		s := b.FEC.String()
		for i, r := range b.Remote {
			if i == 0 {
				s += " "
			} else {
				s += ","
			}
			s += r.Peer.String()
		}
		out = append(out, s)
	}
	return out
}

func TestFilterBindings(t *testing.T) {
	label := func(l fib.Label) Filter { return Filter{Label: l, HasLabel: true} }
	for _, c := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"none", Filter{}, []string{"1.1.1.1/32 2.2.2.2", "2.2.2.2/32 2.2.2.2,3.3.3.3", "10.0.0.0/8 3.3.3.3", "10.1.0.0/24"}},
		{"peer", Filter{Peer: addr("3.3.3.3")}, []string{"2.2.2.2/32 3.3.3.3", "10.0.0.0/8 3.3.3.3"}},
		{"unknown peer", Filter{Peer: addr("9.9.9.9")}, nil},
		{"exact fec", Filter{FEC: pfx("2.2.2.2/32")}, []string{"2.2.2.2/32 2.2.2.2,3.3.3.3"}},
		{"containing address", Filter{FEC: pfx("10.1.0.7/32")}, []string{"10.0.0.0/8 3.3.3.3", "10.1.0.0/24"}},
		{"containing prefix", Filter{FEC: pfx("10.2.0.0/16")}, []string{"10.0.0.0/8 3.3.3.3"}},
		{"less specific matches nothing", Filter{FEC: pfx("2.0.0.0/8")}, nil},
		{"local label keeps every remote", label(16), []string{"2.2.2.2/32 2.2.2.2,3.3.3.3"}},
		{"remote label", label(24), []string{"2.2.2.2/32 3.3.3.3"}},
		{"imp-null local or remote", label(3), []string{"1.1.1.1/32 2.2.2.2", "2.2.2.2/32 2.2.2.2"}},
		{"exp-null", label(0), []string{"10.0.0.0/8 3.3.3.3"}},
		{"local label without remotes", label(18), []string{"10.1.0.0/24"}},
		{"peer and label", Filter{Peer: addr("2.2.2.2"), Label: 17, HasLabel: true}, []string{"1.1.1.1/32 2.2.2.2"}},
	} {
		if got := fecs(c.f.Bindings(bindings)); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestFilterTable(t *testing.T) {
	v := Filter{Label: 18, HasLabel: true}.Table(table)
	if len(v.LFIB) != 1 || v.LFIB[0].InLabel != 18 || v.FTN != nil {
		t.Errorf("--label 18: %+v", v)
	}
	v = Filter{FEC: pfx("3.3.3.3/32")}.Table(table)
	if v.LFIB != nil || len(v.FTN) != 1 || v.FTN[0].Prefix != pfx("3.3.3.3/32") {
		t.Errorf("--fec 3.3.3.3/32: %+v", v)
	}
	v = Filter{}.Table(table)
	if len(v.LFIB) != 2 || len(v.FTN) != 2 {
		t.Errorf("no filter: %+v", v)
	}
	v = Filter{Label: 99, HasLabel: true, FEC: pfx("9.9.9.9/32")}.Table(table)
	if v.LFIB == nil || v.FTN == nil || len(v.LFIB)+len(v.FTN) != 0 {
		t.Errorf("both filters, no match: %+v", v)
	}
}

func TestFilterNeighborsAndRoutes(t *testing.T) {
	if got := (Filter{Peer: addr("3.3.3.3")}).Neighbors(neighbors); len(got) != 1 || got[0].LSRID != addr("3.3.3.3") {
		t.Errorf("--peer 3.3.3.3: %+v", got)
	}
	got := Filter{FEC: pfx("3.3.3.3/32")}.Routes(routes)
	if len(got) != 1 || got[0].Prefix != pfx("3.3.3.0/24") {
		t.Errorf("--fec 3.3.3.3/32: %+v", got)
	}
	if len(routes) != 3 {
		t.Errorf("Routes changed its argument")
	}
}

func TestParseFEC(t *testing.T) {
	for s, want := range map[string]netip.Prefix{"10.1.0.5/24": pfx("10.1.0.0/24"), "1.1.1.1": pfx("1.1.1.1/32"), "2001:db8::1": pfx("2001:db8::1/128")} {
		if got, err := ParseFEC(s); err != nil || got != want {
			t.Errorf("ParseFEC(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if _, err := ParseFEC("nope"); err == nil {
		t.Error("ParseFEC(nope) accepted")
	}
}

// The RIB's JSON names sources; DecodeRoutes reads the names back.
func TestDecodeRoutes(t *testing.T) {
	raw, err := json.Marshal(routes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRoutes(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(routes) {
		t.Fatalf("got %d routes, want %d", len(got), len(routes))
	}
	for i := range got {
		if got[i].Prefix != routes[i].Prefix || got[i].Source != routes[i].Source || got[i].Distance != routes[i].Distance || !slices.Equal(got[i].NextHops, routes[i].NextHops) {
			t.Errorf("route %d: got %+v, want %+v", i, got[i], routes[i])
		}
	}
	if _, err := DecodeRoutes([]byte(`[{"prefix":"1.0.0.0/8","source":"ospf"}]`)); err == nil {
		t.Error("unknown source accepted")
	}
	if s, ok := parseSource(rib.SourceKernel.String()); !ok || s != rib.SourceKernel {
		t.Errorf("parseSource(kernel) = %v, %v", s, ok)
	}
}
