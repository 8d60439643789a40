// Package ladder is the SIP ladder pane: every SIP message the phone sent or received, grouped
// into dialogs by Call-ID (calls, registrations, messages), the selected dialog drawn as a
// ladder of arrows between the local and the remote address, and any message in full with its
// SDP body highlighted. It is sngrep for dialtone's own signalling.
package ladder

import (
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone/pcap"
	"github.com/dialtone/dialtone/phone/srtp"
	"github.com/dialtone/dialtone/ui/common"
)

// Message is one SIP message as the pane keeps it.
type Message struct {
	Time      time.Time
	Sent      bool   // dialtone sent it (else received it)
	Transport string // UDP, TCP, TLS, WS...
	Local     string // dialtone's address
	Remote    string // the other end's address
	Request   bool
	Method    string // the request's method, or the CSeq method of a response
	Status    int
	Reason    string
	CallID    string
	CSeq      string
	// Peer is the SIP address of the other party: To of what dialtone sent, From of what it
	// received (requests), the other way round for responses.
	Peer string
	SDP  bool
	Text string // the whole message, SRTP keys masked
}

// Summary is the method, or the status code and reason.
func (m Message) Summary() string {
	if m.Request {
		return m.Method
	}
	s := strconv.Itoa(m.Status)
	if m.Reason != "" {
		s += " " + m.Reason
	}
	return s
}

// Parse reads a SIP trace line of the TUI's tracer: "send UDP LOCAL -> REMOTE" or
// "recv UDP REMOTE -> LOCAL", a newline, then the message. ok is false for anything else.
// SRTP keys are masked here again, whatever the caller did: the pane must never show one.
func Parse(t time.Time, text string) (Message, bool) {
	head, raw, found := strings.Cut(text, "\n")
	if !found {
		return Message{}, false
	}
	f := strings.Fields(head)
	if len(f) != 5 || f[3] != "->" || (f[0] != "send" && f[0] != "recv") {
		return Message{}, false
	}
	// Masked again whatever the tracer did (masking masked text changes nothing).
	masked := string(srtp.MaskCryptoLines([]byte(raw)))
	p, ok := pcap.ParseSIP([]byte(masked))
	if !ok {
		return Message{}, false
	}
	m := Message{Time: t, Sent: f[0] == "send", Transport: f[1], Request: p.Request, Method: p.Method,
		Status: p.Status, Reason: p.Reason, CallID: p.CallID, CSeq: p.CSeq, Text: masked}
	if m.Sent {
		m.Local, m.Remote = f[2], f[4]
	} else {
		m.Remote, m.Local = f[2], f[4]
	}
	from, to, ctype := headers(masked)
	// The far party: whom a request we sent went To, whom a request we received came From; a
	// response carries the request's From and To unchanged, so the sides swap.
	if m.Sent == m.Request {
		m.Peer = to
	} else {
		m.Peer = from
	}
	m.SDP = strings.Contains(strings.ToLower(ctype), "application/sdp")
	// Anyone can send us SIP: what it carries is drawn without its control characters (an
	// escape sequence in a header, a Call-ID or a body would reach the terminal). Lines stay
	// lines; the text is kept for the export (Ctrl+S) as it came.
	m.Method, m.Reason, m.CallID, m.Peer = common.Clean(m.Method), common.Clean(m.Reason), common.Clean(m.CallID), common.Clean(m.Peer)
	return m, true
}

// Shown is the message's text as the pane draws it: each line without control characters.
func (m Message) Shown() string {
	lines := strings.Split(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = common.Clean(strings.TrimRight(l, "\r"))
	}
	return strings.Join(lines, "\n")
}

// headers returns the addresses of From and To (without display name or tag) and the
// Content-Type.
func headers(msg string) (from, to, ctype string) {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	for l := range strings.Lines(head) {
		name, v, ok := strings.Cut(strings.TrimRight(l, "\r\n"), ":")
		if !ok {
			continue
		}
		name, v = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(v)
		switch name {
		case "from", "f":
			from = addrOf(v)
		case "to", "t":
			to = addrOf(v)
		case "content-type", "c":
			ctype = v
		}
	}
	return from, to, ctype
}

// addrOf is the URI of a name-addr or addr-spec, without parameters.
func addrOf(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			return v[:j]
		}
		return v
	}
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// Body returns the message's body (after the blank line ending the headers), "" if none.
func Body(msg string) string {
	if _, b, ok := strings.Cut(msg, "\r\n\r\n"); ok {
		return b
	}
	if _, b, ok := strings.Cut(msg, "\n\n"); ok {
		return b
	}
	return ""
}
