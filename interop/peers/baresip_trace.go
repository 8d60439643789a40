package peers

import (
	"net"
	"strconv"
	"strings"
)

// BaresipSIPMessage is one SIP message from baresip's SIP trace (-s).
type BaresipSIPMessage struct {
	// Sent is true for messages baresip sent, false for those it received.
	Sent bool
	// Transport is "UDP", "TCP" or "TLS"; Src and Dst are "IP:PORT".
	Transport, Src, Dst string
	// Text is the whole message with CRLF line ends as on the wire.
	Text string
}

// FirstLine is the request or status line, e.g. "SIP/2.0 488 Not Acceptable Here".
func (m BaresipSIPMessage) FirstLine() string { return firstLine(m.Text) }

// Body is what follows the header section ("" when there is none).
func (m BaresipSIPMessage) Body() string {
	_, body, ok := strings.Cut(m.Text, "\r\n\r\n")
	if !ok {
		_, body, _ = strings.Cut(m.Text, "\n\n")
	}
	return body
}

// IsRequest tells a request from a response.
func (m BaresipSIPMessage) IsRequest() bool { return !strings.HasPrefix(m.Text, "SIP/2.0 ") }

// Method is the request method, or the CSeq method of a response.
func (m BaresipSIPMessage) Method() string {
	if m.IsRequest() {
		method, _, _ := strings.Cut(m.Text, " ")
		return method
	}
	for _, line := range strings.Split(m.Text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		name, val, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "CSeq") {
			f := strings.Fields(val)
			if len(f) == 2 {
				return f[1]
			}
		}
	}
	return ""
}

// StatusCode is a response's status code (0 for a request).
func (m BaresipSIPMessage) StatusCode() int {
	if m.IsRequest() {
		return 0
	}
	f := strings.Fields(m.FirstLine())
	if len(f) < 2 {
		return 0
	}
	code, _ := strconv.Atoi(f[1])
	return code
}

// SIPTrace parses the SIP trace in baresip's log: every SIP message sent or
// received so far, in order. Baresip 1.0 prints each as
// "\x1b[36;1m#\n<TRANSPORT> <src> -> <dst>\n<message>\x1b[;m" without
// saying which way it went. A message from or to baresip's own listeners
// (SIP port for UDP/TCP, SIP port + 1 for TLS) is decided by that; on a
// connection baresip opened itself (to a registrar, say) it spoke first, so
// the source of the first message seen between two unknown ends is baresip's.
func (b *Baresip) SIPTrace() []BaresipSIPMessage {
	return parseBaresipTrace(b.Log(), []string{
		net.JoinHostPort(b.opts.IP, strconv.Itoa(b.sipPort)),
		net.JoinHostPort(b.opts.IP, strconv.Itoa(b.sipPort+1)),
	})
}

const (
	traceStart = "\x1b[36;1m#\n"
	traceEnd   = "\x1b[;m"
)

func parseBaresipTrace(log string, local []string) []BaresipSIPMessage {
	mine := map[string]bool{}
	for _, a := range local {
		mine[a] = true
	}
	var out []BaresipSIPMessage
	for rest := log; ; {
		i := strings.Index(rest, traceStart)
		if i < 0 {
			break
		}
		rest = rest[i+len(traceStart):]
		block := rest
		if j := strings.Index(rest, traceEnd); j >= 0 {
			block, rest = rest[:j], rest[j:]
		} else {
			rest = "" // a message still being written: take what is there
		}
		head, text, ok := strings.Cut(block, "\n")
		f := strings.Fields(head)
		if !ok || len(f) != 4 || f[2] != "->" {
			continue
		}
		m := BaresipSIPMessage{Transport: f[0], Src: f[1], Dst: f[3], Text: text}
		switch {
		case mine[m.Src]:
			m.Sent = true
		case mine[m.Dst]:
		default:
			// A connection not seen before, not to one of our listeners:
			// baresip opened it and speaks first.
			mine[m.Src] = true
			m.Sent = true
		}
		out = append(out, m)
	}
	return out
}

// SentSDPs returns the SDP bodies baresip sent (offers in INVITEs, answers
// in responses), oldest first. Retransmissions (a 200 resent until the ACK
// comes, byte for byte the same message) count once; SIPTrace has them all.
func (b *Baresip) SentSDPs() []string { return b.sdps(true) }

// ReceivedSDPs returns the SDP bodies baresip received, oldest first,
// retransmissions counting once.
func (b *Baresip) ReceivedSDPs() []string { return b.sdps(false) }

func (b *Baresip) sdps(sent bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range b.SIPTrace() {
		if m.Sent != sent || !strings.HasPrefix(m.Body(), "v=0") || seen[m.Text] {
			continue
		}
		seen[m.Text] = true
		out = append(out, m.Body())
	}
	return out
}
