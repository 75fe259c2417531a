package hostile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/lsrd/lsrd/ldp/transport"
	"github.com/lsrd/lsrd/ldp/wire"
)

// MaxFloodRate is the highest rate FloodLinkHellos accepts, in hellos per
// second.
const MaxFloodRate = 10000

// Flood describes a link hello flood: Count Link Hellos (RFC 5036 section
// 2.4.1) to 224.0.0.2:646 with TTL 1 (or TTL), out of one interface from one
// address, each from a new LSR ID (FirstLSRID, then the addresses after
// it), at Rate per second.
type Flood struct {
	Ifname     string     // the interface to send on, in the tool's namespace
	Src        netip.Addr // the source address, one of Ifname's
	FirstLSRID netip.Addr
	Count      int
	Rate       int // hellos per second, 1..MaxFloodRate
	// Hold is the hold time the hellos propose, in seconds; 0 is the
	// RFC's default (15 s for link hellos).
	Hold uint16
	// TransportAddr is carried in a Transport Address TLV when valid;
	// otherwise the router takes Src as the transport address.
	TransportAddr netip.Addr
	// TTL is the hellos' IP TTL, 1 when 0; GTSM sets their G flag (RFC
	// 6720), as a GTSM neighbour's hellos would.
	TTL  int
	GTSM bool
}

// FloodResult is what a flood did.
type FloodResult struct {
	Sent    int
	Elapsed time.Duration
	// SendErrors counts datagrams the kernel refused (a full socket
	// buffer, say); the flood goes on after one.
	SendErrors int
	LastError  error
}

// Rate is the rate the flood achieved, in hellos per second.
func (r FloodResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// FloodLinkHellos sends the flood from the namespace in and returns when
// every hello is sent or ctx ends.
func FloodLinkHellos(ctx context.Context, in Netns, f Flood) (FloodResult, error) {
	if err := inLab(); err != nil {
		return FloodResult{}, err
	}
	switch {
	case f.Rate < 1 || f.Rate > MaxFloodRate:
		return FloodResult{}, fmt.Errorf("hostile: flood rate %d outside 1..%d", f.Rate, MaxFloodRate)
	case !f.Src.Is4() || !f.FirstLSRID.Is4():
		return FloodResult{}, fmt.Errorf("hostile: flood source %v and first LSR ID %v must be IPv4", f.Src, f.FirstLSRID)
	}
	var p *ipv4.PacketConn
	var conn net.PacketConn
	err := in(func() error {
		ifi, err := net.InterfaceByName(f.Ifname)
		if err != nil {
			return err
		}
		// Any source port: lsrd and RFC 5036 only care about the
		// destination port, and 646 stays free for a real peer here.
		conn, err = net.ListenPacket("udp4", netip.AddrPortFrom(f.Src, 0).String())
		if err != nil {
			return err
		}
		p = ipv4.NewPacketConn(conn)
		for _, set := range []func() error{
			func() error { return p.SetMulticastInterface(ifi) },
			func() error { return p.SetMulticastTTL(max(f.TTL, 1)) },
			func() error { return p.SetMulticastLoopback(false) },
		} {
			if err := set(); err != nil {
				conn.Close()
				return err
			}
		}
		return nil
	})
	if err != nil {
		return FloodResult{}, fmt.Errorf("hostile: flood socket on %s from %s: %w", f.Ifname, f.Src, err)
	}
	defer conn.Close()

	dst := &net.UDPAddr{IP: transport.AllRouters.AsSlice(), Port: transport.Port}
	hello := &wire.Hello{Params: wire.CommonHelloParams{HoldTime: f.Hold, GTSM: f.GTSM}, TransportAddr: f.TransportAddr}
	pdu := &wire.PDU{Messages: []wire.Message{hello}}
	var res FloodResult
	var buf []byte
	start := time.Now()
	interval := time.Second / time.Duration(f.Rate)
	for i := 0; i < f.Count; i++ {
		// Hello i is due at start + i/rate: send what is due, then sleep
		// until the next one (sleeps are coarse at 10,000 per second, so
		// hellos go out in small bursts at the right average rate).
		if due := start.Add(time.Duration(i) * interval); time.Until(due) > time.Millisecond {
			select {
			case <-ctx.Done():
				res.Elapsed = time.Since(start)
				return res, ctx.Err()
			case <-time.After(time.Until(due)):
			}
		}
		pdu.ID = wire.LDPID{LSRID: nextAddr(f.FirstLSRID, uint32(i))}
		hello.MsgID = uint32(i + 1)
		if buf, err = pdu.AppendBinary(buf[:0]); err != nil {
			return res, fmt.Errorf("hostile: encoding hello %d: %w", i, err)
		}
		if _, err := p.WriteTo(buf, nil, dst); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return res, err
			}
			res.SendErrors++
			res.LastError = err
			continue
		}
		res.Sent++
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
