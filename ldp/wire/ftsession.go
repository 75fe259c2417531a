package wire

import "encoding/binary"

// FTSession is the FT Session TLV (0x0503) of RFC 3479 section 4.1 as
// RFC 3478 section 2 uses it in an Initialization message to announce LDP
// Graceful Restart: the L (Learn from Network) flag set and every other
// flag clear, the FT Reconnect Timeout (how long the sender would like the
// receiver to wait, keeping the sender's label bindings, after their
// session failed; 0 when the sender cannot preserve its forwarding state
// across a restart) and the Recovery Time (how long the sender keeps the
// forwarding state it preserved across a restart; 0 when it preserved
// none). Both times are in milliseconds on the wire.
type FTSession struct {
	// Flags are the 16 FT Flags as received (RFC 3479: R, S, A, C, L);
	// FTFlagL is the only one RFC 3478 sets.
	Flags            uint16
	ReconnectTimeout uint32 // milliseconds
	RecoveryTime     uint32 // milliseconds
}

// FTFlagL is the L (Learn from Network) flag of the FT Flags (RFC 3479
// section 4.1, its least significant bit): the sender recovers its label
// state from its neighbours (RFC 3478), not from checkpoints.
const FTFlagL uint16 = 0x0001

// ftSessionLen is the FT Session TLV's value length: FT Flags, Reserved,
// FT Reconnect Timeout and Recovery Time.
const ftSessionLen = 12

// Learn reports whether the L flag is set: RFC 3478 section 2 makes an
// LSR that sent it Graceful Restart capable.
func (f FTSession) Learn() bool { return f.Flags&FTFlagL != 0 }

func (f FTSession) append(b []byte) ([]byte, error) {
	// RFC 3479 section 4.1: U=1, F=0, so that an LSR without fault
	// tolerance ignores it silently (which is what RFC 5036 peers such
	// as FRR's ldpd do).
	b, start := beginTLV(b, true, false, TLVFTSession)
	b = binary.BigEndian.AppendUint16(b, f.Flags)
	b = append(b, 0, 0) // Reserved
	b = binary.BigEndian.AppendUint32(b, f.ReconnectTimeout)
	b = binary.BigEndian.AppendUint32(b, f.RecoveryTime)
	return endTLV(b, start)
}

func decodeFTSession(c *msgCtx, t tlvAt) (FTSession, *DecodeError) {
	if err := c.wantLen(t, ftSessionLen); err != nil {
		return FTSession{}, err
	}
	v := t.Value
	// The Reserved field is ignored on receipt (RFC 3479 section 4.1).
	return FTSession{
		Flags:            binary.BigEndian.Uint16(v),
		ReconnectTimeout: binary.BigEndian.Uint32(v[4:]),
		RecoveryTime:     binary.BigEndian.Uint32(v[8:]),
	}, nil
}
