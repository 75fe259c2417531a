// Package lspping encodes and decodes MPLS echo requests and replies, the
// LSP ping and traceroute messages of RFC 8029 ("Detecting Multiprotocol
// Label Switched (MPLS) Data-Plane Failures"), for LDP FECs.
//
// Like a wire codec it performs no I/O, keeps no state and takes no
// protocol decisions: Parse turns bytes into a Message, Message.MarshalBinary
// turns a Message back into bytes, and the helpers in this package build
// and take apart the IPv4/UDP packet and the MPLS label stack an echo
// request travels in. Choosing return codes from the LFIB, rate limiting
// and sockets belong to the daemon.
//
// Implemented:
//
//   - the fixed header of section 3 (version 1, global flags V, T and R,
//     message type, reply mode, return code and subcode, sender's handle,
//     sequence number, 64-bit NTP timestamps) and the return codes of
//     section 3.1;
//   - the Target FEC Stack TLV (section 3.2) with the LDP IPv4 and IPv6
//     prefix sub-TLVs (3.2.1, 3.2.2); other FEC sub-TLVs are kept as raw
//     type and value;
//   - the Downstream Detailed Mapping TLV (section 3.4) with address types
//     1 to 4 and the Non IP type 5 of RFC 6426, the DS flags, and the
//     Label Stack sub-TLV (3.4.1.2); the Multipath (3.4.1.1) and FEC Stack
//     Change (3.4.1.3) sub-TLVs are kept raw;
//   - the Pad (3.5), Interface and Label Stack (3.7), Errored TLVs (3.8)
//     and Reply TOS Byte (3.9) TLVs; the Vendor Enterprise Number TLV
//     (3.6) is kept raw;
//   - the TLV rules of section 3: Length counts the value without its
//     padding, every TLV and sub-TLV is padded to a 4-octet boundary, types
//     below 32768 that are not understood make Parse fail with return code
//     2 and the offending TLVs, and types from 32768 up are kept raw
//     without error so the receiver can ignore them;
//   - the IPv4 echo request packet of section 4.3 (destination in 127/8,
//     IP TTL 1, Router Alert option of RFC 2113, UDP port 3503) and MPLS
//     label stack entries (RFC 3032).
//
// Not implemented: the other FEC types (RSVP, VPN, pseudowire, BGP,
// generic and Nil FEC are only carried raw), the deprecated Downstream
// Mapping TLV (type 2, reported as not understood), the decoding of
// multipath information and FEC stack changes, IPv6 packet headers
// (RFC 7506), vendor private code points, and the procedures of section 4
// (FEC validation, choice of return codes), which the daemon performs.
//
// Parse never panics and allocates no more than a small multiple of its
// input; a *ParseError tells the responder which return code to send.
package lspping
