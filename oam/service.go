package oam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/lspping"
)

// Service is lsrd's LSP ping: the responder (echo requests that expire or
// end here, caught by packet sockets before the kernel drops them) and the
// prober (echo requests sent under a label stack, their replies matched on
// UDP port 3503).
type Service struct {
	log   *slog.Logger
	state State
	udp   *net.UDPConn
	mpls  *packetSocket
	ip    *packetSocket
	tx    *packetSocket

	limit *rateLimit

	mu       sync.Mutex
	handle   uint32
	seq      uint32
	pending  map[uint32]chan received // by sequence number
	answered map[answeredKey]time.Time

	stats Stats
}

// Stats counts the responder's and prober's work, for metrics.
type Stats struct {
	RequestsAnswered uint64
	RequestsDropped  uint64 // over the rate limit
	Malformed        uint64
	ProbesSent       uint64
	RepliesReceived  uint64
}

type answeredKey struct {
	src    netip.Addr
	handle uint32
	seq    uint32
}

type received struct {
	msg  *lspping.Message
	from netip.Addr
	at   time.Time
}

// MaxAnswersPerSecond bounds the echo requests answered, so that a flood
// of them costs little.
const MaxAnswersPerSecond = 100

// Listen opens the sockets: UDP port 3503, and packet sockets for expiring
// labelled packets and unlabelled echo requests to 127/8. It needs
// CAP_NET_RAW and CAP_NET_BIND_SERVICE.
func Listen(log *slog.Logger, st State) (*Service, error) {
	s := &Service{log: log, state: st, handle: rand.Uint32(), pending: map[uint32]chan received{},
		answered: map[answeredKey]time.Time{}, limit: newRateLimit(MaxAnswersPerSecond)}
	var err error
	if s.udp, err = net.ListenUDP("udp4", &net.UDPAddr{Port: lspping.Port}); err != nil {
		return nil, fmt.Errorf("lsp ping: %w", err)
	}
	if s.mpls, err = listenPacket(etherMPLS, mplsExpiring); err == nil {
		if s.ip, err = listenPacket(etherIPv4, ipToLoopbackEcho); err == nil {
			s.tx, err = sendSocket()
		}
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("lsp ping: %w", err)
	}
	return s, nil
}

// Close closes every socket.
func (s *Service) Close() {
	if s.udp != nil {
		s.udp.Close()
	}
	for _, p := range []*packetSocket{s.mpls, s.ip, s.tx} {
		if p != nil {
			p.Close()
		}
	}
}

// Run serves until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.serveFrames(ctx, s.mpls, true) }()
	go func() { defer wg.Done(); s.serveFrames(ctx, s.ip, false) }()
	go func() { defer wg.Done(); s.serveUDP(ctx) }()
	<-ctx.Done()
	s.udp.SetReadDeadline(time.Now())
	s.mpls.s.SetReadDeadline(time.Now())
	s.ip.s.SetReadDeadline(time.Now())
	wg.Wait()
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Service) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// serveFrames answers echo requests the packet socket catches.
func (s *Service) serveFrames(ctx context.Context, ps *packetSocket, labelled bool) {
	buf := make([]byte, 9216)
	for ctx.Err() == nil {
		f, err := ps.recv(buf)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("lsp ping: reading the packet socket", "err", err)
				time.Sleep(time.Second)
			}
			continue
		}
		arr := Arrival{}
		ip := f.data
		if labelled {
			stack, rest, err := lspping.DecodeLabelStack(f.data)
			if err != nil || len(stack) == 0 {
				continue
			}
			arr = Arrival{Labelled: true, TopLabel: stack[0].Label}
			ip = rest
		}
		pkt, err := lspping.ParseIPv4UDP(ip)
		if err != nil || pkt.DstPort != lspping.Port || !pkt.Dst.Is4() || pkt.Dst.As4()[0] != 127 {
			continue
		}
		s.answer(pkt, arr)
	}
}

// serveUDP takes echo replies to this router's probes, and echo requests
// the kernel delivered itself (to one of its own addresses).
func (s *Service) serveUDP(ctx context.Context) {
	buf := make([]byte, 9216)
	for ctx.Err() == nil {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.log.Warn("lsp ping: reading UDP 3503", "err", err)
				time.Sleep(time.Second)
			}
			continue
		}
		m, err := lspping.Parse(buf[:n])
		if err == nil && m.Type == lspping.EchoReply {
			s.deliver(m, from.Addr().Unmap())
			continue
		}
		// A request, well formed or not (Answer gives the malformed one its
		// return code).
		var pe *lspping.ParseError
		if (err == nil && m.Type == lspping.EchoRequest) || (errors.As(err, &pe) && pe.Header != nil && pe.Header.Type == lspping.EchoRequest) {
			s.answer(&lspping.IPv4UDP{Src: from.Addr().Unmap(), SrcPort: from.Port(), Payload: buf[:n]}, Arrival{})
		}
	}
}

// answer replies to one echo request, once, within the rate limit.
func (s *Service) answer(pkt *lspping.IPv4UDP, arr Arrival) {
	now := time.Now()
	if !s.limit.allow(now) {
		s.count(func(st *Stats) { st.RequestsDropped++ })
		return
	}
	rep := Answer(pkt.Payload, arr, s.state, now)
	if rep == nil {
		return
	}
	if rep.ReturnCode == lspping.RCMalformedRequest || rep.ReturnCode == lspping.RCTLVNotUnderstood {
		s.count(func(st *Stats) { st.Malformed++ })
	}
	// The same request may come twice: caught on the wire and delivered by
	// a kernel that accepts 127/8 from outside (route_localnet).
	key := answeredKey{pkt.Src, rep.SenderHandle, rep.SequenceNumber}
	s.mu.Lock()
	for k, at := range s.answered {
		if now.Sub(at) > 2*time.Second {
			delete(s.answered, k)
		}
	}
	_, dup := s.answered[key]
	if !dup && len(s.answered) < 4*MaxAnswersPerSecond {
		s.answered[key] = now
	}
	s.mu.Unlock()
	if dup {
		return
	}
	b, err := rep.MarshalBinary()
	if err != nil {
		s.log.Warn("lsp ping: encoding a reply", "err", err)
		return
	}
	to := netip.AddrPortFrom(pkt.Src, pkt.SrcPort)
	if _, err := s.udp.WriteToUDPAddrPort(b, to); err != nil {
		s.log.Debug("lsp ping: sending a reply", "to", to, "err", err)
		return
	}
	s.count(func(st *Stats) { st.RequestsAnswered++ })
}

// deliver hands a reply to the probe waiting for it.
func (s *Service) deliver(m *lspping.Message, from netip.Addr) {
	s.mu.Lock()
	ch, ok := s.pending[m.SequenceNumber]
	if ok && m.SenderHandle == s.handle {
		delete(s.pending, m.SequenceNumber)
		s.stats.RepliesReceived++
	}
	s.mu.Unlock()
	if ok && m.SenderHandle == s.handle {
		ch <- received{msg: m, from: from, at: time.Now()}
	}
}

// Probe is one echo request to send.
type Probe struct {
	FEC netip.Prefix
	// Src is the request's IP source: where the reply comes back.
	Src netip.Addr
	// Labels are pushed, top first (none: the request goes as IP, for a
	// next hop that is the egress); TTL is the top label's TTL, or the
	// request's when unlabelled is 1 regardless.
	Labels []uint32
	TTL    uint8
	// Ifname and NextHop are where it leaves.
	Ifname  string
	NextHop netip.Addr
	// Downstream asks transit routers to describe their downstream
	// (traceroute).
	Downstream bool
	Timeout    time.Duration
}

// Result is api.LSPPingResult, the control API's wire type.
type Result = api.LSPPingResult

// ResultDownstream is api.LSPPingDownstream, the control API's wire type.
type ResultDownstream = api.LSPPingDownstream

// Send sends one echo request and waits for its reply or the timeout.
func (s *Service) Send(ctx context.Context, p Probe) Result {
	s.mu.Lock()
	s.seq++
	seq, handle := s.seq, s.handle
	ch := make(chan received, 1)
	s.pending[seq] = ch
	s.stats.ProbesSent++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, seq)
		s.mu.Unlock()
	}()
	res := Result{Seq: seq, TTL: p.TTL}
	fail := func(err error) Result { res.Error = err.Error(); return res }

	req := lspping.NewRequest(handle, seq, time.Now(), p.FEC, lspping.ReplyUDP, lspping.FlagValidateFEC)
	if p.Downstream {
		// The prober's own downstream is unknown to the first hop's
		// check: the "any" form of RFC 8029 section 3.4.
		req.TLVs = append(req.TLVs, &lspping.DownstreamDetailedMapping{MTU: 0, AddrType: lspping.AddrIPv4Unnumbered,
			Address: netip.AddrFrom4([4]byte{224, 0, 0, 2})})
	}
	payload, err := req.MarshalBinary()
	if err != nil {
		return fail(err)
	}
	ipPkt, err := lspping.EchoRequestIPv4(p.Src, netip.Addr{}, lspping.Port, payload)
	if err != nil {
		return fail(err)
	}
	ifi, err := net.InterfaceByName(p.Ifname)
	if err != nil {
		return fail(err)
	}
	mac, err := neighbourMAC(ctx, ifi, p.NextHop)
	if err != nil {
		return fail(err)
	}
	frame, proto := ipPkt, uint16(etherIPv4)
	if len(p.Labels) > 0 {
		var stack []lspping.LabelEntry
		for i, l := range p.Labels {
			stack = append(stack, lspping.LabelEntry{Label: l, S: i == len(p.Labels)-1, TTL: p.TTL})
		}
		frame, proto = append(lspping.EncodeLabelStack(stack), ipPkt...), etherMPLS
	}
	sent := time.Now()
	if err := s.tx.send(frame, proto, ifi.Index, mac); err != nil {
		return fail(err)
	}
	t := time.NewTimer(p.Timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		res.Replied, res.From, res.RTT = true, r.from, r.at.Sub(sent)
		res.ReturnCode, res.Subcode, res.Meaning = r.msg.ReturnCode, r.msg.ReturnSubcode, meaning(r.msg.ReturnCode, r.msg.ReturnSubcode)
		for _, t := range r.msg.TLVs {
			if d, ok := t.(*lspping.DownstreamDetailedMapping); ok {
				rd := ResultDownstream{Address: d.Address, MTU: int(d.MTU)}
				for _, l := range d.Labels() {
					rd.Labels = append(rd.Labels, l.Label)
				}
				res.Downstream = append(res.Downstream, rd)
			}
		}
	case <-t.C:
		res.Error = "timeout"
	case <-ctx.Done():
		res.Error = ctx.Err().Error()
	}
	return res
}

// neighbourMAC finds the link-layer address of nh on ifi in the kernel's
// neighbour table, asking the kernel to resolve it first when unknown.
func neighbourMAC(ctx context.Context, ifi *net.Interface, nh netip.Addr) (net.HardwareAddr, error) {
	for try := 0; ; try++ {
		if mac, ok := lookupNeighbour(ifi.Index, nh); ok {
			return mac, nil
		}
		if try == 10 {
			return nil, fmt.Errorf("no link-layer address for %s on %s", nh, ifi.Name)
		}
		if try == 0 {
			// Any datagram towards nh makes the kernel resolve it.
			if c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: nh.AsSlice(), Port: 9}); err == nil {
				c.Write(nil)
				c.Close()
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// rateLimit is a token bucket of rate tokens per second, burst rate.
type rateLimit struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func newRateLimit(rate int) *rateLimit {
	return &rateLimit{rate: float64(rate), tokens: float64(rate)}
}

func (r *rateLimit) allow(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.IsZero() {
		r.tokens = min(r.rate, r.tokens+now.Sub(r.last).Seconds()*r.rate)
	}
	r.last = now
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}

// meaning is the return code's RFC wording with the stack depth filled in.
func meaning(rc lspping.ReturnCode, rsc uint8) string {
	m := rc.String()
	if strings.HasSuffix(m, "stack-depth") {
		m += fmt.Sprintf(" %d", rsc)
	}
	return m
}
