package ctl

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lsrd/lsrd/api"
	"github.com/lsrd/lsrd/lspping"
)

// LSPPing writes "ping mpls": the path, one line per echo request, and a
// summary.
func LSPPing(w io.Writer, v api.LSPPingView) error {
	fmt.Fprintf(w, "LSP ping %s: %s\n", v.FEC, pathText(v.Path))
	ok := 0
	for _, r := range v.Results {
		fmt.Fprintf(w, "seq %d: %s\n", r.Seq, resultText(r))
		if r.Replied && r.ReturnCode == lspping.RCEgress {
			ok++
		}
	}
	_, err := fmt.Fprintf(w, "%d sent, %d answered by the egress, %d lost\n", len(v.Results), ok, lost(v.Results))
	return err
}

// LSPTraceroute writes "traceroute mpls": one line per TTL, with the
// downstream each transit router reported.
func LSPTraceroute(w io.Writer, v api.LSPPingView) error {
	fmt.Fprintf(w, "LSP traceroute %s: %s\n", v.FEC, pathText(v.Path))
	tw := newTable(w)
	row(tw, "TTL", "REPLY FROM", "RETURN CODE", "DOWNSTREAM", "RTT")
	for _, r := range v.Results {
		from, code, rtt := none, r.Error, none
		if r.Replied {
			from, code, rtt = r.From.String(), fmt.Sprintf("%d %s", r.ReturnCode, r.Meaning), r.RTT.Round(10*time.Microsecond).String()
		}
		var ds []string
		for _, d := range r.Downstream {
			ds = append(ds, fmt.Sprintf("%s labels %s", d.Address, labelsText(d.Labels)))
		}
		row(tw, fmt.Sprint(r.TTL), from, code, strings.Join(ds, "; ")+orNone(len(ds) == 0), rtt)
	}
	return tw.Flush()
}

func orNone(empty bool) string {
	if empty {
		return none
	}
	return ""
}

func pathText(p api.LSPPath) string {
	if len(p.Labels) == 0 {
		return fmt.Sprintf("via %s on %s, no label (the next hop is the egress)", p.NextHop, p.Interface)
	}
	return fmt.Sprintf("via %s on %s, labels %s", p.NextHop, p.Interface, labelsText(p.Labels))
}

func labelsText(ls []uint32) string {
	var s []string
	for _, l := range ls {
		if l == 3 {
			s = append(s, "implicit-null")
		} else {
			s = append(s, fmt.Sprint(l))
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

func resultText(r api.LSPPingResult) string {
	if !r.Replied {
		return "no reply: " + r.Error
	}
	return fmt.Sprintf("reply from %s: return code %d, %s, %s", r.From, r.ReturnCode, r.Meaning, r.RTT.Round(10*time.Microsecond))
}

func lost(rs []api.LSPPingResult) int {
	n := 0
	for _, r := range rs {
		if !r.Replied {
			n++
		}
	}
	return n
}
