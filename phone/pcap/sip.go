package pcap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Reading SIP back out of a capture, for `dialtone trace`: UDP datagrams that hold a SIP
// message, and SIP messages framed by Content-Length in each direction of a TCP connection
// (segments taken in file order: the captures this reads are dialtone's own, or taken next to
// a phone, where TCP rarely reorders).

// Comments on the SIP packets dialtone writes, so a reader knows which side was dialtone.
const (
	CommentSent     = "dialtone sent"
	CommentReceived = "dialtone received"
)

// maxStream bounds what is buffered of one TCP direction while waiting for the rest of a
// message; past it, the buffer is dropped (not SIP, or a message too big to be real).
const maxStream = 256 << 10

// SIPMessage is one SIP message found in a capture.
type SIPMessage struct {
	Time      time.Time
	Transport string // "UDP" or "TCP"
	Src, Dst  netip.AddrPort
	// Sent is true when dialtone sent it and Received when dialtone received it (from the
	// packet's comment); both false in others' captures.
	Sent, Received bool
	Request        bool
	Method         string // the request's method, or a response's CSeq method
	Status         int    // a response's status code
	Reason         string // a response's reason phrase
	RequestURI     string
	CallID, CSeq   string
	Text           []byte // the whole message
}

// Summary is the method, or the status code and reason.
func (m SIPMessage) Summary() string {
	if m.Request {
		return m.Method
	}
	return strings.TrimSpace(strconv.Itoa(m.Status) + " " + m.Reason)
}

type tcpStream struct {
	Framer
}

// ReadSIP calls fn with every SIP message in the capture r, in file order. It stops at fn's
// first error and returns it.
func ReadSIP(r io.Reader, fn func(SIPMessage) error) error {
	rd, err := NewReader(r)
	if err != nil {
		return err
	}
	streams := map[flow]*tcpStream{}
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		d, ok := Decode(p)
		if !ok || len(d.Payload) == 0 {
			continue
		}
		if !d.TCP {
			if m, ok := ParseSIP(d.Payload); ok {
				if err := fn(d.fill(m, "UDP")); err != nil {
					return err
				}
			}
			continue
		}
		f := flow{d.Src, d.Dst}
		st := streams[f]
		if st == nil {
			if len(streams) >= 4096 {
				clear(streams) // bounded: a capture of a scan or a flood
			}
			st = &tcpStream{}
			streams[f] = st
		}
		st.Write(d.Payload)
		for {
			msg, ok := st.Next()
			if !ok {
				break
			}
			if m, ok := ParseSIP(msg); ok {
				if err := fn(d.fill(m, "TCP")); err != nil {
					return err
				}
			}
		}
		if rest := st.Pending(); len(rest) > maxStream || len(rest) > 0 && !startsLikeSIP(rest) {
			st.Reset()
		}
	}
}

func (d Datagram) fill(m SIPMessage, transport string) SIPMessage {
	m.Time, m.Transport, m.Src, m.Dst = d.Time, transport, d.Src, d.Dst
	m.Sent, m.Received = d.Comment == CommentSent, d.Comment == CommentReceived
	m.Text = bytes.Clone(m.Text)
	return m
}

// startsLikeSIP reports whether b (CRLFs aside) could be the start of a SIP message: a
// partial first line is given the benefit of the doubt while it is short.
func startsLikeSIP(b []byte) bool {
	b = bytes.TrimLeft(b, "\r\n")
	line, _, full := bytes.Cut(b, []byte("\n"))
	if !full {
		return len(b) < 1024 && (bytes.HasPrefix(b, []byte("SIP/")) || isToken(bytes.TrimRight(bytes.SplitN(b, []byte(" "), 2)[0], "\r")))
	}
	_, ok := parseFirstLine(string(bytes.TrimRight(line, "\r")))
	return ok
}

// ParseSIP parses the first line and the Call-ID and CSeq of a SIP message; ok is false when
// b is not one.
func ParseSIP(b []byte) (m SIPMessage, ok bool) {
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	m, ok = parseFirstLine(string(bytes.TrimRight(line, "\r")))
	if !ok {
		return m, false
	}
	for l := range bytes.Lines(rest) {
		l = bytes.TrimRight(l, "\r\n")
		if len(l) == 0 {
			break
		}
		name, v, found := bytes.Cut(l, []byte(":"))
		if !found {
			continue
		}
		name, v = bytes.TrimSpace(name), bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(name, []byte("Call-ID")) || bytes.EqualFold(name, []byte("i")):
			m.CallID = string(v)
		case bytes.EqualFold(name, []byte("CSeq")):
			m.CSeq = string(v)
			if f := strings.Fields(m.CSeq); !m.Request && len(f) == 2 {
				m.Method = f[1]
			}
		}
	}
	m.Text = b
	return m, true
}

// parseFirstLine parses a request line or a status line.
func parseFirstLine(line string) (m SIPMessage, ok bool) {
	if rest, isResp := strings.CutPrefix(line, "SIP/2.0 "); isResp {
		code, reason, _ := strings.Cut(rest, " ")
		n, err := strconv.Atoi(code)
		if err != nil || len(code) != 3 || n < 100 || n > 699 {
			return m, false
		}
		return SIPMessage{Status: n, Reason: reason}, true
	}
	f := strings.Split(line, " ")
	if len(f) != 3 || f[2] != "SIP/2.0" || !isToken([]byte(f[0])) || f[1] == "" {
		return m, false
	}
	return SIPMessage{Request: true, Method: f[0], RequestURI: f[1]}, true
}

// isToken reports whether b is a SIP method token (RFC 3261 §25.1).
func isToken(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return true
}

// String is a one-line description, for errors and logs.
func (m SIPMessage) String() string {
	return fmt.Sprintf("%s %s %s -> %s %s", m.Time.Format(time.RFC3339Nano), m.Transport, m.Src, m.Dst, m.Summary())
}
