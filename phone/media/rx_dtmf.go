package media

import (
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// The receive side's DTMF: RFC 4733 telephone-events, each SSRC's to a receiver of its own.

// dtmfSlot is the DTMF receiver of one SSRC's telephone-events.
type dtmfSlot struct {
	ssrc    uint32
	used    bool
	at      time.Time // when its last event packet came
	endedAt time.Time // when the End of its last event first came (zero while it runs)
	rx      dtmfReceiver
}

// dtmfCrossEnded is how long after the other SSRC's event ended the same digit here is still
// taken for the same key press (its End crossed the first packet here): a B2BUA that changed
// the SSRC at the end of an event. Key presses are at least 40 ms apart (ITU-T Q.24), so a
// repeated key ("55") is two digits.
const dtmfCrossEnded = 40 * time.Millisecond

// dtmfCrossRunning is how long an event with no End yet still runs after its last packet: a
// sender repeats it every 50 ms at most (RFC 4733 §2.5.1.2), and one whose stream moved to
// another SSRC in mid-event never ends here.
const dtmfCrossRunning = 120 * time.Millisecond

// digit hands a telephone-event packet that came at now to the DTMF receiver of its SSRC (a
// new SSRC's timestamps start anywhere, so its events are its own) and reports a new digit,
// unless it is the event the other SSRC's receiver is in the middle of (a sender that sends
// its events on both streams, or a B2BUA that changed the SSRC in mid-event).
func (r *receiver) digit(s *Session, pkt *rtp.Packet, now time.Time) {
	i := 0
	switch {
	case r.dtmf[0].used && r.dtmf[0].ssrc == pkt.SSRC:
	case r.dtmf[1].used && r.dtmf[1].ssrc == pkt.SSRC:
		i = 1
	default:
		if r.dtmf[0].used && (!r.dtmf[1].used || r.dtmf[1].at.Before(r.dtmf[0].at)) {
			i = 1
		}
		r.dtmf[i] = dtmfSlot{ssrc: pkt.SSRC, used: true}
	}
	d, other := &r.dtmf[i], &r.dtmf[1-i]
	d.at = now
	digit, ok := d.rx.handle(pkt.Timestamp, pkt.Payload)
	if ok {
		d.endedAt = time.Time{}
	}
	if d.rx.ended && d.endedAt.IsZero() {
		d.endedAt = now
	}
	if !ok {
		return
	}
	running := !other.rx.ended && now.Sub(other.at) < dtmfCrossRunning
	// The End window only for an event that starts with its End here: its first packets
	// went the other way (a B2BUA that moved the SSRC at the event's end). A new press that
	// starts here with a packet of its own is another digit.
	crossed := other.rx.ended && d.rx.ended && now.Sub(other.endedAt) < dtmfCrossEnded
	if other.used && other.rx.haveLast && (running || crossed) {
		if prev, _ := codec.EventDigit(other.rx.lastEvent); prev == digit {
			return
		}
	}
	s.emit(Event{Digit: digit})
}

// dtmfReceiver turns RFC 4733 event packets into one digit per event. An event is its RTP
// timestamp and event code, sent repeatedly and ended with three End packets. Told apart too:
// a new event with the timestamp of the one before (gateways that stamp events with the last
// audio packet's time while no audio flows), the next segment of an event longer than its
// duration field holds (RFC 4733 §2.5.1.3: the same event at the timestamp plus that
// duration, ~8 s at 8 kHz, 1.4 s at 48 kHz), and a late End of an event before the last.
type dtmfReceiver struct {
	lastTS    uint32
	lastEvent uint8
	lastDur   uint16 // the longest duration the last event reported
	ended     bool   // an End of the last event came
	haveLast  bool
}

// lateEndWindow is how far behind the last event's timestamp an End packet is taken for a late
// one of an earlier event (~8 s at 8 kHz): further back, it is a new stream's (a re-INVITE
// that moved the media, a new SSRC), whose timestamps start anywhere.
const lateEndWindow = 1 << 16

func (d *dtmfReceiver) handle(ts uint32, payload []byte) (rune, bool) {
	ev, err := codec.ParseDTMFEvent(payload)
	if err != nil {
		return 0, false
	}
	if d.haveLast {
		same := ts == d.lastTS && ev.Event == d.lastEvent
		switch {
		case same && (ev.End || !d.ended):
			// A repeat or an End retransmission of the event we reported. (A new press of
			// the same key on the same timestamp starts after the End: a packet without E.)
			d.lastDur, d.ended = max(d.lastDur, ev.Duration), d.ended || ev.End
			return 0, false
		case ev.End && !same && int32(ts-d.lastTS) < 0 && d.lastTS-ts < lateEndWindow:
			return 0, false // a late End of an event shortly before the last
		case ev.Event == d.lastEvent && !d.ended && ts == d.lastTS+uint32(d.lastDur):
			// The next segment of a long event: the same key still held.
			d.lastTS, d.lastDur, d.ended = ts, ev.Duration, ev.End
			return 0, false
		}
	}
	digit, ok := codec.EventDigit(ev.Event)
	if !ok {
		return 0, false
	}
	d.lastTS, d.lastEvent, d.lastDur, d.ended, d.haveLast = ts, ev.Event, ev.Duration, ev.End, true
	return digit, true
}
