package media

import (
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// The far end's a=ptime asks for packets of a duration (RFC 3264 §5.1: what it wants to
// receive); the pacer encodes 20 ms a tick for every call. For G.711 and G.722, whose frames
// concatenate, the sender packs them: 10 ms packets halve each frame, 30 to 60 ms ones join
// frames (30 ms packets leave at two ticks of every three). Opus, and any other duration, is
// sent 20 ms a packet as before.

// packer holds encoded audio not sent yet.
type packer struct {
	buf   []byte // made at the first packed frame: a packet and a frame's worth
	n     int    // octets waiting in buf
	ts    uint32 // the RTP timestamp of buf[0]
	codec codec.Codec
	per   int // octets a packet, as the waiting audio was packed for
}

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

// sendPacked adds the frame encoded at buf[rtpHeaderRoom:][:n] to what waits, and sends every
// whole packet of per octets that makes; sent says whether one left.
func (t *sender) sendPacked(s *Session, p Params, pkt *rtp.Packet, buf []byte, n, per int) (sent bool) {
	k := &t.pack
	k.codec, k.per = p.Codec, per
	if need := per + n; len(k.buf) < need { // once per call, or a longer ptime
		b := make([]byte, need)
		copy(b, k.buf[:k.n])
		k.buf = b
	}
	if k.n == 0 {
		k.ts = t.ts
	}
	k.n += copy(k.buf[k.n:], buf[rtpHeaderRoom:rtpHeaderRoom+n])
	for k.n >= per {
		copy(buf[rtpHeaderRoom:], k.buf[:per])
		pkt.PayloadType = p.sendPT()
		pkt.Timestamp = k.ts
		pkt.Marker = !t.started // first packet of the talkspurt
		pkt.Payload = buf[rtpHeaderRoom : rtpHeaderRoom+per]
		if t.write(s, p, pkt, buf) {
			sent = true
		}
		k.n = copy(k.buf, k.buf[per:k.n])
		k.ts += uint32(per)
	}
	return sent
}

// flushPacked sends what waits as one shorter packet when the stream's pace changes (a
// re-INVITE asked for another ptime): its audio is heard, and the timestamps run on from it to
// the next frame's. Audio of another codec than p's is dropped. Called before a frame is
// encoded into buf.
func (t *sender) flushPacked(s *Session, p Params, pkt *rtp.Packet, buf []byte) {
	k := &t.pack
	if k.n == 0 {
		return
	}
	if k.codec == p.Codec {
		copy(buf[rtpHeaderRoom:], k.buf[:k.n])
		pkt.PayloadType = p.sendPT()
		pkt.Timestamp = k.ts
		pkt.Marker = !t.started
		pkt.Payload = buf[rtpHeaderRoom : rtpHeaderRoom+k.n]
		t.write(s, p, pkt, buf)
		pkt.Header = rtp.Header{Version: 2, SSRC: t.ssrc}
	}
	k.n = 0
}
