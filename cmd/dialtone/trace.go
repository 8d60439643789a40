package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone/pcap"
	"github.com/dialtone/dialtone/phone/srtp"
	"github.com/dialtone/dialtone/ui/common"
)

// traceCmd is `dialtone trace FILE`: the SIP messages of a capture (dialtone's --pcap, or
// anyone's pcap/pcapng with SIP over UDP or TCP) as a ladder, one dialog (Call-ID) at a time.
type traceCmd struct {
	File   string `arg:"" help:"Capture file (pcap or pcapng) to read." type:"path"`
	CallID string `name:"call-id" help:"Only the dialog with this Call-ID." placeholder:"ID"`
	Full   bool   `help:"Print each message in full under its line (SRTP keys masked)."`
}

// maxTraceMessages bounds what a ladder holds in memory (it groups by Call-ID before printing).
const maxTraceMessages = 1_000_000

// Run prints the ladder, or with --json one object per message in capture order.
func (c *traceCmd) Run(e *env) error {
	f, err := os.Open(c.File)
	if err != nil {
		return usageErr("trace: %v", err)
	}
	defer f.Close()
	var msgs []ladderMsg
	enc := json.NewEncoder(e.stdout)
	err = pcap.ReadSIP(f, func(m pcap.SIPMessage) error {
		if c.CallID != "" && m.CallID != c.CallID {
			return nil
		}
		if e.cli.JSON {
			return enc.Encode(traceRecord(m, c.Full))
		}
		if len(msgs) >= maxTraceMessages {
			return fmt.Errorf("more than %d SIP messages: narrow it with --call-id", maxTraceMessages)
		}
		lm := ladderMsg{SIPMessage: m, sdp: hasSDP(m.Text)}
		if !c.Full {
			lm.Text = nil // only the ladder line is printed: keep no bodies
		}
		msgs = append(msgs, lm)
		return nil
	})
	if !e.cli.JSON && (err == nil || len(msgs) > 0) {
		printLadder(e.stdout, msgs, c.Full) // a capture cut short (still being written) shows what it has
	}
	if errors.Is(err, pcap.ErrFormat) {
		return usageErr("trace %s: %v", c.File, err)
	}
	if err != nil {
		return fmt.Errorf("trace %s: %w", c.File, err)
	}
	return nil
}

// traceJSON is one message of `trace --json`.
type traceJSON struct {
	Time      string `json:"time"`
	CallID    string `json:"call_id"`
	Direction string `json:"direction,omitempty"` // sent or received: dialtone's captures say
	Transport string `json:"transport"`
	Src       string `json:"src"`
	Dst       string `json:"dst"`
	Method    string `json:"method,omitempty"`
	Status    int    `json:"status,omitempty"`
	Reason    string `json:"reason,omitempty"`
	CSeq      string `json:"cseq,omitempty"`
	SDP       bool   `json:"sdp,omitempty"`
	Text      string `json:"text,omitempty"`
}

func traceRecord(m pcap.SIPMessage, full bool) traceJSON {
	r := traceJSON{Time: m.Time.UTC().Format(time.RFC3339Nano), CallID: m.CallID, Direction: direction(m),
		Transport: m.Transport, Src: m.Src.String(), Dst: m.Dst.String(), Method: m.Method, Status: m.Status,
		Reason: m.Reason, CSeq: m.CSeq, SDP: hasSDP(m.Text)}
	if full {
		r.Text = string(srtp.MaskCryptoLines(m.Text))
	}
	return r
}

func direction(m pcap.SIPMessage) string {
	switch {
	case m.Sent:
		return "sent"
	case m.Received:
		return "received"
	}
	return ""
}

// hasSDP reports whether a message carries an SDP body.
func hasSDP(text []byte) bool {
	head, _, _ := bytes.Cut(text, []byte("\r\n\r\n"))
	for v := range pcap.HeaderValues(head, "Content-Type", "c") {
		if bytes.Contains(bytes.ToLower(v), []byte("application/sdp")) {
			return true
		}
	}
	return false
}

// ladderMsg is a message kept for the ladder: its text only with --full.
type ladderMsg struct {
	pcap.SIPMessage
	sdp bool
}

// ladderWidth is the width of the arrow column.
const ladderWidth = 30

// printLadder prints msgs grouped by Call-ID (dialogs in order of their first message), each
// message as: time of day (UTC), time since the dialog's previous message, one end, an arrow
// carrying the method or status (with "(SDP)" when it has a body of SDP), the other end.
func printLadder(w io.Writer, msgs []ladderMsg, full bool) {
	if len(msgs) == 0 {
		fmt.Fprintln(w, "no SIP messages")
		return
	}
	var order []string
	groups := map[string][]ladderMsg{}
	for _, m := range msgs {
		if _, ok := groups[m.CallID]; !ok {
			order = append(order, m.CallID)
		}
		groups[m.CallID] = append(groups[m.CallID], m)
	}
	for i, id := range order {
		g := groups[id]
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := id
		if name == "" {
			name = "(none)"
		}
		// A capture is someone's file: what its messages carry (a Call-ID, a reason phrase, the
		// text) is cleaned of control characters before it reaches the terminal.
		fmt.Fprintf(w, "Call-ID %s  (%d messages, %s)\n", common.Clean(name), len(g), g[0].Time.UTC().Format("2006-01-02"))
		// Two columns: the dialog's first message's local side on the left (dialtone's side
		// when the capture says, else its sender), the other end on the right.
		left := g[0].Src
		if g[0].Received {
			left = g[0].Dst
		}
		lw := 0
		for _, m := range g {
			lw = max(lw, len(addr(m.Src)), len(addr(m.Dst)))
		}
		prev := g[0].Time
		for _, m := range g {
			label := m.Summary()
			if m.sdp {
				label += " (SDP)"
			}
			if m.Transport != "UDP" {
				label += " " + m.Transport
			}
			a, b, right := m.Src, m.Dst, true // a third party's message: its sender on the left
			if m.Dst == left {
				a, b, right = m.Dst, m.Src, false
			}
			fmt.Fprintf(w, "  %s %+8.3fs  %-*s %s %s\n", m.Time.UTC().Format("15:04:05.000"), m.Time.Sub(prev).Seconds(),
				lw, addr(a), arrow(common.Clean(label), right), addr(b))
			prev = m.Time
			if full {
				text := strings.TrimRight(string(srtp.MaskCryptoLines(m.Text)), "\r\n")
				for _, l := range strings.Split(text, "\n") {
					fmt.Fprintf(w, "      | %s\n", common.Clean(strings.TrimRight(l, "\r")))
				}
			}
		}
	}
}

// arrow draws label on an arrow pointing right (out) or left.
func arrow(label string, out bool) string {
	fill := max(ladderWidth-len(label)-4, 2)
	if out {
		return "-- " + label + " " + strings.Repeat("-", fill) + ">"
	}
	return "<" + strings.Repeat("-", fill) + " " + label + " --"
}

func addr(a netip.AddrPort) string { return a.String() }
