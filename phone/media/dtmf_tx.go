package media

import (
	"errors"
	"fmt"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// RFC 4733 sending. Each digit is one event: its packets all carry the RTP timestamp of the
// event's start, the first has the marker bit, each reports the duration so far (growing by
// one 20 ms frame per packet), and the last, with the E bit and the final duration, is sent
// three times (§2.5.1.4, for loss). While an event is in progress it replaces the audio
// packets of the same time (§2.5.1.2: Asterisk and baresip do the same); sequence numbers and
// timestamps are the audio stream's, so the far end's jitter buffer sees no gap.
const (
	// DTMFDuration is how long each sent digit lasts: longer than the 40 ms ITU-T Q.24
	// minimum with room to spare, short enough for IVRs that expect typing speed.
	DTMFDuration = 120 * time.Millisecond
	// DTMFGap is the silence between the end of one digit and the start of the next (Q.24
	// asks for at least 40 ms; some gateways merge digits closer than ~60 ms).
	DTMFGap = 100 * time.Millisecond
	// DTMFPause is what a ',' in a digit string waits, as on phones' dialling strings.
	DTMFPause = 500 * time.Millisecond

	dtmfEndRepeats = 3
	dtmfVolume     = 10  // -10 dBm0, the level RFC 4733 examples and most phones use
	maxDTMFQueue   = 256 // digits waiting to be sent; more is a runaway script
)

const frameDur = codec.FrameMillis * time.Millisecond

// dtmfSender is the sender's event state; only the pacer goroutine touches it.
type dtmfSender struct {
	event   uint8
	ts      uint32 // the event's start, carried by all of its packets
	elapsed uint16 // duration so far, in timestamp units
	ends    int    // End packets sent so far
	active  bool
	next    uint32 // the stream timestamp of the frame the next packet belongs to
	cut     bool   // the stream stopped mid-event (hold): end it at the duration reached
	wait    int    // frames to let pass before the next queued digit (gap after a digit, ',' pause)
}

// ValidDTMF checks a digit string before anything is queued: 0-9 * # A-D (a-d too), and ','
// for a pause. An empty string is an error too: it would silently do nothing.
func ValidDTMF(digits string) error {
	if digits == "" {
		return errors.New("dtmf: no digits")
	}
	for _, d := range digits {
		if d == ',' {
			continue
		}
		if _, ok := codec.DigitEvent(d); !ok {
			return fmt.Errorf("dtmf: %q is not a DTMF digit (0-9, *, #, A-D, ',' pauses)", d)
		}
	}
	return nil
}

// SendDTMF queues a digit (or ',' for a DTMFPause) to send as RFC 4733 events.
func (s *Session) SendDTMF(digit rune) error {
	return s.SendDTMFString(string(digit))
}

// SendDTMFString queues digits to send as RFC 4733 events, all or none: a bad digit anywhere
// queues nothing. It returns at once; the digits go out one by one with the stream's pacing.
func (s *Session) SendDTMFString(digits string) error {
	if err := ValidDTMF(digits); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.params.DTMFPT < 0 {
		return errors.New("dtmf: the far end did not negotiate telephone-event")
	}
	if len(s.dtmfQueue)+len(digits) > maxDTMFQueue {
		return fmt.Errorf("dtmf: %d digits already waiting to be sent", len(s.dtmfQueue))
	}
	s.dtmfQueue = append(s.dtmfQueue, []rune(digits)...)
	return nil
}

func (s *Session) nextDTMF() (rune, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dtmfQueue) == 0 {
		return 0, false
	}
	d := s.dtmfQueue[0]
	s.dtmfQueue = s.dtmfQueue[1:]
	return d, true
}

// dtmfPacket fills pkt with the next RFC 4733 packet if a digit is being sent; false means
// this frame carries audio.
func (t *sender) dtmfPacket(s *Session, p Params, pkt *rtp.Packet, buf []byte) bool {
	d := &t.dtmf
	if p.DTMFPT < 0 {
		return false
	}
	if !d.active {
		if d.wait > 0 {
			d.wait--
			return false
		}
		digit, ok := s.nextDTMF()
		if !ok {
			return false
		}
		if digit == ',' {
			d.wait = int(DTMFPause/frameDur) - 1 // this frame is the pause's first
			return false
		}
		ev, _ := codec.DigitEvent(digit)
		// Audio packed before the digit (a=ptime of 30-60 ms) comes before it in time: it
		// leaves now, as a shorter packet, instead of being dropped (tx_pack.go).
		t.flushPacked(s, p, pkt, buf)
		*d = dtmfSender{event: ev, ts: t.ts, next: t.ts, active: true}
		pkt.Marker = true // the start of an event (§2.5.1.3)
	}
	if t.ts != d.next {
		// Frames went unsent mid-event (the call was put on hold): growing the duration
		// over the gap would make one long key press of it, so the event ends now with
		// the duration the far end last heard.
		d.cut = true
	}
	// Durations count in the telephone-event clock: the codec's RTP clock (8000 for G.711
	// and G.722, 48000 for Opus), so they step with the timestamps, unless the SDP gave
	// telephone-event another rate (Params.DTMFRate).
	d.next = t.ts + tsStep(p.Codec)
	rate := p.DTMFRate
	if rate <= 0 {
		rate = clockRate(p.Codec)
	}
	step := uint32(rate / 1000 * codec.FrameMillis)
	total := uint16(int64(DTMFDuration) * int64(rate) / int64(time.Second))
	if d.elapsed < total && !d.cut {
		d.elapsed = uint16(min(uint32(d.elapsed)+step, uint32(total)))
	}
	end := d.elapsed >= total || d.cut
	e := codec.DTMFEvent{Event: d.event, End: end, Volume: dtmfVolume, Duration: d.elapsed}
	n, err := e.MarshalTo(buf[rtpHeaderRoom:])
	if err != nil { // cannot happen with a constant volume and a 1500-byte buffer
		d.active = false
		return false
	}
	if end {
		d.ends++
		if d.ends >= dtmfEndRepeats {
			d.active = false
			d.wait = max(int(DTMFGap/frameDur)-(dtmfEndRepeats-1), 0) // the End repeats are part of the gap
		}
	}
	pkt.PayloadType = uint8(p.DTMFPT)
	pkt.Timestamp = d.ts
	pkt.Payload = buf[rtpHeaderRoom : rtpHeaderRoom+n]
	return true
}
