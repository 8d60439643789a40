package main

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialtone/dialtone/phone/pcap"
)

// sipgo reports what it reads from a TCP or TLS connection one read at a time: part of a
// message, or two. Masked read by read, an SRTP key split across two reads reached --pcap,
// --sip-trace and the log pane in clear (neither half matched "inline:KEY"), and a body made
// shorter by the mask could not be recounted, so the capture's stream lost its framing. So the
// tracers get whole messages: framedTracer keeps each connection's bytes until a message is
// complete (its Content-Length), and hands the messages on one by one.

// framedPending bounds what framedTracer keeps of one connection without a whole message in
// it: the most a message may be (pcap's framing, 256 KiB) and its headers; past that the bytes
// are passed on as they came (a peer that is not speaking SIP).
const framedPending = 256<<10 + 16<<10

// framedMaxConns bounds the connections followed at once.
const framedMaxConns = 1024

// framedIdle is how long a connection's partial message waits for the rest: sipgo says nothing
// when a connection closes, and what it read last is passed on rather than lost.
const framedIdle = 30 * time.Second

type framedTracer struct {
	next    sip.SIPTracer
	mu      sync.Mutex
	streams map[string]*partial // a connection's bytes read and not yet a whole message
	swept   time.Time
	now     func() time.Time
}

// partial is what a connection read that is not a whole message yet.
type partial struct {
	transport, laddr, raddr string
	frames                  pcap.Framer
	at                      time.Time // the last read
}

// framed wraps next so that it gets whole messages from stream transports.
func framed(next sip.SIPTracer) *framedTracer {
	return &framedTracer{next: next, streams: map[string]*partial{}, now: time.Now}
}

// flush passes on what every connection holds (at exit, and for connections idle too long).
func (f *framedTracer) flush() { f.passOn(f.take(func(*partial) bool { return true })) }

// take removes and returns the partial messages keep says to.
func (f *framedTracer) take(keep func(*partial) bool) []*partial {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*partial
	for k, p := range f.streams {
		if keep(p) {
			out = append(out, p)
			delete(f.streams, k)
		}
	}
	return out
}

func (f *framedTracer) passOn(ps []*partial) {
	for _, p := range ps {
		f.next.SIPTraceRead(p.transport, p.laddr, p.raddr, p.frames.Pending())
	}
}

// SIPTraceWrite passes what sipgo writes on: a whole message each time.
func (f *framedTracer) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	f.next.SIPTraceWrite(transport, laddr, raddr, msg)
}

func (f *framedTracer) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	now := f.now()
	f.mu.Lock()
	sweep := now.Sub(f.swept) > framedIdle/3 && len(f.streams) > 0
	if sweep {
		f.swept = now
	}
	f.mu.Unlock()
	if sweep {
		f.passOn(f.take(func(p *partial) bool { return now.Sub(p.at) > framedIdle }))
	}
	if strings.EqualFold(transport, "UDP") { // a datagram is one message
		f.next.SIPTraceRead(transport, laddr, raddr, msg)
		return
	}
	key := transport + " " + laddr + " " + raddr
	f.mu.Lock()
	p := f.streams[key]
	if (p == nil || len(p.frames.Pending()) == 0) && len(bytes.Trim(msg, "\r\n")) == 0 {
		// A keep-alive (RFC 5626: our CRLFCRLF ping's CRLF pong) is not part of a message:
		// shown as it came, as before, not trimmed away as the space between two.
		f.mu.Unlock()
		f.next.SIPTraceRead(transport, laddr, raddr, msg)
		return
	}
	if p == nil {
		p = &partial{transport: transport, laddr: laddr, raddr: raddr}
	}
	p.frames.Write(msg) // kept by the framer, which sipgo's buffer is not: it reads into it again
	p.at = now
	var whole [][]byte
	for {
		m, ok := p.frames.Next()
		if !ok {
			break
		}
		whole = append(whole, m) // the framer never writes over a message it gave
	}
	if rest := p.frames.Pending(); len(rest) > framedPending {
		whole = append(whole, rest)
		p.frames.Reset()
	}
	switch rest := p.frames.Pending(); {
	case len(rest) == 0:
		delete(f.streams, key)
	case len(f.streams) < framedMaxConns || f.streams[key] != nil:
		f.streams[key] = p
	default:
		whole = append(whole, rest) // too many connections to follow: as it came
	}
	f.mu.Unlock()
	for _, m := range whole {
		f.next.SIPTraceRead(transport, laddr, raddr, m)
	}
}

// traceTo makes t sipgo's tracer, framed (whole messages from TCP and TLS), and remembers the
// framer so that what it holds is passed on at exit (flushTrace).
func (e *env) traceTo(t sip.SIPTracer) {
	f := framed(t)
	e.framer.Store(f)
	sip.SIPDebugTracer(f)
	sip.SIPDebug = true
}

// flushTrace passes on what the tracer holds of messages not whole yet (a connection that
// closed in the middle of one); called before the trace files and the capture close.
func (e *env) flushTrace() {
	if f := e.framer.Load(); f != nil {
		f.flush()
	}
}
