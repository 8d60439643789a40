package media

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// impairedArrivals is a seeded netem-like schedule: frame n leaves at n×20 ms and arrives
// base + U(0, jitterMax) later unless Gilbert–Elliott loss (p, r) drops it; 1 % duplicates.
type arrival struct {
	at    time.Duration
	frame int
}

func impairedArrivals(seed uint64, frames int, base, jitterMax time.Duration, p, r float64) ([]arrival, []time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []arrival
	jit := make([]time.Duration, 0, frames)
	bad := false
	for n := range frames {
		if bad {
			bad = rng.Float64() >= r
		} else {
			bad = rng.Float64() < p
		}
		d := time.Duration(rng.Float64() * float64(jitterMax))
		if bad && n >= 50 {
			continue
		}
		jit = append(jit, d)
		at := time.Duration(n)*20*time.Millisecond + base + d
		out = append(out, arrival{at, n})
		if rng.Float64() < 0.01 {
			out = append(out, arrival{at + time.Duration(rng.Float64()*float64(10*time.Millisecond)), n})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].at < out[b].at })
	return out, jit
}

// playImpaired runs a schedule through a default buffer with ticks at phase and returns the
// added delay of each played frame (playout minus the fastest possible arrival, base) and the
// buffer's counters.
func playImpaired(cfg JitterConfig, arr []arrival, frames int, base, phase time.Duration) ([]time.Duration, JitterStats) {
	jb := NewJitterBuffer(cfg)
	t0 := time.Unix(1000, 0)
	payload := make([]byte, 160)
	var added []time.Duration
	ev := 0
	for k := 0; k < frames+20; k++ {
		now := t0.Add(phase + time.Duration(k)*20*time.Millisecond)
		for ; ev < len(arr) && !t0.Add(arr[ev].at).After(now); ev++ {
			f := arr[ev].frame
			payload[0], payload[1] = byte(f>>8), byte(f)
			jb.Push(Packet{Seq: uint16(f), Timestamp: uint32(f * 160), SSRC: 1, Payload: payload, Arrival: t0.Add(arr[ev].at)})
		}
		if p, st := jb.Pop(now); st == Played && k > 100 {
			f := int(p[0])<<8 | int(p[1])
			added = append(added, now.Sub(t0)-time.Duration(f)*20*time.Millisecond-base)
		}
	}
	return added, jb.Stats()
}

func pctDur(v []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// TestJitterImpairedDelay: under netem-like impairment (20 ms + uniform 0–40 ms jitter,
// about 3 % loss in bursts, 1 % duplicates), the default PolicyPeak plays within one frame of the
// largest jitter seen (the tick phase decides where in that frame) while losing under 1 %
// of the delivered packets to lateness, and earlier than PolicyJitterMultiple in every case.
func TestJitterImpairedDelay(t *testing.T) {
	const frames = 1500
	base := 20 * time.Millisecond
	for seed := uint64(1); seed <= 4; seed++ {
		for _, phase := range []time.Duration{1, 7, 13, 19} {
			phase *= time.Millisecond
			arr, jit := impairedArrivals(seed, frames, base, 40*time.Millisecond, 0.01, 0.3)
			low, ls := playImpaired(JitterConfig{}, arr, frames, base, phase)
			def, ds := playImpaired(JitterConfig{Policy: PolicyJitterMultiple}, arr, frames, base, phase)
			maxJit := pctDur(jit, 1)
			lm, dm := pctDur(low, .5), pctDur(def, .5)
			t.Logf("seed %d phase %v: peak median %v p95 %v late %d; jitter-multiple median %v late %d; jitter p95 %v max %v",
				seed, phase, lm, pctDur(low, .95), ls.Late, dm, ds.Late, pctDur(jit, .95), maxJit)
			if lm > maxJit+20*time.Millisecond {
				t.Errorf("seed %d phase %v: peak median added delay %v, want ≤ max jitter %v + one frame", seed, phase, lm, maxJit)
			}
			if lm >= dm {
				t.Errorf("seed %d phase %v: peak median %v not below jitter-multiple's %v", seed, phase, lm, dm)
			}
			for name, st := range map[string]JitterStats{"peak": ls, "jitter-multiple": ds} {
				if st.Late*100 >= uint64(len(jit)) {
					t.Errorf("seed %d phase %v: %s lost %d of %d packets to lateness", seed, phase, name, st.Late, len(jit))
				}
			}
		}
	}
}

// TestLowDelayFollowsJitterDown: after a burst of heavy jitter the PolicyPeak level comes
// back down once the network is calm (the peak decays, the buffer shrinks), and a single
// stalled packet raises it by at most about a frame, not by the stall.
func TestLowDelayFollowsJitterDown(t *testing.T) {
	cases := []struct {
		name    string
		jitter  func(n int, r *rand.Rand) time.Duration
		maxEnd  time.Duration // added delay over the last second
		maxLate uint64
	}{
		{"burst then calm", func(n int, r *rand.Rand) time.Duration {
			if n < 500 {
				return time.Duration(r.Float64() * float64(100*time.Millisecond))
			}
			return 0
		}, 60 * time.Millisecond, 15},
		{"one stall", func(n int, r *rand.Rand) time.Duration {
			if n == 700 {
				return 300 * time.Millisecond
			}
			return time.Duration(r.Float64() * float64(10*time.Millisecond))
		}, 60 * time.Millisecond, 2},
	}
	for _, c := range cases {
		r := rand.New(rand.NewPCG(3, 4))
		var arr []arrival
		for n := range 3000 {
			arr = append(arr, arrival{time.Duration(n)*20*time.Millisecond + c.jitter(n, r), n})
		}
		sort.SliceStable(arr, func(a, b int) bool { return arr[a].at < arr[b].at })
		added, st := playImpaired(JitterConfig{}, arr, 3000, 0, 9*time.Millisecond)
		end := pctDur(added[len(added)-50:], 1)
		t.Logf("%s: added at the end %v, median %v, stats %+v", c.name, end, pctDur(added, .5), st)
		if end > c.maxEnd {
			t.Errorf("%s: added delay at the end %v, want ≤ %v", c.name, end, c.maxEnd)
		}
		if st.Late > c.maxLate {
			t.Errorf("%s: %d late, want ≤ %d", c.name, st.Late, c.maxLate)
		}
	}
}
