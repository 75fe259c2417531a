package speaker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lsrd/lsrd/ldp"
)

// Once a session is up, the hellos of its adjacency repeat the one it
// accepted and are counted by the reader alone (discovery's fast path):
// they keep the adjacency up for longer than its hold time with no flap,
// the engine's counters follow them, and a hello that changes (the peer's
// hold time lowered) reaches the engine and takes effect.
func TestRepeatedHellos(t *testing.T) {
	for _, d := range []discovery{targetedHellos, linkHellos} {
		t.Run(d.String(), func(t *testing.T) {
			p := upPair(t, d, short)
			a, b := p.a, p.b
			received := func() uint64 {
				var n uint64
				if err := a.call(func() {
					for _, h := range a.eng.Counters().Hellos {
						n += h.Received
					}
				}); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// Past the transition: the first repeats are counted.
			eventually(t, patience, "hellos taken by the fast path", func() error {
				if a.sp.HellosRepeated() == 0 {
					return fmt.Errorf("none yet")
				}
				return nil
			})
			rep0, rcv0 := a.sp.HellosRepeated(), received()
			time.Sleep(2*short.hold + time.Second) // more than twice the hold time
			rep, rcv := a.sp.HellosRepeated()-rep0, received()-rcv0
			if rep < uint64(short.hold/time.Second) {
				t.Errorf("%d hellos taken by the fast path in %s of 1 s hellos", rep, 2*short.hold+time.Second)
			}
			if rcv < rep || rcv > rep+1 {
				t.Errorf("the engine counted %d hellos received, the fast path %d: they must agree", rcv, rep)
			}
			if f, err := a.flaps(b.id); err != nil || f != 0 {
				t.Fatalf("%d flaps (%v) while hellos took the fast path", f, err)
			}
			if err := operational(a, b)(); err != nil {
				t.Fatal(err)
			}

			// B lowers its hello hold time: A's adjacency follows.
			cfg := b.cfg
			cfg.LinkHelloHold, cfg.TargetedHelloHold = 4*time.Second, 4*time.Second
			b.post(t, ldp.ConfigChanged{Config: cfg})
			eventually(t, patience, "A's adjacency held 4 s", func() error {
				ni, ok, err := a.neighbor(b.id)
				if err != nil || !ok || len(ni.Adjacencies) == 0 {
					return fmt.Errorf("no adjacency with B (%v)", err)
				}
				if h := ni.Adjacencies[0].Hold; h != 4*time.Second {
					return fmt.Errorf("adjacency held %s", h)
				}
				return nil
			})
			// And the new hello is repeated in its turn.
			rep1 := a.sp.HellosRepeated()
			eventually(t, patience, "the changed hello taken by the fast path", func() error {
				if a.sp.HellosRepeated() < rep1+2 {
					return fmt.Errorf("%d since", a.sp.HellosRepeated()-rep1)
				}
				return nil
			})
			if f, err := a.flaps(b.id); err != nil || f != 0 {
				t.Fatalf("%d flaps (%v) after the change", f, err)
			}
		})
	}
}
