package media

import (
	"cmp"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// ssrcSwitchQuiet is how long the current sender must be silent before a new SSRC may take
// over. Interleaved streams (a misbehaving peer, an attacker, a stale stream after a
// transfer) are dropped; a peer that restarts its stream is followed.
const ssrcSwitchQuiet = 300 * time.Millisecond

// receiver is the network-to-sink half of a session.
type receiver struct {
	mu       sync.Mutex // guards everything below: the socket reader pushes, the pacer pops
	jb       *JitterBuffer
	plc      *PLC
	ssrc     uint32
	haveSSRC bool
	lastRx   time.Time
	playing  bool // a first packet was played: underruns are concealed, not silent
	// dtmf follows the telephone-events of two SSRCs: the audio's and one of their own
	// (digit), least recently heard replaced.
	dtmf     [2]dtmfSlot
	latch    latch
	shift    time.Duration // phaseShift: how much earlier the next tick may come, inaudibly
	sinkLost bool          // its sound device went away: discard from now on (pacer only, devicelost.go)
	dec      codec.Decoder // decodes for decFor; made anew when the negotiated codec changes
	decFor   codec.Codec
	plcRate  int         // the audio rate plc conceals at
	jbCodec  codec.Codec // the codec of the payloads in jb: another one flushes it
	gen      uint64      // the Params.gen playCodec last saw
	// The packet that last switched the codec the far end sends (beforeSwitch).
	switched   bool
	switchSSRC uint32
	switchSeq  uint16
	snk        rateAdapter // fits the sink to the call's rate (rate.go; pacer only)
	pace       packetPace  // the far end's packet duration, and the samples it leaves over (rx_pace.go)
}

func (r *receiver) init(s *Session) {
	r.jb = NewJitterBuffer(JitterConfig{
		MinDelay: 20 * time.Millisecond, MaxDelay: 300 * time.Millisecond,
		FrameDuration: 20 * time.Millisecond, ClockRate: codec.SampleRate, Capacity: 64,
	})
	r.plc = NewPLC()
	r.plcRate = codec.SampleRate
}

func (r *receiver) jitterStats() JitterStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jb.Stats()
}

// readRTP receives packets: checks the source, the SSRC and the payload type, hands audio to
// the jitter buffer and telephone-events to the DTMF receiver. It allocates nothing per packet.
func (s *Session) readRTP() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, from, err := s.rtpIO.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Debug("rtp read", "err", err)
			continue
		}
		s.handleRTP(buf[:n], from, &pkt)
	}
}

// poller is an RTP socket the pacer drains at its tick instead of a goroutine reading it
// (rawudp_poll_linux.go says why).
type poller interface {
	// pollBatch takes up to recvBatchLen queued datagrams into rb without waiting (n is 0 when
	// none is queued; fewer than recvBatchLen means the queue is empty now).
	pollBatch(rb *recvBatch) (n int, err error)
}

// maxDrain bounds one tick's reading, so a flood cannot hold the pacer: 50 frames' worth.
const maxDrain = 50

// drainRTP handles every datagram queued on the RTP socket, each at its arrival time. In a
// call's steady state that is one recvmmsg a tick, which finds the one packet sent meanwhile.
func (s *Session) drainRTP(pl poller, rb *recvBatch, pkt *rtp.Packet) {
	for got := 0; got < maxDrain; {
		n, err := pl.pollBatch(rb)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Debug("rtp read", "err", err) // an ICMP error, reported once: read on
			got++
			continue
		}
		for i := range n {
			b, from, at := rb.datagram(i)
			s.handleRTPAt(b, from, pkt, at)
		}
		if n < recvBatchLen {
			return
		}
		got += n
	}
}

// handleRTP is the receive path for one datagram; split out so tests and fuzzing call it directly.
func (s *Session) handleRTP(b []byte, from netip.AddrPort, pkt *rtp.Packet) {
	s.handleRTPAt(b, from, pkt, s.now())
}

// handleRTPAt is handleRTP for a datagram that arrived at now.
func (s *Session) handleRTPAt(b []byte, from netip.AddrPort, pkt *rtp.Packet, now time.Time) {
	p := s.current()
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) // a dual-stack socket reports ::ffff:a.b.c.d
	if !p.Remote.IsValid() {
		s.stats.dropped.Add(1) // nothing negotiated yet: never play it
		return
	}
	if err := parseRTP(p, b, pkt); err != nil || pkt.Version != 2 || !s.expectedPT(p, pkt.PayloadType) {
		s.stats.dropped.Add(1) // STUN keep-alives, garbage, or a payload type we did not negotiate
		return
	}
	if !s.unprotectRTP(p, b, pkt) { // SRTP: authenticates, decrypts, then parses payload and padding
		s.stats.dropped.Add(1) // failed SRTP authentication or replay: never play it, never latch on it
		return
	}
	s.tapRTPIn(p, b, pkt, from) // tap.go
	r := &s.rx
	r.mu.Lock()
	defer r.mu.Unlock()
	ok, latched := r.latch.admit(from, p.Remote, !p.StrictSource, now)
	if !ok {
		s.stats.dropped.Add(1) // not the far end: never play it
		return
	}
	if latched {
		s.log.Info("rtp latched on to the far end's real address (symmetric RTP)", "sdp", p.Remote.String(), "source", from.String())
	}
	if (!r.haveSSRC || pkt.SSRC != r.ssrc) && p.isDTMF(pkt.PayloadType) {
		// Telephone-events on an SSRC of their own (some gateways send them as a stream beside
		// the audio, RFC 4733 §2.1 allows either): digits, never the call's audio stream, which
		// would otherwise drop them while the audio flows, or drop the audio while they do.
		s.stats.received.Add(1)
		s.stats.lastRTP.Store(now.UnixNano())
		r.digit(s, pkt, now)
		return
	}
	if !r.haveSSRC || pkt.SSRC != r.ssrc {
		if r.haveSSRC && now.Sub(r.lastRx) < ssrcSwitchQuiet {
			s.stats.dropped.Add(1)
			return
		}
		r.ssrc, r.haveSSRC = pkt.SSRC, true
	}
	r.lastRx = now
	s.stats.received.Add(1)
	s.stats.lastRTP.Store(now.UnixNano())
	c, alt := p.audioCodec(pkt.PayloadType)
	audio := c != nil
	if alt {
		p.toCodecLaw(pkt.Payload) // our buffer, decrypted already: played as the call's law
	}
	stale := audio && r.beforeSwitch(c, pkt)
	if clock := c; !stale {
		if !audio && p.Codec != nil { // an event or comfort noise: in the clock of the audio it is among
			clock = cmp.Or(r.jbCodec, p.Codec)
		}
		if clock != nil {
			s.tx.noteReceived(pkt.SSRC, pkt.SequenceNumber, pkt.Timestamp, now, clock.ClockRate(), audio)
		}
	}
	switch {
	case stale:
		s.stats.dropped.Add(1) // the codec before the far end's switch, come late: it would flush the new one's
	case audio:
		r.followCodec(c)
		r.followPace(c, pkt.Payload)
		r.jb.Push(Packet{Seq: pkt.SequenceNumber, Timestamp: pkt.Timestamp, SSRC: pkt.SSRC,
			Marker: pkt.Marker, Payload: pkt.Payload, Arrival: now})
	case p.isDTMF(pkt.PayloadType):
		r.jb.NoteOther(pkt.SequenceNumber, pkt.SSRC) // the digit's ticks are not lost audio
		r.digit(s, pkt, now)
	default:
		if pkt.PayloadType == 13 { // comfort noise: the far end's silence starts
			r.jb.NoteOther(pkt.SequenceNumber, pkt.SSRC)
		}
		s.stats.dropped.Add(1) // comfort noise or a codec we did not negotiate
	}
}

// parseRTP parses what can be read of the received packet b before the SRTP seam: all of a
// plain packet, only the header of an SRTP one. Past an SRTP header everything is ciphertext
// and tag, so the padding length a whole-packet parse would take from the last byte is a tag
// byte: it would drop a good packet or cut its payload wrong (RFC 3711 §3.1 encrypts the
// padding with the payload). unprotectRTP parses the rest once it is plain.
func parseRTP(p Params, b []byte, pkt *rtp.Packet) error {
	if p.SRTP == nil {
		return pkt.Unmarshal(b)
	}
	_, err := pkt.Header.Unmarshal(b)
	return err
}

// expectedPT reports whether pt is the negotiated codec or telephone-event. Comfort noise
// (13) counts too: it is the far end talking silence, and may latch.
func (s *Session) expectedPT(p Params, pt uint8) bool {
	c, _ := p.audioCodec(pt)
	return c != nil || p.isDTMF(pt) || pt == 13
}

// isDTMF reports whether pt carries telephone-events in this call.
func (p Params) isDTMF(pt uint8) bool {
	return p.DTMFPT >= 0 && int(pt) == p.DTMFPT || p.RecvDTMFPT > 0 && int(pt) == p.RecvDTMFPT ||
		slices.Contains(p.RecvDTMFOther, pt)
}

// playFrame takes the next frame from the jitter buffer (or conceals a missing one) and writes
// it to the sink. out holds a frame at the codec's rate (codec.MaxFrameSamples covers all).
func (r *receiver) playFrame(s *Session, p Params, now time.Time, out []int16) {
	r.mu.Lock()
	c := r.playCodec(p)
	rate := audioRate(c)
	out = out[:codec.FrameSamplesAt(rate)]
	if r.plcRate != rate {
		r.plc, r.plcRate = NewPLCAt(rate), rate // the codec changed: once per re-INVITE or switch, not per frame
	}
	var dec codec.Decoder
	if c != nil {
		dec = r.decoder(c)
	}
	r.shift = 0
	if frame := r.frameSamplesAt(rate); frame == len(out) && r.pace.n == 0 {
		// The far end's packets are our 20 ms frames: one Pop a tick, straight into out.
		if status, _ := r.popInto(s, dec, now, out, len(out)); status != Played {
			r.shift = r.jb.PhaseSlack() // cutting into concealment or silence is not heard
		}
	} else {
		// Another pace: the pacer's phase moves (PhaseSlack) stay off, r.shift 0.
		r.playPaced(s, dec, now, out, rate, frame) // rx_pace.go
	}
	r.mu.Unlock()
	if p.Receive && p.Sink != nil && !r.sinkLost {
		if r.snk.stale(rate, p.gen) {
			if err := r.snk.configure(p.Sink, rate, p.gen, false); err != nil {
				s.log.Warn("sink rate", "rate", rate, "err", err)
			}
		}
		if err := r.snk.write(p.Sink, out); err != nil && !r.sinkGone(s, err) {
			s.log.Debug("sink write", "err", err)
		}
	}
}

// popInto pops the frame for now from the jitter buffer into out (one frame of the buffer at
// the call's audio rate): decoded, concealed, or silence. When the buffer is not playing (not
// started, or stopped after a long gap) the Pop took no frame, and only the first short samples
// are filled: silence, or the fade of what played, for what the tick lacks and no more. It
// returns the status and how many samples it filled. The caller holds r.mu.
func (r *receiver) popInto(s *Session, dec codec.Decoder, now time.Time, out []int16, short int) (PopStatus, int) {
	payload, status := r.jb.Pop(now)
	if status == Buffering && !r.jb.playing {
		out = out[:min(short, len(out))]
	}
	switch {
	case status == Played && dec != nil:
		n, err := dec.Decode(out, payload)
		if err != nil {
			n = 0 // a payload the codec cannot decode is heard as silence, never as noise
		}
		clear(out[n:])
		if _, own := dec.(codec.Concealer); !own {
			r.plc.Good(out) // a codec that conceals itself (Opus) keeps its own history
		}
		r.playing = true
	case status == Missing:
		r.conceal(dec, status, out)
		s.stats.concealed.Add(1)
	default: // nothing to play yet, a long gap, or the buffer growing: fade out what was playing, then silence
		if r.playing {
			r.conceal(dec, status, out)
		} else {
			clear(out)
		}
	}
	return status, len(out)
}

// conceal fills out for a frame that did not come: rebuilt from the next packet's FEC when the
// codec carries it and that packet is already here, else the codec's own concealment (Opus),
// else the generic waveform repetition. The caller holds r.mu.
func (r *receiver) conceal(dec codec.Decoder, status PopStatus, out []int16) {
	// FEC rebuilds the 20 ms frame before a packet: not one of another duration.
	if f, ok := dec.(codec.FECDecoder); ok && status == Missing && len(out) == codec.FrameSamplesAt(r.plcRate) {
		if next, ok := r.jb.Next(); ok {
			if n, err := f.DecodeFEC(out, next); err == nil && n > 0 {
				clear(out[n:])
				return
			}
		}
	}
	if c, ok := dec.(codec.Concealer); ok && concealWhole(c, out) {
		return
	}
	r.plc.Conceal(out)
}

// phaseShift is how much earlier (less than a frame) the tick after the last playFrame may
// come without making a packet late: the jitter buffer's PhaseSlack (jitter_phase.go), and
// only when the frame just written was concealment or silence, where the shortened frame is
// not heard. Fixed ticks waste 0–20 ms (10 on average) waiting for the tick after a frame's
// due time; the shared pacer moves the session's ticks by this much (less a margin) and wins
// that back (pacer_move.go).
func (r *receiver) phaseShift() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.shift
}
