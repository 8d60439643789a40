package media

import (
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// dtmfDuration is how long each sent digit lasts; dtmfEndRepeats is how often its End packet
// is sent (RFC 4733 2.5.1.4 asks for three, for loss).
const (
	dtmfDuration   = 100 * time.Millisecond
	dtmfEndRepeats = 3
)

// sender is the source-to-network half of a session. Only the pacer goroutine touches it,
// except the receive-side fields behind mu that RTCP reports need.
type sender struct {
	ssrc      uint32
	seq       uint16
	ts        uint32
	started   bool
	sourceEOF bool
	octets    uint64

	// DTMF in progress.
	dtmfEvent   uint8
	dtmfTS      uint32
	dtmfElapsed uint16 // in timestamp units
	dtmfEnds    int
	dtmfActive  bool

	mu sync.Mutex // guards the receive statistics used by RTCP
	rs rxStats
}

func (t *sender) init() {
	t.ssrc = rand.Uint32()
	t.seq = uint16(rand.Uint32())
	t.ts = rand.Uint32()
}

// sendFrame sends one 20 ms frame: a DTMF event packet while a digit is being sent,
// otherwise encoded audio from the source. Nothing is sent while Send is false, but the
// timestamp keeps running so the far end sees the gap as time.
func (t *sender) sendFrame(s *Session, p Params, pcm []int16, buf []byte, pkt *rtp.Packet) {
	defer func() { t.ts += codec.FrameSamples }()
	if !p.Send || p.Codec == nil || !p.Remote.IsValid() {
		return
	}
	pkt.Header = rtp.Header{Version: 2, SSRC: t.ssrc}
	if t.dtmfPacket(s, p, pkt, buf) {
		t.write(s, p, pkt, buf)
		return
	}
	if p.Muted {
		if p.Source != nil && !t.sourceEOF {
			_ = p.Source.Read(pcm) // keep a file's position moving with time, as if heard
		}
		clear(pcm)
	} else if p.Source != nil && !t.sourceEOF {
		if err := p.Source.Read(pcm); err != nil {
			if errors.Is(err, io.EOF) {
				t.sourceEOF = true
				s.emit(Event{SourceEnded: true})
			} else {
				s.log.Debug("source read", "err", err)
			}
			clear(pcm)
		}
	} else {
		clear(pcm)
	}
	n := p.Codec.EncodeTo(buf[rtpHeaderRoom:], pcm)
	pkt.PayloadType = p.Codec.PayloadType()
	pkt.Timestamp = t.ts
	pkt.Marker = !t.started // first packet of the talkspurt
	pkt.Payload = buf[rtpHeaderRoom : rtpHeaderRoom+n]
	t.write(s, p, pkt, buf)
}

// rtpHeaderRoom leaves space at the front of buf for the marshalled header; the payload is
// encoded after it and the header written in place, so nothing is copied or allocated.
const rtpHeaderRoom = 12

func (t *sender) write(s *Session, p Params, pkt *rtp.Packet, buf []byte) {
	t.seq++
	pkt.SequenceNumber = t.seq
	t.started = true
	// The payload already sits at buf[12:]; marshal the 12-byte header in front of it.
	if _, err := pkt.Header.MarshalTo(buf[:rtpHeaderRoom]); err != nil {
		s.log.Debug("rtp marshal", "err", err)
		return
	}
	dst, _ := s.targets(p)
	if _, err := s.rtpIO.WriteToUDPAddrPort(buf[:rtpHeaderRoom+len(pkt.Payload)], dst); err != nil {
		s.log.Debug("rtp write", "err", err)
		return
	}
	s.stats.sent.Add(1)
	s.stats.lastSent.Store(s.now().UnixNano())
	t.mu.Lock()
	t.octets += uint64(len(pkt.Payload))
	t.mu.Unlock()
}

// dtmfPacket fills pkt with the next RFC 4733 packet if a digit is being sent.
func (t *sender) dtmfPacket(s *Session, p Params, pkt *rtp.Packet, buf []byte) bool {
	if p.DTMFPT < 0 {
		return false
	}
	if !t.dtmfActive {
		digit, ok := s.nextDTMF()
		if !ok {
			return false
		}
		ev, _ := codec.DigitEvent(digit)
		t.dtmfEvent, t.dtmfTS, t.dtmfElapsed, t.dtmfEnds, t.dtmfActive = ev, t.ts, 0, 0, true
		pkt.Marker = true
	}
	total := uint16(dtmfDuration.Milliseconds() * codec.SampleRate / 1000)
	if t.dtmfElapsed < total {
		t.dtmfElapsed += codec.FrameSamples
	}
	end := t.dtmfElapsed >= total
	e := codec.DTMFEvent{Event: t.dtmfEvent, End: end, Volume: 10, Duration: t.dtmfElapsed}
	n, err := e.MarshalTo(buf[rtpHeaderRoom:])
	if err != nil {
		t.dtmfActive = false
		return false
	}
	if end {
		t.dtmfEnds++
		if t.dtmfEnds >= dtmfEndRepeats {
			t.dtmfActive = false
		}
	}
	pkt.PayloadType = uint8(p.DTMFPT)
	pkt.Timestamp = t.dtmfTS // every packet of one event carries the event's start time
	pkt.Payload = buf[rtpHeaderRoom : rtpHeaderRoom+n]
	return true
}
