package netlinkfib

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lsrd/lsrd/fib"
	"golang.org/x/sys/unix"
)

// ErrNoMPLS is returned by CheckMPLS when the kernel cannot forward MPLS, so
// the daemon fails once with a cause instead of a stream of netlink errors.
var ErrNoMPLS = errors.New("kernel has no MPLS forwarding: load mpls_router (and mpls_iptunnel for label push)")

// ItemError is one desired item (a label route, a prefix, a nexthop object)
// that could not be programmed. The rest of its batch went on.
type ItemError struct {
	Item string // what it was about: "label 100", "prefix 10.1.0.0/24", "nexthop 3238002689"
	Op   string // "add", "replace", "delete", "resolve", "conflict"
	Err  error  // a *KernelError for refusals by the kernel

	// isLabel with label, or prefix, is the desired entry the error is
	// about when it is a label route or an IP route (Installed).
	isLabel bool
	label   fib.Label
	prefix  netip.Prefix
	// throw is the throw route the error is about.
	throw netip.Prefix
}

// labelError is an ItemError about label route in.
func labelError(in fib.Label, op string, err error) *ItemError {
	return &ItemError{Item: "label " + in.String(), Op: op, Err: err, isLabel: true, label: in}
}

// prefixError is an ItemError about the IP route to p; detail, when not
// empty, is added to Item (the nexthop object it uses).
func prefixError(p netip.Prefix, detail, op string, err error) *ItemError {
	item := "prefix " + p.String()
	if detail != "" {
		item += " (" + detail + ")"
	}
	return &ItemError{Item: item, Op: op, Err: err, prefix: p}
}

func (e *ItemError) Error() string { return e.Op + " " + e.Item + ": " + e.Err.Error() }

// Unwrap returns the cause, so errors.Is(err, unix.EEXIST) works.
func (e *ItemError) Unwrap() error { return e.Err }

// KernelError is the kernel's answer to one netlink request: the errno and,
// when the kernel gave one (extended ack), its explanation.
type KernelError struct {
	Errno   unix.Errno
	Message string
}

func (e *KernelError) Error() string {
	s := fmt.Sprintf("%s (%s)", e.Errno.Error(), unix.ErrnoName(e.Errno))
	if e.Message != "" {
		s += ": kernel says " + e.Message
	}
	return s
}

// Unwrap returns the errno.
func (e *KernelError) Unwrap() error { return e.Errno }

// Errors is every item a reconcile pass could not program. A pass returns it
// (as error) only when it is not empty.
type Errors []*ItemError

func (es Errors) Error() string {
	const shown = 5
	var b strings.Builder
	fmt.Fprintf(&b, "%d kernel change(s) failed", len(es))
	for i, e := range es {
		if i == shown {
			fmt.Fprintf(&b, "; and %d more", len(es)-shown)
			break
		}
		b.WriteString("; ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is and errors.As look at every item.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sort() {
	slices.SortFunc(es, func(a, b *ItemError) int { return strings.Compare(a.Item, b.Item) })
}

// orNil returns es as an error, or nil when it is empty: a nil Errors in an
// error interface would not compare equal to nil.
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
