package wire

// CapabilityParam is a Capability Parameter TLV (RFC 5561 section 3)
// of one of the capabilities this package knows: Dynamic Capability
// Announcement (0x0506, RFC 5561), Typed Wildcard FEC (0x050B, RFC 5918)
// or Unrecognized Notification (0x0603, RFC 5919). None of these carries
// capability data; other capability TLVs are kept in Unknown.
type CapabilityParam struct {
	Type  TLVType
	State bool // S bit: advertise (true) or withdraw (false)
}

const capSBit = 0x80

func isKnownCapability(t TLVType) bool {
	switch t {
	case TLVDynamicAnnouncementCap, TLVTypedWildcardFECCap, TLVUnrecognizedNotifCap:
		return true
	}
	return false
}

func (p CapabilityParam) append(b []byte) ([]byte, error) {
	if !isKnownCapability(p.Type) {
		return b, invalidf("capability TLV %v", p.Type)
	}
	var s byte
	if p.State {
		s = capSBit
	}
	// RFC 5561 section 3: capability TLVs are sent with U=1, F=0 so that
	// a peer lacking the capability ignores them.
	return RawTLV{U: true, Type: p.Type, Value: []byte{s}}.append(b)
}

func decodeCapabilityParam(c *msgCtx, t tlvAt) (CapabilityParam, *DecodeError) {
	if err := c.wantLen(t, 1); err != nil {
		return CapabilityParam{}, err
	}
	return CapabilityParam{Type: t.Type, State: t.Value[0]&capSBit != 0}, nil
}

func appendCapabilities(b []byte, ps []CapabilityParam) ([]byte, error) {
	var err error
	for _, p := range ps {
		if b, err = p.append(b); err != nil {
			return b, err
		}
	}
	return b, nil
}
