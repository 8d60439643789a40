package media

import (
	"testing"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// TestOtherCodecOfTheAnswerPlays: a call settled on a 16 kHz codec whose far end switches,
// without a re-INVITE, to PCMU, which its answer also listed (RFC 3264 §5.1; Asterisk does when
// it bridges the call on), and back: each plays at its own rate, the tone heard throughout, and
// nothing is dropped. Before, the PCMU packets were dropped as a codec not negotiated: silence.
func TestOtherCodecOfTheAnswerPlays(t *testing.T) {
	rec := audiotest.NewRecorder()
	r := newRateRig(t, fakeG722, rec)
	r.p.RecvOther = []RecvCodec{{PT: 0, Codec: codec.PCMU}}
	r.s.Update(r.p)
	r.p = r.s.current()
	wide := audiotest.NewTone(1000, 0.5)
	narrow := audiotest.NewTone(1000, 0.5)
	wide.SetRate(16000)
	pcm := make([]int16, codec.MaxFrameSamples)
	payload := make([]byte, 320)
	ts := uint32(0)
	send := func(f int, c codec.Codec) {
		n := codec.FrameSamplesAt(c.SampleRate())
		src := wide
		if c == codec.PCMU {
			src = narrow
		}
		if err := src.Read(pcm[:n]); err != nil {
			t.Fatal(err)
		}
		body := payload[:codec.PCMU.EncodeTo(payload[:n], pcm[:n])] // fakeG722 carries µ-law at 16 kHz
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType(), SSRC: 7, SequenceNumber: uint16(f), Timestamp: ts}, Payload: body}
		ts += 160 // both clocks are 8000
		w, _ := pkt.MarshalTo(r.wire)
		r.s.handleRTP(r.wire[:w], r.peer, &r.rx)
	}
	f := 0
	for _, phase := range []codec.Codec{fakeG722, codec.PCMU, fakeG722} {
		for range 50 {
			r.now = r.now.Add(frameDur)
			send(f, phase)
			r.s.rx.playFrame(r.s, r.p, r.now, r.out)
			f++
		}
	}
	if st := r.s.Stats(); st.Dropped != 0 {
		t.Fatalf("stats %+v: packets dropped", st)
	}
	if ch := rec.Rates(); len(ch) != 3 || ch[0].Rate != 16000 || ch[1].Rate != 8000 || ch[2].Rate != 16000 {
		t.Fatalf("sink rate changes %v, want 16000, to 8000 for PCMU and back to 16000", ch)
	}
	toneAfterStartup(t, "PCMU from the far end of a G722 call", rec.SamplesAt(8000), 8000, 1000)
	toneAfterStartup(t, "G722 before and after", rec.SamplesAt(16000), 16000, 1000)
}
