package main

import (
	"strings"
	"sync"

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
// it: past that the bytes are passed on as they came (a peer that is not speaking SIP).
const framedPending = 64 << 10

// framedMaxConns bounds the connections followed at once.
const framedMaxConns = 1024

type framedTracer struct {
	next    sip.SIPTracer
	mu      sync.Mutex
	streams map[string][]byte // a connection's bytes read and not yet a whole message
}

// framed wraps next so that it gets whole messages from stream transports.
func framed(next sip.SIPTracer) sip.SIPTracer {
	return &framedTracer{next: next, streams: map[string][]byte{}}
}

// SIPTraceWrite passes what sipgo writes on: a whole message each time.
func (f *framedTracer) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	f.next.SIPTraceWrite(transport, laddr, raddr, msg)
}

func (f *framedTracer) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	if strings.EqualFold(transport, "UDP") { // a datagram is one message
		f.next.SIPTraceRead(transport, laddr, raddr, msg)
		return
	}
	key := transport + " " + laddr + " " + raddr
	f.mu.Lock()
	buf := append(f.streams[key], msg...)
	var whole [][]byte
	for {
		m, rest, ok := pcap.FrameSIP(buf)
		if !ok {
			buf = rest
			break
		}
		whole = append(whole, m)
		buf = rest
	}
	if len(buf) > framedPending {
		whole, buf = append(whole, buf), nil
	}
	switch {
	case len(buf) == 0:
		delete(f.streams, key)
	case len(f.streams) < framedMaxConns || f.streams[key] != nil:
		f.streams[key] = append([]byte(nil), buf...)
	default:
		whole = append(whole, buf) // too many connections to follow: as it came
	}
	f.mu.Unlock()
	for _, m := range whole {
		f.next.SIPTraceRead(transport, laddr, raddr, m)
	}
}
