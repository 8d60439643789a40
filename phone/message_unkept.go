package phone

import (
	"strconv"

	"github.com/emiago/sipgo/sip"
)

// unkeptRetryAfter is the Retry-After (seconds) of a MESSAGE refused because nothing could keep
// or show it: a full disk is freed on a person's time scale, not a retransmission's.
const unkeptRetryAfter = 60

// unkeptMessage answers an incoming MESSAGE that the history could not store or look up (a
// full disk, an I/O error). RFC 3428 section 7: a 200 says the message reached the user agent,
// not that it was kept. So while a front end is subscribed, the message is shown and answered
// 200, as when the phone has no history at all, and the store's owner reports the failure
// (once, not per message). With no subscriber nobody would see it and nothing would keep it: a
// 200 would lose it silently, so the sender gets 500 with Retry-After and knows to send it
// again. Without the store, a MESSAGE repeated as a new transaction is recognised in memory.
func (p *Phone) unkeptMessage(err error, key string, m Message, respond func(int, string, ...sip.Header)) {
	if !p.bus.hasSubscribers() {
		p.log.Warn("incoming MESSAGE refused: the history cannot keep it and no front end shows it", "peer", m.Peer, "err", err)
		respond(500, "Server Internal Error", sip.NewHeader("Retry-After", strconv.Itoa(unkeptRetryAfter)))
		return
	}
	p.log.Info("incoming MESSAGE shown but not stored", "peer", m.Peer, "err", err)
	if !p.recent.seen(key, m.Time) { // a repeat as a new transaction is answered, not shown again
		p.publish(m) // shown before it is answered, as a stored one (message.go)
	}
	respond(200, "OK")
}

// hasSubscribers says whether any front end receives the events published now.
func (b *bus) hasSubscribers() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs) > 0
}
