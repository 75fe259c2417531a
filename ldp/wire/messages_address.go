package wire

// Address is the Address message (0x0300, RFC 5036 section 3.5.5): the
// interface addresses the sender advertises.
type Address struct {
	MsgID     uint32
	Addresses AddressList
	Unknown   []RawTLV
}

// Type returns MsgAddress.
func (*Address) Type() MsgType { return MsgAddress }

// MessageID returns the Message ID.
func (m *Address) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *Address) SetMessageID(id uint32) { m.MsgID = id }

func (m *Address) appendParams(b []byte) ([]byte, error) {
	return appendAddressParams(b, m.Addresses, m.Unknown)
}

// AddressWithdraw is the Address Withdraw message (0x0301, RFC 5036
// section 3.5.6).
type AddressWithdraw struct {
	MsgID     uint32
	Addresses AddressList
	Unknown   []RawTLV
}

// Type returns MsgAddressWithdraw.
func (*AddressWithdraw) Type() MsgType { return MsgAddressWithdraw }

// MessageID returns the Message ID.
func (m *AddressWithdraw) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *AddressWithdraw) SetMessageID(id uint32) { m.MsgID = id }

func (m *AddressWithdraw) appendParams(b []byte) ([]byte, error) {
	return appendAddressParams(b, m.Addresses, m.Unknown)
}

func appendAddressParams(b []byte, l AddressList, unknown []RawTLV) ([]byte, error) {
	b, err := l.append(b)
	if err != nil {
		return b, err
	}
	return appendRawTLVs(b, unknown)
}

// decodeAddressParams decodes the parameters shared by both address
// messages: the mandatory Address List TLV.
func decodeAddressParams(c *msgCtx, r *tlvReader) (AddressList, []RawTLV, *DecodeError) {
	var l AddressList
	var unknown []RawTLV
	var seen bool
	if err := r.each(func(t tlvAt) (err *DecodeError) {
		if t.Type == TLVAddressList {
			if err = c.once(&seen, t); err == nil {
				l, err = decodeAddressList(c, t)
			}
		} else {
			c.unknown(t, &unknown)
		}
		return err
	}); err != nil {
		return l, nil, err
	}
	c.require(seen, TLVAddressList)
	return l, unknown, nil
}

func decodeAddress(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	l, u, err := decodeAddressParams(c, r)
	if err != nil {
		return nil, err
	}
	return &Address{MsgID: c.id, Addresses: l, Unknown: u}, nil
}

func decodeAddressWithdraw(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	l, u, err := decodeAddressParams(c, r)
	if err != nil {
		return nil, err
	}
	return &AddressWithdraw{MsgID: c.id, Addresses: l, Unknown: u}, nil
}
