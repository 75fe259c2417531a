package wire

import "fmt"

// StatusCode is the 30-bit Status Data of a Status TLV (RFC 5036 section
// 3.4.6). The E and F bits travel separately in Status.
type StatusCode uint32

// Status codes defined by RFC 5036 section 3.9 and its extensions. The
// comment on each tells whether RFC 5036 sets the E (fatal) bit for it.
const (
	StatusSuccess                     StatusCode = 0x00 // E=0
	StatusBadLDPIdentifier            StatusCode = 0x01 // E=1
	StatusBadProtocolVersion          StatusCode = 0x02 // E=1
	StatusBadPDULength                StatusCode = 0x03 // E=1
	StatusUnknownMessageType          StatusCode = 0x04 // E=0
	StatusBadMessageLength            StatusCode = 0x05 // E=1
	StatusUnknownTLV                  StatusCode = 0x06 // E=0
	StatusBadTLVLength                StatusCode = 0x07 // E=1
	StatusMalformedTLVValue           StatusCode = 0x08 // E=1
	StatusHoldTimerExpired            StatusCode = 0x09 // E=1
	StatusShutdown                    StatusCode = 0x0A // E=1
	StatusLoopDetected                StatusCode = 0x0B // E=0
	StatusUnknownFEC                  StatusCode = 0x0C // E=0
	StatusNoRoute                     StatusCode = 0x0D // E=0
	StatusNoLabelResources            StatusCode = 0x0E // E=0
	StatusLabelResourcesAvailable     StatusCode = 0x0F // E=0
	StatusSessionRejectedNoHello      StatusCode = 0x10 // E=1
	StatusSessionRejectedAdvertMode   StatusCode = 0x11 // E=1
	StatusSessionRejectedMaxPDULength StatusCode = 0x12 // E=1
	StatusSessionRejectedLabelRange   StatusCode = 0x13 // E=1
	StatusKeepAliveTimerExpired       StatusCode = 0x14 // E=1
	StatusLabelRequestAborted         StatusCode = 0x15 // E=0
	StatusMissingMessageParameters    StatusCode = 0x16 // E=0
	StatusUnsupportedAddressFamily    StatusCode = 0x17 // E=0
	StatusSessionRejectedBadKeepAlive StatusCode = 0x18 // E=1
	StatusInternalError               StatusCode = 0x19 // E=1
	StatusUnsupportedCapability       StatusCode = 0x2E // RFC 5561, E=0
	StatusEndOfLIB                    StatusCode = 0x2F // RFC 5919, E=0
	StatusTransportConnectionMismatch StatusCode = 0x32 // RFC 7552, E=1
	StatusDualStackNonCompliance      StatusCode = 0x33 // RFC 7552, E=1
	maxStatusCode                     StatusCode = 0x3FFFFFFF
	statusEBit                                   = 0x80000000
	statusFBit                                   = 0x40000000
)

type statusInfo struct {
	name  string
	fatal bool
}

var statusTable = map[StatusCode]statusInfo{
	StatusSuccess:                     {"Success", false},
	StatusBadLDPIdentifier:            {"Bad LDP Identifier", true},
	StatusBadProtocolVersion:          {"Bad Protocol Version", true},
	StatusBadPDULength:                {"Bad PDU Length", true},
	StatusUnknownMessageType:          {"Unknown Message Type", false},
	StatusBadMessageLength:            {"Bad Message Length", true},
	StatusUnknownTLV:                  {"Unknown TLV", false},
	StatusBadTLVLength:                {"Bad TLV Length", true},
	StatusMalformedTLVValue:           {"Malformed TLV Value", true},
	StatusHoldTimerExpired:            {"Hold Timer Expired", true},
	StatusShutdown:                    {"Shutdown", true},
	StatusLoopDetected:                {"Loop Detected", false},
	StatusUnknownFEC:                  {"Unknown FEC", false},
	StatusNoRoute:                     {"No Route", false},
	StatusNoLabelResources:            {"No Label Resources", false},
	StatusLabelResourcesAvailable:     {"Label Resources Available", false},
	StatusSessionRejectedNoHello:      {"Session Rejected/No Hello", true},
	StatusSessionRejectedAdvertMode:   {"Session Rejected/Parameters Advertisement Mode", true},
	StatusSessionRejectedMaxPDULength: {"Session Rejected/Parameters Max PDU Length", true},
	StatusSessionRejectedLabelRange:   {"Session Rejected/Parameters Label Range", true},
	StatusKeepAliveTimerExpired:       {"KeepAlive Timer Expired", true},
	StatusLabelRequestAborted:         {"Label Request Aborted", false},
	StatusMissingMessageParameters:    {"Missing Message Parameters", false},
	StatusUnsupportedAddressFamily:    {"Unsupported Address Family", false},
	StatusSessionRejectedBadKeepAlive: {"Session Rejected/Bad KeepAlive Time", true},
	StatusInternalError:               {"Internal Error", true},
	StatusUnsupportedCapability:       {"Unsupported Capability", false},
	StatusEndOfLIB:                    {"End-of-LIB", false},
	StatusTransportConnectionMismatch: {"Transport Connection Mismatch", true},
	StatusDualStackNonCompliance:      {"Dual-Stack Non-Compliance", true},
}

// Fatal reports whether RFC 5036 section 3.9 (or the defining extension)
// sets the E bit for c, i.e. whether the session must be torn down.
// Unknown codes are reported as non-fatal: the E bit actually received
// in a Status TLV is authoritative for those.
func (c StatusCode) Fatal() bool { return statusTable[c].fatal }

// String returns the RFC name of the status code.
func (c StatusCode) String() string {
	if i, ok := statusTable[c]; ok {
		return i.name
	}
	return fmt.Sprintf("Status(0x%08x)", uint32(c))
}
