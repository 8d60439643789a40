package media

import (
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// Which codec the receive side plays: the call's, or another of the far end's answer it
// switched to (Params.RecvOther), followed packet by packet.

// followCodec empties the jitter buffer when the call's codec is no longer the one its payloads
// were buffered for (a re-INVITE): with the same RTP clock (PCMU, PCMA and G.722 are all 8000
// Hz) the new decoder played the old payloads as full-scale noise. Another clock re-times the
// buffer too. Called with r.mu held, from both ends of the buffer.
func (r *receiver) followCodec(c codec.Codec) {
	if r.jbCodec == c {
		return
	}
	r.pace.n = 0 // decoded at the old codec's rate
	if clock := c.ClockRate(); clock != r.jb.ClockRate() {
		r.jb.SetClockRate(clock) // flushes, and re-times the buffer
	} else if r.jbCodec != nil {
		r.jb.Flush()
	}
	r.jbCodec = c
}

// switchReorder is how far before the packet that switched codecs a packet of the codec before
// may come and still be taken for one reordered across the switch (over a second of packets):
// further back, or after, it is the far end switching again.
const switchReorder = 64

// beforeSwitch says whether pkt, audio in c, is a packet from before the far end last
// switched codecs (from c to the one the jitter buffer holds), come late; it notes a switch
// when pkt starts one. The caller holds r.mu.
func (r *receiver) beforeSwitch(c codec.Codec, pkt *rtp.Packet) bool {
	if c == r.jbCodec || r.jbCodec == nil {
		return false
	}
	if d := int16(pkt.SequenceNumber - r.switchSeq); r.switched && pkt.SSRC == r.switchSSRC && d < 0 && d > -switchReorder {
		return true
	}
	r.switched, r.switchSSRC, r.switchSeq = true, pkt.SSRC, pkt.SequenceNumber
	return false
}

// playCodec is the codec the playout decodes: that of the packets in the jitter buffer, which
// is the call's Codec or one of its RecvOther the far end switched to. After an Update (a
// re-INVITE) that no longer lists the buffer's codec the buffer starts over on the new Codec
// before its first packet: what is buffered is not its. The caller holds r.mu.
func (r *receiver) playCodec(p Params) codec.Codec {
	if p.gen != r.gen {
		r.gen = p.gen
		if r.jbCodec != nil && !p.receives(r.jbCodec) && p.Codec != nil {
			r.followCodec(p.Codec)
			r.switched = false // the codec changed by agreement, not by the far end's switch
		}
	}
	if r.jbCodec == nil && p.Codec != nil {
		r.followCodec(p.Codec)
	}
	if r.jbCodec != nil {
		return r.jbCodec
	}
	return p.Codec
}

// decoder returns the decoder for c, making one when the codec changed; see sender.encoder.
func (r *receiver) decoder(c codec.Codec) codec.Decoder {
	if r.dec == nil || r.decFor != c {
		r.dec, r.decFor = c.NewDecoder(), c
	}
	return r.dec
}
