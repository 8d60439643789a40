package media

import (
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// The far end's a=ptime asks for packets of a duration (RFC 3264 §5.1: what it wants to
// receive); the pacer encodes 20 ms a tick for every call. For G.711 and G.722, whose frames
// concatenate, the sender packs them: 10 ms packets halve each frame, 30 to 60 ms ones join
// frames. Opus, and any other duration, is sent 20 ms a packet as before.
//
// A whole packet leaves on its own schedule, one packet duration after the one before, not
// at the first tick that completes it: 30 ms packets completed at two ticks of every three
// left 20 and 40 ms apart, and 10 ms ones two at a time, which the far end took for 10 ms of
// jitter. The shared pacer visits such a session halfway between its ticks too (sendBetween,
// pacer_phase.go), where the packets due then leave; so 10, 30 and 50 ms packets leave evenly
// spaced, and 40 and 60 ms ones on ticks, as before. A session that paces itself (tests,
// systems without timerfd) has ticks only: a packet due between them leaves at the next.

// packer holds encoded audio not sent yet.
type packer struct {
	buf   []byte // made at the first packed frame: a packet and a frame's worth, grown if need be
	n     int    // octets waiting in buf
	ts    uint32 // the RTP timestamp of buf[0]
	codec codec.Codec
	per   int           // octets a packet, as the waiting audio was packed for
	dur   time.Duration // a packet's duration (Params.Ptime) as per was made for
	// next is when the next whole packet is due to leave (on the pacer's grid, as the
	// frames' due times are); zero after a gap, when the next leaves as soon as it is whole.
	next time.Time
}

// reset drops what waits: the audio was before a pause, or a digit replaces it.
func (k *packer) reset() { k.n, k.next = 0, time.Time{} }

// packetOctets is how many octets (one a clock tick) one packet carries when p asks for
// packets of another duration than a frame, else 0.
func packetOctets(p Params) int {
	d := p.Ptime
	if d == frameDur || d < 10*time.Millisecond || d > 60*time.Millisecond || d%(10*time.Millisecond) != 0 ||
		p.Codec == nil || !codec.Concatenable(p.Codec) {
		return 0
	}
	return int(int64(p.Codec.ClockRate()) * int64(d) / int64(time.Second))
}

// packedBetweenTicks says whether p's packets fall due between the pacer's 20 ms ticks.
func packedBetweenTicks(p Params) bool {
	return packetOctets(p) > 0 && p.Ptime%frameDur != 0
}

// sendPacked adds the frame encoded at buf[rtpHeaderRoom:][:n] to what waits, and sends the
// whole packets of per octets that are due at at (the frame's due time); sent says whether
// one left. A zero at sends every whole packet at once.
func (t *sender) sendPacked(s *Session, p Params, pkt *rtp.Packet, buf []byte, n, per int, at time.Time) (sent bool) {
	k := &t.pack
	k.codec, k.per, k.dur = p.Codec, per, p.Ptime
	if need := max(per, k.n) + n; len(k.buf) < need { // once per call, or a longer ptime
		b := make([]byte, need+per) // room for a packet held back between ticks, too
		copy(b, k.buf[:k.n])
		k.buf = b
	}
	if k.n == 0 {
		k.ts = t.ts
	}
	k.n += copy(k.buf[k.n:], buf[rtpHeaderRoom:rtpHeaderRoom+n])
	return t.sendDuePacked(s, p, pkt, buf, at)
}

// sendHeld sends the whole packets that wait and are due at at, halfway between two ticks
// (sendBetween). Nothing leaves if the parameters changed since they were packed: the next
// frame's sendFrame flushes them under the new ones.
func (t *sender) sendHeld(s *Session, p Params, pkt *rtp.Packet, buf []byte, at time.Time) (sent bool) {
	k := &t.pack
	if k.n < k.per || !p.Send || p.Codec != k.codec || packetOctets(p) != k.per || t.dtmf.active {
		return false
	}
	pkt.Header = rtp.Header{Version: 2, SSRC: t.ssrc}
	return t.sendDuePacked(s, p, pkt, buf, at)
}

// sendDuePacked sends the whole packets waiting that are due at at, each one packet duration
// after the one before (all of them if visits came late: none is held back twice); the first
// after a pause (next zero) is due at once. A schedule left behind at with no whole packet
// waiting (a stall of the pacer) starts over with the next one, so that packets do not
// leave as soon as they are whole for the rest of the call.
func (t *sender) sendDuePacked(s *Session, p Params, pkt *rtp.Packet, buf []byte, at time.Time) (sent bool) {
	k := &t.pack
	if k.n >= k.per && k.next.IsZero() {
		k.next = at
	}
	for k.n >= k.per && (at.IsZero() || !k.next.After(at)) {
		if t.sendWaiting(s, p, pkt, buf, k.per) {
			sent = true
		}
		k.next = k.next.Add(k.dur)
	}
	if k.n < k.per && k.next.Before(at) {
		k.next = time.Time{}
	}
	return sent
}

// shift moves the schedule d (a move of the session's ticks, pacer_move.go), as the frames'.
func (k *packer) shift(d time.Duration) {
	if !k.next.IsZero() {
		k.next = k.next.Add(d)
	}
}

// sendWaiting sends the first m octets waiting as one packet and moves the rest up.
func (t *sender) sendWaiting(s *Session, p Params, pkt *rtp.Packet, buf []byte, m int) bool {
	k := &t.pack
	copy(buf[rtpHeaderRoom:], k.buf[:m])
	pkt.PayloadType = p.sendPT()
	pkt.Timestamp = k.ts
	pkt.Marker = !t.started // first packet of the talkspurt
	pkt.Payload = buf[rtpHeaderRoom : rtpHeaderRoom+m]
	sent := t.write(s, p, pkt, buf)
	k.n = copy(k.buf, k.buf[m:k.n])
	k.ts += uint32(m)
	return sent
}

// flushPacked sends what waits when the stream's pace changes (a re-INVITE asked for another
// ptime), before a digit, or at the source's end: any whole packet held for its time, then the
// rest as one shorter packet. Its audio is heard, and the timestamps run on from it to the next
// frame's. Audio of another codec than p's is dropped. Called before a frame is encoded into buf.
func (t *sender) flushPacked(s *Session, p Params, pkt *rtp.Packet, buf []byte) {
	k := &t.pack
	if k.n > 0 && k.codec == p.Codec {
		for k.n > 0 {
			t.sendWaiting(s, p, pkt, buf, min(k.n, k.per))
			pkt.Header = rtp.Header{Version: 2, SSRC: t.ssrc}
		}
	}
	k.reset()
}
