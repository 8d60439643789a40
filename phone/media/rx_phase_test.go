package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// frameSink keeps, for each 160-sample block written, the frame number it carries (-1 when it
// is not one of the stream's frames: concealment or silence).
type frameSink struct {
	dec    map[int16]int // decoded PCMU sample -> code (0..99)
	frames []int
}

func newFrameSink() *frameSink {
	fs := &frameSink{dec: map[int16]int{}}
	var out [1]int16
	for c := range 100 {
		codec.PCMU.DecodeTo(out[:], []byte{byte(c)})
		fs.dec[out[0]] = c
	}
	return fs
}

func (fs *frameSink) Write(pcm []int16) error {
	hi, ok1 := fs.dec[pcm[0]]
	lo, ok2 := fs.dec[pcm[1]]
	f := -1
	if ok1 && ok2 && pcm[2] == pcm[3] && pcm[3] == pcm[159] && pcm[2] != 0 {
		f = hi*100 + lo
	}
	fs.frames = append(fs.frames, f)
	return nil
}
func (fs *frameSink) Close() error { return nil }

// receiveImpaired plays a seeded impaired schedule through a session's whole receive path
// (handleRTPAt, playFrame) with ticks starting at phase; with move, each tick after one comes
// phaseShift earlier, rounded down to grid. It returns the added delay of every frame played
// (after the first 100 ticks), the late count and how many ticks moved.
func receiveImpaired(t *testing.T, arr []arrival, frames int, base, phase, grid time.Duration, move bool) ([]time.Duration, uint64, int) {
	t.Helper()
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	t0 := time.Unix(1000, 0)
	now := t0
	s.now = func() time.Time { return now }
	sink := newFrameSink()
	p := Params{Remote: peer, Codec: codec.PCMU, DTMFPT: 101, Receive: true, Sink: sink}
	s.Update(p)
	payload := make([]byte, 160)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 5}, Payload: payload}
	wire := make([]byte, 1500)
	out := make([]int16, codec.FrameSamples)
	var rx rtp.Packet
	var added []time.Duration
	ev, moves := 0, 0
	now = t0.Add(phase)
	for k := 0; k < frames+20; k++ {
		for ; ev < len(arr) && !t0.Add(arr[ev].at).After(now); ev++ {
			f := arr[ev].frame
			payload[0], payload[1] = byte(f/100), byte(f%100)
			for i := 2; i < len(payload); i++ {
				payload[i] = 0x40
			}
			pkt.SequenceNumber, pkt.Timestamp = uint16(f), uint32(f*codec.FrameSamples)
			n, _ := pkt.MarshalTo(wire)
			s.handleRTPAt(wire[:n], peer, &rx, t0.Add(arr[ev].at))
		}
		s.rx.playFrame(s, p, now, out)
		f := sink.frames[len(sink.frames)-1]
		if sh := s.rx.phaseShift(); f >= 0 && sh != 0 {
			t.Fatalf("tick %d: phaseShift %v after frame %d played: the shift would cut into it", k, sh, f)
		}
		if f >= 0 && k > 100 {
			added = append(added, now.Sub(t0)-time.Duration(f)*20*time.Millisecond-base)
		}
		next := 20 * time.Millisecond
		if sh := s.rx.phaseShift() / grid * grid; move && sh > 0 {
			next -= sh
			moves++
		}
		now = now.Add(next)
	}
	return added, s.rx.jitterStats().Late, moves
}

// TestReceivePhaseShift: through the whole receive path, ticks moved by phaseShift on the
// pacer's 5 ms grid play the median frame within minWait and a grid step of the largest
// jitter, whatever the phase the ticks started at, never later than fixed ticks, with late
// loss under 1 %; phaseShift is 0 after a frame that played.
func TestReceivePhaseShift(t *testing.T) {
	const frames = 1200
	base, grid := 20*time.Millisecond, 5*time.Millisecond
	for seed := uint64(5); seed <= 6; seed++ {
		for _, ph := range []time.Duration{2, 9, 16} {
			phase := ph * time.Millisecond
			arr, jit := impairedArrivals(seed, frames, base, 40*time.Millisecond, 0.01, 0.3)
			fixed, fl, _ := receiveImpaired(t, arr, frames, base, phase, grid, false)
			moved, ml, moves := receiveImpaired(t, arr, frames, base, phase, grid, true)
			maxJit := pctDur(jit, 1)
			fm, mm := pctDur(fixed, .5), pctDur(moved, .5)
			t.Logf("seed %d phase %v: fixed median %v late %d; moved median %v p95 %v late %d (%d moves); jitter max %v",
				seed, phase, fm, fl, mm, pctDur(moved, .95), ml, moves, maxJit)
			if moves == 0 && fm > maxJit+minWait+grid {
				t.Errorf("seed %d phase %v: the ticks never moved, fixed median %v", seed, phase, fm)
			}
			if mm > maxJit+minWait+grid || mm > fm {
				t.Errorf("seed %d phase %v: moved median %v, want ≤ max jitter %v + %v + %v and ≤ fixed %v", seed, phase, mm, maxJit, minWait, grid, fm)
			}
			if ml*100 >= uint64(len(jit)) {
				t.Errorf("seed %d phase %v: %d of %d packets late", seed, phase, ml, len(jit))
			}
		}
	}
}
