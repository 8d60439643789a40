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

// sender is the source-to-network half of a session. Only the pacer goroutine touches it,
// except the receive-side fields behind mu that RTCP reports need.
type sender struct {
	ssrc       uint32
	seq        uint16
	ts         uint32
	started    bool
	sourceEOF  bool
	sourceLost bool // its sound device went away: silence from now on (devicelost.go)
	octets     uint64

	dtmf dtmfSender // the RFC 4733 event in progress (dtmf_tx.go)
	pack packer     // audio encoded but not sent: packets of another duration than a frame (tx_pack.go)
	// due is the due time of the frame sendFrame sends (sendDue sets it), when its packed
	// packets are due; zero sends them as soon as they are whole (tx_pack.go).
	due time.Time

	enc    codec.Encoder // encodes for encFor; made anew when the negotiated codec changes
	encFor codec.Codec
	src    rateAdapter // fits the source to the call's rate (rate.go)

	mu sync.Mutex // guards the receive statistics used by RTCP
	rs rxStats
}

func (t *sender) init() {
	t.ssrc = rand.Uint32()
	t.seq = uint16(rand.Uint32())
	t.ts = rand.Uint32()
}

// sendFrame sends one 20 ms frame: a DTMF event packet while a digit is being sent,
// otherwise encoded audio from the source (packed into packets of Params.Ptime when the far
// end asked for another duration: tx_pack.go). Nothing is sent while Send is false, but the
// timestamp keeps running so the far end sees the gap as time. sent says whether a packet
// left (the pacer measures how late it did). pcm holds a frame at the codec's rate
// (codec.MaxFrameSamples covers every codec); buf leaves srtpTrailerMax bytes after the
// largest payload.
func (t *sender) sendFrame(s *Session, p Params, pcm []int16, buf []byte, pkt *rtp.Packet) (sent bool) {
	defer func() { t.ts += tsStep(p.Codec) }()
	if !p.Send || p.Codec == nil || !p.Remote.IsValid() {
		t.pack.reset() // what waited was before the pause: not sent after it
		return false
	}
	pcm = pcm[:codec.FrameSamplesAt(p.Codec.SampleRate())]
	pkt.Header = rtp.Header{Version: 2, SSRC: t.ssrc}
	if t.dtmfPacket(s, p, pkt, buf) { // what was packed before the event has left (dtmf_tx.go)
		t.pack.reset() // the event replaces the audio
		if p.Source != nil && !t.sourceEOF && !t.sourceLost {
			// The event replaces this frame's audio; a file still moves on with time, and
			// ends (nothing is packed to flush: the event packet in buf stays as it is).
			t.readUnheard(s, p, pcm, nil, nil)
		}
		return t.write(s, p, pkt, buf)
	}
	per := packetOctets(p)
	if t.pack.n > 0 && (per != t.pack.per || p.Codec != t.pack.codec) {
		t.flushPacked(s, p, pkt, buf) // tx_pack.go
	}
	if p.Muted {
		if p.Source != nil && !t.sourceEOF && !t.sourceLost {
			t.readUnheard(s, p, pcm, pkt, buf) // keep a file's position moving with time, as if heard
		}
		clear(pcm)
	} else if p.Source != nil && !t.sourceEOF && !t.sourceLost {
		if err := t.read(s, p, pcm); err != nil {
			if errors.Is(err, io.EOF) {
				t.sourceEnded(s, p, pkt, buf)
			} else if !t.sourceGone(s, err) {
				s.log.Debug("source read", "err", err)
			}
			clear(pcm)
		}
	} else {
		clear(pcm)
	}
	n, err := t.encoder(p.Codec).Encode(buf[rtpHeaderRoom:len(buf)-srtpTrailerMax], pcm)
	if err != nil {
		s.log.Debug("encode", "codec", p.Codec.Name(), "err", err)
		return false
	}
	if per > 0 {
		return t.sendPacked(s, p, pkt, buf, n, per, t.due) // tx_pack.go
	}
	pkt.PayloadType = p.sendPT()
	pkt.Timestamp = t.ts
	pkt.Marker = !t.started // first packet of the talkspurt
	pkt.Payload = buf[rtpHeaderRoom : rtpHeaderRoom+n]
	return t.write(s, p, pkt, buf)
}

// readUnheard reads a frame of the source that is not sent (muted, or a digit in its place): a
// file's end is its end all the same ("source ended", on which --hangup-on-eof hangs up), and a
// lost device is lost. pkt and buf flush what waits packed first; nil when nothing can.
func (t *sender) readUnheard(s *Session, p Params, pcm []int16, pkt *rtp.Packet, buf []byte) {
	err := t.read(s, p, pcm)
	switch {
	case errors.Is(err, io.EOF):
		t.sourceEnded(s, p, pkt, buf)
	case err != nil && !t.sourceGone(s, err):
		s.log.Debug("source read", "err", err)
	}
}

// sourceEnded marks the source played to its end. The audio still waiting for a packet to fill
// leaves first (pkt not nil), before "source ended" may hang the call up.
func (t *sender) sourceEnded(s *Session, p Params, pkt *rtp.Packet, buf []byte) {
	t.sourceEOF = true
	if pkt != nil {
		t.flushPacked(s, p, pkt, buf)
	}
	s.emit(Event{SourceEnded: true})
}

// read takes one frame at the codec's rate from the source, telling the source the call's
// rate first (or converting its 8 kHz frames) when the parameters changed.
func (t *sender) read(s *Session, p Params, pcm []int16) error {
	if rate := audioRate(p.Codec); t.src.stale(rate, p.gen) {
		if err := t.src.configure(p.Source, rate, p.gen, true); err != nil {
			s.log.Warn("source rate", "rate", rate, "err", err)
		}
	}
	return t.src.read(p.Source, pcm)
}

// encoder returns the encoder for c, making one when the codec changed (a re-INVITE), so a
// stateful codec keeps its state from frame to frame and nothing is allocated per frame.
func (t *sender) encoder(c codec.Codec) codec.Encoder {
	if t.enc == nil || t.encFor != c {
		t.enc, t.encFor = c.NewEncoder(), c
	}
	return t.enc
}

// rtpHeaderRoom leaves space at the front of buf for the marshalled header; the payload is
// encoded after it and the header written in place, so nothing is copied or allocated.
const rtpHeaderRoom = 12

// sendBufLen is a send buffer: the header room, the largest payload any codec encodes a frame
// to (maxFramePayload ≥ every codec's MaxPayload: Opus's is 1275 bytes) and SRTP's trailer.
const (
	maxFramePayload = 1500 - rtpHeaderRoom - srtpTrailerMax
	sendBufLen      = rtpHeaderRoom + maxFramePayload + srtpTrailerMax
)

func (t *sender) write(s *Session, p Params, pkt *rtp.Packet, buf []byte) bool {
	t.seq++
	pkt.SequenceNumber = t.seq
	t.started = true
	// The payload already sits at buf[12:]; marshal the 12-byte header in front of it.
	if _, err := pkt.Header.MarshalTo(buf[:rtpHeaderRoom]); err != nil {
		s.log.Debug("rtp marshal", "err", err)
		return false
	}
	s.tapRTPOut(p, buf[:rtpHeaderRoom+len(pkt.Payload)]) // tap.go: plain, before SRTP
	wire, ok := s.protectRTP(p, buf[:rtpHeaderRoom+len(pkt.Payload)], &pkt.Header)
	if !ok {
		return false
	}
	dst, _ := s.targets(p)
	if st := s.paced; st != nil && st.sq.queue(s, wire, dst, len(pkt.Payload), st.due) {
		st.unflushed = true
		// The shared pacer sends it with the rest of the tick's (sendq_linux.go); st.due is
		// this frame's while sendDue sends it.
		return true
	}
	if _, err := s.rtpIO.WriteToUDPAddrPort(wire, dst); err != nil {
		s.log.Debug("rtp write", "err", err)
		return false
	}
	s.stats.sent.Add(1)
	s.stats.lastSent.Store(s.now().UnixNano())
	t.mu.Lock()
	t.octets += uint64(len(pkt.Payload))
	t.mu.Unlock()
	return true
}
