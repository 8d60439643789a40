package main

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/phone/pcap"
)

// sipgo reports a message it sent after the write returns, so the answer to it can be reported
// first (the far end answered while the sending goroutine had not yet logged): a 180 before
// its INVITE, a 200 before its BYE. The capture and the --sip-trace file put them back in
// causal order: a received response waits until the request with its Via branch has been
// written, a received ACK until the final response it acknowledges has; either waits at most
// sipHold, and whatever was received after it waits behind it, so received messages keep
// their own order.

// sipHold bounds how long a received message waits for the message that caused it.
const sipHold = 100 * time.Millisecond

// sipOrder is the reordering of SIP messages for one file. Each message comes with the write
// that puts it in the file at a given time, called with the order's lock held.
type sipOrder struct {
	mu      sync.Mutex
	written map[string]time.Time // what sent messages satisfied (sipKey), and when
	queue   []heldSIP
	timer   *time.Timer
	last    time.Time // the last time written: held messages never go before it
}

// writeSIP puts msg in the file as of at.
type writeSIP func(at time.Time, msg []byte)

type heldSIP struct {
	at, deadline time.Time
	msg          []byte
	write        writeSIP
	waitFor      string
}

// sent writes a message dialtone sent, then what was waiting for it.
func (o *sipOrder) sent(msg []byte, write writeSIP) {
	at := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	at = laterOf(at, o.last)
	o.last = at
	write(at, msg)
	if k := sipKey(msg, true); k != "" {
		if o.written == nil {
			o.written = map[string]time.Time{} // the zero sipOrder is ready to use
		}
		if len(o.written) >= 4096 {
			clear(o.written) // bounded; what waits then waits at most sipHold
		}
		o.written[k] = at
	}
	o.release(false)
}

// received writes a message dialtone received, or holds it until what caused it is written.
func (o *sipOrder) received(msg []byte, write writeSIP) {
	at := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	k := sipKey(msg, false)
	if _, done := o.written[k]; done {
		k = ""
	}
	if k == "" && len(o.queue) == 0 {
		o.last = laterOf(at, o.last)
		write(o.last, msg)
		return
	}
	o.queue = append(o.queue, heldSIP{at: at, deadline: at.Add(sipHold), write: write,
		msg: bytes.Clone(msg), waitFor: k}) // sipgo reuses its buffer once the hook returns
	o.release(len(o.queue) > 256)
	if len(o.queue) > 0 && o.timer == nil {
		o.timer = time.AfterFunc(time.Until(o.queue[0].deadline), o.expire)
	}
}

// release writes the held messages at the head of the queue whose cause is written (or whose
// wait is over, or all with force). Called with mu held.
func (o *sipOrder) release(force bool) {
	now := time.Now()
	for len(o.queue) > 0 {
		h := o.queue[0]
		cause, ok := o.written[h.waitFor]
		if h.waitFor != "" && !ok && !force && now.Before(h.deadline) {
			return
		}
		at := laterOf(h.at, o.last) // after its cause (and all before it) in the file, and in time
		if ok {
			at = laterOf(at, cause)
		}
		o.last = at
		h.write(at, h.msg)
		o.queue[0] = heldSIP{}
		o.queue = o.queue[1:]
	}
}

// expire runs when the head of the queue has waited sipHold.
func (o *sipOrder) expire() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.timer = nil
	o.release(false)
	if len(o.queue) > 0 {
		o.timer = time.AfterFunc(time.Until(o.queue[0].deadline), o.expire)
	}
}

// flush writes everything held (before the capture closes).
func (o *sipOrder) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	o.release(true)
}

// sipKey is what a sent message satisfies, or what a received one waits for: a request and
// the responses to it share "via <branch>"; a final response to an INVITE and the ACK for it
// share "ack <Call-ID> <CSeq number>". "" for anything else (and for what does not parse, such
// as part of a message read from TCP).
func sipKey(msg []byte, sent bool) string {
	m, ok := pcap.ParseSIP(msg)
	if !ok {
		return ""
	}
	num, method, _ := strings.Cut(m.CSeq, " ")
	switch {
	case m.Request == sent && m.Method != "ACK": // our request, or a response to one
		if b := topBranch(msg); b != "" {
			return "via " + b
		}
	case sent && !m.Request && m.Status >= 200 && strings.TrimSpace(method) == "INVITE",
		!sent && m.Request && m.Method == "ACK":
		return "ack " + m.CallID + " " + num
	}
	return ""
}

// topBranch is the branch parameter of the first Via.
func topBranch(msg []byte) string {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	for v := range pcap.HeaderValues(head, "Via", "v") {
		first, _, _ := bytes.Cut(v, []byte(","))
		for _, p := range bytes.Split(first, []byte(";")) {
			k, val, _ := bytes.Cut(bytes.TrimSpace(p), []byte("="))
			if bytes.EqualFold(k, []byte("branch")) {
				return string(bytes.TrimSpace(val))
			}
		}
		return ""
	}
	return ""
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
