package media

import "time"

// Codec changes and forward error correction: the two things the receive path asks of the
// jitter buffer beyond Push and Pop.

// SetClockRate re-times the buffer for a codec with another RTP clock (a re-INVITE changed the
// codec): timestamps now count in hz, so the stream restarts as on a new SSRC. What is buffered
// is counted Discarded (it belongs to the old codec); the other counters carry on. The same
// rate is a no-op, so the session may call it for every packet.
func (j *JitterBuffer) SetClockRate(hz int) {
	if hz <= 0 || hz == j.cfg.ClockRate {
		return
	}
	cfg := j.cfg
	cfg.ClockRate = hz
	j.size(cfg)
	j.Flush()
}

// Flush drops what is buffered and restarts the stream as on a new SSRC: a codec change with
// the same RTP clock (PCMU to PCMA or G.722, all 8000 Hz) leaves payloads of the old codec
// that the new decoder would play as noise. What is dropped is counted Discarded, and the
// flush a Resync; the other counters carry on.
func (j *JitterBuffer) Flush() {
	stats := j.stats
	if j.started { // the first packet of the call is no resync
		stats.Discarded += uint64(j.Len())
		stats.Resyncs++
	}
	j.Reset()
	j.stats = stats
}

// SetFrameDuration re-times the buffer for packets of another duration than it was made for
// (the far end sends 10, 30, 40 or 60 ms packets where we asked for 20): one packet is one
// frame of the buffer, so a frame that does not match the packets files them in the wrong
// slots. What is buffered is dropped as by Flush. The same duration is a no-op.
func (j *JitterBuffer) SetFrameDuration(d time.Duration) {
	if d <= 0 || d == j.cfg.FrameDuration {
		return
	}
	cfg := j.asked
	cfg.FrameDuration, cfg.ClockRate = d, j.cfg.ClockRate
	j.size(normalize(cfg))
	j.Flush()
}

// FrameDuration is the audio one packet, and one Pop, carries.
func (j *JitterBuffer) FrameDuration() time.Duration { return j.frame }

// ClockRate is the RTP clock rate the buffer counts timestamps in.
func (j *JitterBuffer) ClockRate() int { return j.cfg.ClockRate }

// Next returns the payload of the packet the next Pop will play, if it is already buffered.
// After Pop reported Missing that is the packet following the lost one, whose in-band FEC
// (Opus, RFC 7587 §3.3) can rebuild it. It costs a slot lookup; the payload stays in the
// buffer and is valid until the next Push or Pop.
func (j *JitterBuffer) Next() ([]byte, bool) {
	if !j.playing || !j.holds(j.cur) {
		return nil, false
	}
	s := &j.slots[j.index(j.cur)]
	return s.buf[:s.n:s.n], true
}
