package wire

import "net/netip"

// LabelMapping is the Label Mapping message (0x0400, RFC 5036 section
// 3.5.7). Only the Generic Label TLV is decoded: a mapping carrying an
// ATM or Frame Relay label keeps it in Unknown and is reported as
// missing its label.
type LabelMapping struct {
	MsgID          uint32
	FEC            FEC
	Label          uint32
	LabelRequestID *uint32
	HopCount       *uint8
	PathVector     []netip.Addr
	Unknown        []RawTLV
}

// Type returns MsgLabelMapping.
func (*LabelMapping) Type() MsgType { return MsgLabelMapping }

// MessageID returns the Message ID.
func (m *LabelMapping) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *LabelMapping) SetMessageID(id uint32) { m.MsgID = id }

func (m *LabelMapping) appendParams(b []byte) ([]byte, error) {
	return labelParams{m.FEC, &m.Label, m.LabelRequestID, m.HopCount, m.PathVector, m.Unknown}.append(b)
}

func decodeLabelMapping(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	p, err := decodeLabelParams(c, r, hasLabel|hasReqID|hasHops|hasPath)
	if err != nil {
		return nil, err
	}
	c.require(p.label != nil, TLVGenericLabel)
	m := &LabelMapping{MsgID: c.id, FEC: p.fec, LabelRequestID: p.reqID, HopCount: p.hops, PathVector: p.path, Unknown: p.unknown}
	if p.label != nil {
		m.Label = *p.label
	}
	return m, nil
}

// LabelRequest is the Label Request message (0x0401, RFC 5036 section
// 3.5.8).
type LabelRequest struct {
	MsgID      uint32
	FEC        FEC
	HopCount   *uint8
	PathVector []netip.Addr
	Unknown    []RawTLV
}

// Type returns MsgLabelRequest.
func (*LabelRequest) Type() MsgType { return MsgLabelRequest }

// MessageID returns the Message ID.
func (m *LabelRequest) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *LabelRequest) SetMessageID(id uint32) { m.MsgID = id }

func (m *LabelRequest) appendParams(b []byte) ([]byte, error) {
	return labelParams{m.FEC, nil, nil, m.HopCount, m.PathVector, m.Unknown}.append(b)
}

func decodeLabelRequest(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	p, err := decodeLabelParams(c, r, hasHops|hasPath)
	if err != nil {
		return nil, err
	}
	return &LabelRequest{MsgID: c.id, FEC: p.fec, HopCount: p.hops, PathVector: p.path, Unknown: p.unknown}, nil
}

// LabelWithdraw is the Label Withdraw message (0x0402, RFC 5036 section
// 3.5.10). A nil Label withdraws every label bound to the FEC.
type LabelWithdraw struct {
	MsgID   uint32
	FEC     FEC
	Label   *uint32
	Unknown []RawTLV
}

// Type returns MsgLabelWithdraw.
func (*LabelWithdraw) Type() MsgType { return MsgLabelWithdraw }

// MessageID returns the Message ID.
func (m *LabelWithdraw) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *LabelWithdraw) SetMessageID(id uint32) { m.MsgID = id }

func (m *LabelWithdraw) appendParams(b []byte) ([]byte, error) {
	return labelParams{m.FEC, m.Label, nil, nil, nil, m.Unknown}.append(b)
}

func decodeLabelWithdraw(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	p, err := decodeLabelParams(c, r, hasLabel)
	if err != nil {
		return nil, err
	}
	return &LabelWithdraw{MsgID: c.id, FEC: p.fec, Label: p.label, Unknown: p.unknown}, nil
}

// LabelRelease is the Label Release message (0x0403, RFC 5036 section
// 3.5.11). A nil Label releases every label bound to the FEC.
type LabelRelease struct {
	MsgID   uint32
	FEC     FEC
	Label   *uint32
	Unknown []RawTLV
}

// Type returns MsgLabelRelease.
func (*LabelRelease) Type() MsgType { return MsgLabelRelease }

// MessageID returns the Message ID.
func (m *LabelRelease) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *LabelRelease) SetMessageID(id uint32) { m.MsgID = id }

func (m *LabelRelease) appendParams(b []byte) ([]byte, error) {
	return labelParams{m.FEC, m.Label, nil, nil, nil, m.Unknown}.append(b)
}

func decodeLabelRelease(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	p, err := decodeLabelParams(c, r, hasLabel)
	if err != nil {
		return nil, err
	}
	return &LabelRelease{MsgID: c.id, FEC: p.fec, Label: p.label, Unknown: p.unknown}, nil
}

// LabelAbortRequest is the Label Abort Request message (0x0404, RFC 5036
// section 3.5.9); LabelRequestID is the Message ID of the Label Request
// being aborted.
type LabelAbortRequest struct {
	MsgID          uint32
	FEC            FEC
	LabelRequestID uint32
	Unknown        []RawTLV
}

// Type returns MsgLabelAbortRequest.
func (*LabelAbortRequest) Type() MsgType { return MsgLabelAbortRequest }

// MessageID returns the Message ID.
func (m *LabelAbortRequest) MessageID() uint32 { return m.MsgID }

// SetMessageID sets the Message ID.
func (m *LabelAbortRequest) SetMessageID(id uint32) { m.MsgID = id }

func (m *LabelAbortRequest) appendParams(b []byte) ([]byte, error) {
	return labelParams{m.FEC, nil, &m.LabelRequestID, nil, nil, m.Unknown}.append(b)
}

func decodeLabelAbortRequest(c *msgCtx, r *tlvReader) (Message, *DecodeError) {
	p, err := decodeLabelParams(c, r, hasReqID)
	if err != nil {
		return nil, err
	}
	c.require(p.reqID != nil, TLVLabelRequestMsgID)
	m := &LabelAbortRequest{MsgID: c.id, FEC: p.fec, Unknown: p.unknown}
	if p.reqID != nil {
		m.LabelRequestID = *p.reqID
	}
	return m, nil
}

// labelParams is the union of the parameters of the label distribution
// messages. Their RFC 5036 layouts all follow the order FEC, Label,
// Label Request Message ID, Hop Count, Path Vector.
type labelParams struct {
	fec     FEC
	label   *uint32
	reqID   *uint32
	hops    *uint8
	path    []netip.Addr
	unknown []RawTLV
}

const (
	hasLabel = 1 << iota
	hasReqID
	hasHops
	hasPath
)

func (p labelParams) append(b []byte) ([]byte, error) {
	b, err := appendFECTLV(b, p.fec)
	if err != nil {
		return b, err
	}
	if p.label != nil {
		if b, err = appendLabel(b, *p.label); err != nil {
			return b, err
		}
	}
	if p.reqID != nil {
		b = fixedTLV(b, TLVLabelRequestMsgID, u32(*p.reqID)...)
	}
	if p.hops != nil {
		b = fixedTLV(b, TLVHopCount, *p.hops)
	}
	if len(p.path) > 0 {
		if b, err = appendPathVector(b, p.path); err != nil {
			return b, err
		}
	}
	return appendRawTLVs(b, p.unknown)
}

// decodeLabelParams decodes the TLVs a label message may carry; allowed
// says which optional ones this message type defines, the others being
// treated as unknown TLVs (RFC 5036 section 3.5.1.2.2).
func decodeLabelParams(c *msgCtx, r *tlvReader, allowed int) (labelParams, *DecodeError) {
	var p labelParams
	var seenFEC, seenLabel, seenReq, seenHops, seenPath bool
	if err := r.each(func(t tlvAt) (err *DecodeError) {
		switch {
		case t.Type == TLVFEC:
			if err = c.once(&seenFEC, t); err == nil {
				p.fec, err = decodeFEC(c, t)
			}
		case t.Type == TLVGenericLabel && allowed&hasLabel != 0:
			if err = c.once(&seenLabel, t); err == nil {
				var v uint32
				v, err = decodeLabel(c, t)
				p.label = &v
			}
		case t.Type == TLVLabelRequestMsgID && allowed&hasReqID != 0:
			if err = c.once(&seenReq, t); err == nil {
				var v uint32
				v, err = decodeU32(c, t)
				p.reqID = &v
			}
		case t.Type == TLVHopCount && allowed&hasHops != 0:
			if err = c.once(&seenHops, t); err == nil {
				var v uint8
				v, err = decodeHopCount(c, t)
				p.hops = &v
			}
		case t.Type == TLVPathVector && allowed&hasPath != 0:
			if err = c.once(&seenPath, t); err == nil {
				p.path, err = decodePathVector(c, t)
			}
		default:
			c.unknown(t, &p.unknown)
		}
		return err
	}); err != nil {
		return p, err
	}
	c.require(seenFEC, TLVFEC)
	return p, nil
}
