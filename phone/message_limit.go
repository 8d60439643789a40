package phone

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/dialtone/dialtone/phone/sipaddr"
	"github.com/emiago/sipgo/sip"
)

// Incoming MESSAGEs are stored as they come (the history is the user's), each write a disk
// sync. Anyone who can reach the phone can send them, and nothing bounded them: a flood (a
// broken peer looping, a spammer) filled the disk and the message list. Each sender now has a
// budget, and all senders together another, refilled over time; a MESSAGE beyond either gets
// 480 Temporarily Unavailable with a Retry-After, is neither stored nor shown, and the sender
// can try again. The log says so once when refusals start, then with a count once a minute at
// most, whatever the number of senders a flood makes up. A person typing, or a client that splits a pasted text into a few messages,
// never comes near them.
const (
	msgPeerBurst = 30 // messages a sender may send at once
	msgPeerRate  = 2  // and per second after that
	msgAllBurst  = 100
	msgAllRate   = 10
	// msgPeersKept bounds the senders remembered: one whose budget is full again is as good as
	// forgotten, and beyond this many the fullest are forgotten first.
	msgPeersKept = 256
)

// msgWarnEvery is how often a flood is logged at most: once when refusals start, then a count.
const msgWarnEvery = time.Minute

// tokenBucket holds up to burst tokens, refilled at rate a second.
type tokenBucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func (b *tokenBucket) fill(now time.Time, burst, rate float64) {
	if b.at.IsZero() {
		b.tokens, b.at = burst, now
		return
	}
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.tokens = min(burst, b.tokens+dt*rate)
	}
	b.at = now
}

// wait is how long until b holds a token again, at rate a second.
func (b *tokenBucket) wait(rate float64) time.Duration {
	return time.Duration(math.Ceil((1-b.tokens)/rate*1e3)) * time.Millisecond
}

// take fills b at now and takes a token: 0 when there was one, else how long until there is.
func (b *tokenBucket) take(now time.Time, burst, rate float64) time.Duration {
	b.fill(now, burst, rate)
	if b.tokens < 1 {
		return b.wait(rate)
	}
	b.tokens--
	return 0
}

// messageLimit is the incoming MESSAGE budget: one per sender and one for all.
type messageLimit struct {
	mu      sync.Mutex
	all     tokenBucket
	peers   map[string]*tokenBucket
	warned  time.Time // when a refusal was last logged
	refused int       // refusals since
}

// allow takes a token for a MESSAGE from peer at now, or says how long until there is one and,
// at most once per msgWarnEvery however many senders a flood makes up, how many were refused
// since the last such report (warn), made at since (zero for the first).
func (l *messageLimit) allow(peer string, now time.Time) (ok bool, wait time.Duration, warn int, since time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers == nil {
		l.peers = map[string]*tokenBucket{}
	}
	l.all.fill(now, msgAllBurst, msgAllRate)
	b := l.peers[peer]
	if b == nil {
		l.forget(now)
		b = &tokenBucket{}
		l.peers[peer] = b
	}
	b.fill(now, msgPeerBurst, msgPeerRate)
	switch {
	case b.tokens < 1:
		wait = b.wait(msgPeerRate)
	case l.all.tokens < 1:
		wait = l.all.wait(msgAllRate)
	default:
		b.tokens--
		l.all.tokens--
		return true, 0, 0, time.Time{}
	}
	l.refused++
	if l.warned.IsZero() || now.Sub(l.warned) >= msgWarnEvery || now.Before(l.warned) {
		warn, since, l.refused, l.warned = l.refused, l.warned, 0, now
	}
	return false, wait, warn, since
}

// forget drops the senders whose budget is full again and, if there are still msgPeersKept of
// them, the one with the most left: room for one more.
func (l *messageLimit) forget(now time.Time) {
	if len(l.peers) < msgPeersKept {
		return
	}
	var fullest string
	most := -1.0
	for k, b := range l.peers {
		b.fill(now, msgPeerBurst, msgPeerRate)
		if b.tokens >= msgPeerBurst {
			delete(l.peers, k)
			continue
		}
		if b.tokens > most {
			fullest, most = k, b.tokens
		}
	}
	if len(l.peers) >= msgPeersKept {
		delete(l.peers, fullest)
	}
}

// withinMessageLimit takes m (a new MESSAGE, not a copy of one taken) out of the budget, or
// answers it 480 with a Retry-After and says so.
func (p *Phone) withinMessageLimit(m Message, respond func(int, string, ...sip.Header)) bool {
	ok, wait, warn, since := p.msgLimit.allow(sipaddr.Normalize(m.Peer), m.Time)
	if ok {
		return true
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	if warn > 0 {
		attrs := []any{"refused", warn, "last_from", m.Peer}
		if !since.IsZero() {
			attrs = append(attrs, "since", since.Format(time.RFC3339))
		}
		p.log.Warn("incoming MESSAGEs refused: more than the limit", append(attrs,
			"per_sender", fmt.Sprintf("%d at once, %d/s", msgPeerBurst, msgPeerRate),
			"all", fmt.Sprintf("%d at once, %d/s", msgAllBurst, msgAllRate), "next_report_in", msgWarnEvery)...)
	}
	respond(480, "Temporarily Unavailable", sip.NewHeader("Retry-After", strconv.Itoa(secs)))
	return false
}
