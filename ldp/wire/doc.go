// Package wire encodes and decodes the Label Distribution Protocol
// (RFC 5036) byte-exactly: PDU headers, messages and TLVs, including the
// RFC 5561 capability machinery, the RFC 5918 Typed Wildcard FEC element,
// the RFC 5919 End-of-LIB notification and the IPv6-ready encodings of
// RFC 7552 (address families, IPv6 transport address).
//
// The package owns the wire format and nothing else. It never performs
// I/O beyond reading one framed PDU from an io.Reader handed to it, keeps
// no session state, starts no timers and takes no protocol decisions:
// unknown messages and TLVs are preserved verbatim (with their U and F
// bits) so that the session engine can apply RFC 5036 section 3.3 and
// 3.5 rules, and every decoding failure is reported as a *DecodeError
// carrying the RFC 5036 status code the engine should send back.
//
// Decoding never panics on any input. Encoding of a decoded value is
// canonical: known TLVs are written in the order of the RFC message
// layouts, followed by preserved unknown TLVs in their original order.
package wire
