package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/dialtone/dialtone/codec"
)

// The impairment: what tc netem would do (delay 20 ms + 0–40 ms jitter, Gilbert–Elliott bursty
// loss, duplicates, the reordering the jitter causes), drawn from a seeded PRNG so both
// receivers get exactly the same packets at the same offsets in the same run. The sender
// owns the timing itself: each packet leaves at its scheduled arrival, on loopback.
const (
	impBaseDelay = 20 * time.Millisecond
	impJitterMax = 40 * time.Millisecond
	impGoodToBad = 0.01 // Gilbert–Elliott p: about 3 % loss in bursts of ~3 frames
	impBadToGood = 0.30 // r
	impDupProb   = 0.01
	impFrame     = 20 * time.Millisecond
)

// sendEvent is one packet leaving the impairment.
type sendEvent struct {
	at    time.Duration // offset from the stream start
	frame int
}

// impairment is the fate of every frame of one run.
type impairment struct {
	frames int
	lost   []bool          // dropped by the network
	delay  []time.Duration // one-way delay of the first copy (base + jitter)
	events []sendEvent     // in departure order
}

func newImpairment(seed uint64, frames int) *impairment {
	r := rand.New(rand.NewPCG(seed, 0x6a177e7))
	im := &impairment{frames: frames, lost: make([]bool, frames), delay: make([]time.Duration, frames)}
	bad := false
	for n := range frames {
		if bad {
			bad = r.Float64() >= impBadToGood
		} else {
			bad = r.Float64() < impGoodToBad
		}
		im.delay[n] = impBaseDelay + time.Duration(r.Float64()*float64(impJitterMax))
		// A short warm-up without loss, so both receivers start from the same state.
		if bad && n >= 50 {
			im.lost[n] = true
			continue
		}
		at := time.Duration(n)*impFrame + im.delay[n]
		im.events = append(im.events, sendEvent{at: at, frame: n})
		if r.Float64() < impDupProb {
			im.events = append(im.events, sendEvent{at: at + time.Duration(r.Float64()*float64(10*time.Millisecond)), frame: n})
		}
	}
	sort.SliceStable(im.events, func(a, b int) bool { return im.events[a].at < im.events[b].at })
	return im
}

// jitters is each delivered frame's delay above the fastest delivered frame's.
func (im *impairment) jitters() []float64 {
	lo := time.Duration(math.MaxInt64)
	for n, d := range im.delay {
		if !im.lost[n] {
			lo = min(lo, d)
		}
	}
	var out []float64
	for n, d := range im.delay {
		if !im.lost[n] {
			out = append(out, impMS(d-lo))
		}
	}
	return out
}

// codedFrames are the PCM frames sent: a sine whose frequency steps by 50 Hz each frame
// (300–3300 Hz, 61 steps, phase continuous), so any recorded 20 ms block names the frame it
// came from by correlation, and concealment (which repeats the last pitch) matches none.
func codedFrames(frames int) [][]int16 {
	out := make([][]int16, frames)
	phase := 0.0
	for n := range out {
		hz := 300 + 50*float64(n%61)
		f := make([]int16, codec.FrameSamples)
		for i := range f {
			f[i] = int16(0.3 * 32767 * math.Sin(phase))
			phase += 2 * math.Pi * hz / codec.SampleRate
		}
		out[n] = f
	}
	return out
}

// sendImpaired plays the schedule to every destination at once (same departure for all),
// and returns each event's actual departure offset (the sleep is not exact on a busy box).
func sendImpaired(ctx context.Context, im *impairment, pcm [][]int16, dsts []*uac) ([]time.Duration, error) {
	payloads := make([][]byte, len(pcm))
	for n, f := range pcm {
		payloads[n] = make([]byte, codec.PCMU.EncodedLen(len(f)))
		codec.PCMU.EncodeTo(payloads[n], f)
	}
	ssrcs := make([]uint32, len(dsts))
	for i := range ssrcs {
		ssrcs[i] = rand.Uint32()
	}
	pkt := make([]byte, 12+codec.FrameSamples)
	actual := make([]time.Duration, len(im.events))
	start := time.Now()
	for i, ev := range im.events {
		if d := time.Until(start.Add(ev.at)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		actual[i] = time.Since(start)
		for k, u := range dsts {
			pkt[0], pkt[1] = 0x80, 0
			if ev.frame == 0 {
				pkt[1] = 0x80 // marker on the first packet
			}
			binary.BigEndian.PutUint16(pkt[2:], uint16(ev.frame+1000))
			binary.BigEndian.PutUint32(pkt[4:], uint32(ev.frame*codec.FrameSamples+4000))
			binary.BigEndian.PutUint32(pkt[8:], ssrcs[k])
			copy(pkt[12:], payloads[ev.frame])
			if _, err := u.rtp.WriteToUDP(pkt, u.rtpDst); err != nil {
				return nil, fmt.Errorf("rtp to %s: %w", u.rtpDst, err)
			}
		}
	}
	return actual, nil
}

// arrivals is each frame's first arrival offset from the stream start (-1 if lost).
func arrivals(im *impairment, actual []time.Duration) []time.Duration {
	out := make([]time.Duration, im.frames)
	for i := range out {
		out[i] = -1
	}
	for i, ev := range im.events {
		if out[ev.frame] < 0 {
			out[ev.frame] = actual[i]
		}
	}
	return out
}

func impMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
