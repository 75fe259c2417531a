package wire

// Initialization is the Initialization message (0x0200, RFC 5036
// section 3.5.3), with the RFC 5561 capability TLVs and the RFC 3478 FT
// Session TLV it may carry. ATM and Frame Relay session parameters are
// kept in Unknown.
type Initialization struct {
	MsgID        uint32
	Session      CommonSessionParams
	FT           *FTSession // nil: the sender does not do Graceful Restart
	Capabilities []CapabilityParam
	Unknown      []RawTLV
}

// Type returns MsgInitialization.
func (*Initialization) Type() MsgType { return MsgInitialization }

// MessageID returns the Message ID.
func (m *Initialization) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *Initialization) SetMessageID(id uint32) { m.MsgID = id }

func (m *Initialization) appendParams(b []byte) ([]byte, error) {
	b, err := m.Session.append(b)
	if err != nil {
		return b, err
	}
	if m.FT != nil {
		if b, err = m.FT.append(b); err != nil {
			return b, err
		}
	}
	if b, err = appendCapabilities(b, m.Capabilities); err != nil {
		return b, err
	}
	return appendRawTLVs(b, m.Unknown)
}

func decodeInitialization(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	m := &Initialization{MsgID: c.id}
	var seen, seenFT bool
	if err := r.each(func(t tlvAt) (err *DecodeError) {
		switch {
		case t.Type == TLVCommonSessionParams:
			if err = c.once(&seen, t); err == nil {
				m.Session, err = decodeCommonSessionParams(c, t)
			}
		case t.Type == TLVFTSession:
			if err = c.once(&seenFT, t); err == nil {
				var ft FTSession
				if ft, err = decodeFTSession(c, t); err == nil {
					m.FT = &ft
				}
			}
		case isKnownCapability(t.Type):
			var p CapabilityParam
			p, err = decodeCapabilityParam(c, t)
			m.Capabilities = append(m.Capabilities, p)
		default:
			c.unknown(t, &m.Unknown)
		}
		return err
	}); err != nil {
		return nil, err
	}
	c.require(seen, TLVCommonSessionParams)
	return m, nil
}

// KeepAlive is the KeepAlive message (0x0201, RFC 5036 section 3.5.4).
type KeepAlive struct {
	MsgID   uint32
	Unknown []RawTLV
}

// Type returns MsgKeepAlive.
func (*KeepAlive) Type() MsgType { return MsgKeepAlive }

// MessageID returns the Message ID.
func (m *KeepAlive) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *KeepAlive) SetMessageID(id uint32) { m.MsgID = id }

func (m *KeepAlive) appendParams(b []byte) ([]byte, error) { return appendRawTLVs(b, m.Unknown) }

func decodeKeepAlive(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	m := &KeepAlive{MsgID: c.id}
	if err := r.each(func(t tlvAt) *DecodeError {
		c.unknown(t, &m.Unknown)
		return nil
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// Capability is the Capability message (0x0202, RFC 5561 section 5),
// which announces or withdraws capabilities on an established session.
type Capability struct {
	MsgID        uint32
	Capabilities []CapabilityParam
	Unknown      []RawTLV // includes capabilities this package does not know
}

// Type returns MsgCapability.
func (*Capability) Type() MsgType { return MsgCapability }

// MessageID returns the Message ID.
func (m *Capability) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *Capability) SetMessageID(id uint32) { m.MsgID = id }

func (m *Capability) appendParams(b []byte) ([]byte, error) {
	b, err := appendCapabilities(b, m.Capabilities)
	if err != nil {
		return b, err
	}
	return appendRawTLVs(b, m.Unknown)
}

func decodeCapabilityMsg(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	m := &Capability{MsgID: c.id}
	if err := r.each(func(t tlvAt) (err *DecodeError) {
		if isKnownCapability(t.Type) {
			var p CapabilityParam
			p, err = decodeCapabilityParam(c, t)
			m.Capabilities = append(m.Capabilities, p)
		} else {
			c.unknown(t, &m.Unknown)
		}
		return err
	}); err != nil {
		return nil, err
	}
	// RFC 5561 section 5: the message carries one or more capability
	// TLVs; unknown ones count, the engine answers them.
	if len(m.Capabilities) == 0 && len(m.Unknown) == 0 {
		c.fatal(c.errAt("Capability Parameter", c.off, StatusMissingMessageParameters, "no capability TLV"))
	}
	return m, nil
}
