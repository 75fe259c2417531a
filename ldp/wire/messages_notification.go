package wire

// Notification is the Notification message (0x0001, RFC 5036 section
// 3.5.1). Besides the RFC 5036 optional parameters it carries the
// Returned TLVs of RFC 5561 section 4 and the FEC TLV used by the RFC
// 5919 End-of-LIB notification. The Returned* fields are absent when
// nil; a non-nil empty slice is sent as an empty TLV.
type Notification struct {
	MsgID           uint32
	Status          Status
	ExtendedStatus  *uint32
	ReturnedPDU     []byte
	ReturnedMessage []byte
	ReturnedTLVs    []byte
	FEC             FEC
	LabelRequestID  *uint32
	Unknown         []RawTLV
}

// NewEndOfLIB builds the RFC 5919 section 4 End-of-LIB notification for
// the Prefix FECs of family af: status End-of-LIB (E=0, F=0, message ID
// and type 0) with a Typed Wildcard FEC element.
func NewEndOfLIB(msgID uint32, af AddressFamily) *Notification {
	return &Notification{
		MsgID:  msgID,
		Status: NewStatus(StatusEndOfLIB, 0, 0),
		FEC:    FEC{TypedWildcardFEC{Type: FECPrefix, Family: af}},
	}
}

// Type returns MsgNotification.
func (*Notification) Type() MsgType { return MsgNotification }

// MessageID returns the Message ID.
func (m *Notification) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *Notification) SetMessageID(id uint32) { m.MsgID = id }

func (m *Notification) appendParams(b []byte) ([]byte, error) {
	b, err := m.Status.append(b)
	if err != nil {
		return b, err
	}
	if m.ExtendedStatus != nil {
		b = fixedTLV(b, TLVExtendedStatus, u32(*m.ExtendedStatus)...)
	}
	for _, r := range []struct {
		t TLVType
		v []byte
		u bool
	}{
		{TLVReturnedPDU, m.ReturnedPDU, false},
		{TLVReturnedMessage, m.ReturnedMessage, false},
		// RFC 5561 section 4 sends Returned TLVs with U=1 so that an
		// LSR without capability support ignores it.
		{TLVReturnedTLVs, m.ReturnedTLVs, true},
	} {
		if r.v != nil {
			if b, err = (RawTLV{U: r.u, Type: r.t, Value: r.v}).append(b); err != nil {
				return b, err
			}
		}
	}
	if m.FEC != nil {
		if b, err = appendFECTLV(b, m.FEC); err != nil {
			return b, err
		}
	}
	if m.LabelRequestID != nil {
		b = fixedTLV(b, TLVLabelRequestMsgID, u32(*m.LabelRequestID)...)
	}
	return appendRawTLVs(b, m.Unknown)
}

func decodeNotification(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	m := &Notification{MsgID: c.id}
	var seen [7]bool
	if err := r.each(func(t tlvAt) (err *DecodeError) {
		switch t.Type {
		case TLVStatus:
			if err = c.once(&seen[0], t); err == nil {
				m.Status, err = decodeStatus(c, t)
			}
		case TLVExtendedStatus:
			if err = c.once(&seen[1], t); err == nil {
				var v uint32
				v, err = decodeU32(c, t)
				m.ExtendedStatus = &v
			}
		case TLVReturnedPDU:
			err = c.once(&seen[2], t)
			m.ReturnedPDU = present(t.Value)
		case TLVReturnedMessage:
			err = c.once(&seen[3], t)
			m.ReturnedMessage = present(t.Value)
		case TLVReturnedTLVs:
			err = c.once(&seen[4], t)
			m.ReturnedTLVs = present(t.Value)
		case TLVFEC:
			if err = c.once(&seen[5], t); err == nil {
				m.FEC, err = decodeFEC(c, t)
			}
		case TLVLabelRequestMsgID:
			if err = c.once(&seen[6], t); err == nil {
				var v uint32
				v, err = decodeU32(c, t)
				m.LabelRequestID = &v
			}
		default:
			c.unknown(t, &m.Unknown)
		}
		return err
	}); err != nil {
		return nil, err
	}
	c.require(seen[0], TLVStatus)
	return m, nil
}

// present copies a TLV value so that an empty but present value stays
// distinguishable (non-nil) from an absent one.
func present(v []byte) []byte { return append([]byte{}, v...) }
