package media

import (
	"testing"

	"github.com/pion/rtp"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/srtp"
)

// paddedTone returns n RTP packets of a loud 1 kHz PCMU tone, each with the padding bit set
// and 1 to 8 bytes of padding, protected by far when it is not nil (the padding is then inside
// the encrypted part, as RFC 3711 §3.1 has it), with room after each for what SRTP appends.
func paddedTone(t testing.TB, far *srtp.Stream, n int) (wire [][]byte, pads []uint8) {
	t.Helper()
	payload := make([]byte, codec.FrameSamples)
	codec.PCMU.EncodeTo(payload, audiotest.NewTone(1000, 0.9).Samples(codec.FrameSamples))
	for i := range n {
		pad := uint8(1 + i%8)
		p := rtp.Packet{Header: rtp.Header{Version: 2, Padding: true, PaddingSize: pad, PayloadType: 0,
			SequenceNumber: uint16(i), Timestamp: uint32(i) * codec.FrameSamples, SSRC: 7}, Payload: payload, PaddingSize: pad}
		b := make([]byte, p.MarshalSize(), p.MarshalSize()+srtpTrailerMax)
		if _, err := p.MarshalTo(b); err != nil {
			t.Fatal(err)
		}
		if far != nil {
			var err error
			if b, err = far.ProtectRTP(b); err != nil {
				t.Fatal(err)
			}
		}
		wire, pads = append(wire, b), append(pads, pad)
	}
	return wire, pads
}

// TestSRTPPaddedPacketsPlay: packets with the padding bit set are received and played, with
// SRTP (whose padding length is ciphertext until the packet is decrypted: a parse of the
// whole SRTP packet reads a tag byte for it) and without. Each packet's payload is exactly
// the 160 bytes sent, its padding length the one sent, nothing is dropped, and the tone is
// heard. For SRTP the test checks that it exercised the trap: some packets are ones a
// whole-packet parse of the encrypted bytes rejects.
func TestSRTPPaddedPacketsPlay(t *testing.T) {
	for _, su := range []srtp.Suite{0, srtp.AESCM128HMACSHA180, srtp.AEADAES128GCM} {
		name := "plain RTP"
		if su != 0 {
			name = su.String()
		}
		t.Run(name, func(t *testing.T) {
			rec := audiotest.NewRecorder()
			r := newRateRig(t, codec.PCMU, rec)
			var far *srtp.Stream
			if su != 0 {
				ours, theirs := swappedKeys(t, su)
				r.p.SRTP = ours
				r.s.Update(r.p)
				r.p = r.s.current()
				var err error
				if far, err = srtp.NewStream(*theirs); err != nil {
					t.Fatal(err)
				}
			}
			const n = 60
			wire, pads := paddedTone(t, far, n)
			trap := 0
			for i, b := range wire {
				var whole rtp.Packet
				if err := whole.Unmarshal(b); err != nil {
					trap++
				}
				r.now = r.now.Add(frameDur)
				r.s.handleRTP(b, r.peer, &r.rx)
				if len(r.rx.Payload) != codec.FrameSamples || r.rx.PaddingSize != pads[i] || r.rx.SequenceNumber != uint16(i) {
					t.Fatalf("packet %d: payload %d bytes, padding %d (sent %d), seq %d", i,
						len(r.rx.Payload), r.rx.PaddingSize, pads[i], r.rx.SequenceNumber)
				}
				r.s.rx.playFrame(r.s, r.p, r.now, r.out)
			}
			if su != 0 && trap == 0 {
				t.Fatalf("none of %d SRTP packets ends in a byte a whole-packet parse rejects as padding: the test proves nothing", n)
			}
			if st := r.s.Stats(); st.PacketsReceived != n || st.Dropped != 0 {
				t.Fatalf("stats %+v, want all %d packets received, none dropped (%d would fail a whole-packet parse)", st, n, trap)
			}
			if su != 0 {
				if st, enc := r.s.SRTPStats(); !enc || st.Unprotected != n {
					t.Fatalf("SRTP: encrypted %v, %+v", enc, st)
				}
			}
			s := rec.Samples()
			if found, lvl, snr := audiotest.DetectTone(s[len(s)/3:], 8000, 1000); !found || lvl < -6 {
				t.Fatalf("no 1000 Hz tone played: level %.1f dBFS snr %.1f", lvl, snr)
			}
		})
	}
}

// TestSRTPBadPaddingDropped: an authentic SRTP packet whose decrypted padding length runs past
// its payload is dropped and counted, never played, and does not latch.
func TestSRTPBadPaddingDropped(t *testing.T) {
	r := newRateRig(t, codec.PCMU, audiotest.NewRecorder())
	ours, theirs := swappedKeys(t, srtp.AESCM128HMACSHA180)
	r.p.SRTP = ours
	r.s.Update(r.p)
	far, err := srtp.NewStream(*theirs)
	if err != nil {
		t.Fatal(err)
	}
	// A header with the padding bit and a payload whose last byte claims 255 bytes of padding.
	p := rtp.Packet{Header: rtp.Header{Version: 2, Padding: false, SequenceNumber: 1, Timestamp: 160, SSRC: 7}, Payload: make([]byte, 20)}
	b := make([]byte, p.MarshalSize(), 100)
	if _, err := p.MarshalTo(b); err != nil {
		t.Fatal(err)
	}
	b[0] |= 0x20 // padding bit
	b[len(b)-1] = 255
	w, err := far.ProtectRTP(b)
	if err != nil {
		t.Fatal(err)
	}
	r.s.handleRTP(w, r.peer, &r.rx)
	if st := r.s.Stats(); st.PacketsReceived != 0 || st.Dropped != 1 {
		t.Fatalf("stats %+v, want the packet dropped", st)
	}
	if st, _ := r.s.SRTPStats(); st.Unprotected != 1 {
		t.Fatalf("SRTP stats %+v: the packet should have authenticated", st)
	}
}

// TestSRTPPaddedReceiveAllocs: receiving and playing SRTP packets with padding allocates
// nothing per packet.
func TestSRTPPaddedReceiveAllocs(t *testing.T) {
	if srtpRaceEnabled {
		t.Skip("allocations are counted without the race detector, whose instrumentation allocates in pion's HMAC path")
	}
	r := newRateRig(t, codec.PCMU, discard{})
	ours, theirs := swappedKeys(t, srtp.AESCM128HMACSHA180)
	r.p.SRTP = ours
	r.s.Update(r.p)
	r.p = r.s.current()
	far, err := srtp.NewStream(*theirs)
	if err != nil {
		t.Fatal(err)
	}
	const runs = 50
	wire, _ := paddedTone(t, far, runs+6)
	i := 0
	next := func() {
		r.now = r.now.Add(frameDur)
		r.s.handleRTP(wire[i], r.peer, &r.rx)
		r.s.rx.playFrame(r.s, r.p, r.now, r.out)
		i++
	}
	for range 5 { // the jitter buffer's slots come with the first frames
		next()
	}
	if a := testing.AllocsPerRun(runs, next); a != 0 {
		t.Fatalf("%v allocations per padded SRTP packet received and played", a)
	}
	if st := r.s.Stats(); st.Dropped != 0 || st.PacketsReceived != uint64(i) {
		t.Fatalf("stats %+v after %d packets", st, i)
	}
}
