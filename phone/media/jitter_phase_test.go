package media

import (
	"testing"
	"time"
)

// playRephased is playImpaired with ticks that move earlier by the buffer's PhaseSlack, in
// steps of grid, after a tick that concealed (Missing, Inserted) or played silence while
// playing: where a time shift is not heard. grid 0 never moves them (playImpaired).
func playRephased(cfg JitterConfig, arr []arrival, frames int, base, phase, grid time.Duration) ([]time.Duration, JitterStats, int) {
	jb := NewJitterBuffer(cfg)
	t0 := time.Unix(1000, 0)
	payload := make([]byte, 160)
	var added []time.Duration
	ev, moves := 0, 0
	now := t0.Add(phase)
	for k := 0; k < frames+20; k++ {
		for ; ev < len(arr) && !t0.Add(arr[ev].at).After(now); ev++ {
			f := arr[ev].frame
			payload[0], payload[1] = byte(f>>8), byte(f)
			jb.Push(Packet{Seq: uint16(f), Timestamp: uint32(f * 160), SSRC: 1, Payload: payload, Arrival: t0.Add(arr[ev].at)})
		}
		p, st := jb.Pop(now)
		if st == Played && k > 100 {
			f := int(p[0])<<8 | int(p[1])
			added = append(added, now.Sub(t0)-time.Duration(f)*20*time.Millisecond-base)
		}
		next := 20 * time.Millisecond
		if grid > 0 && st != Played {
			if s := jb.PhaseSlack() / grid * grid; s > 0 {
				next -= s
				moves++
			}
		}
		now = now.Add(next)
	}
	return added, jb.Stats(), moves
}

// TestJitterPhaseSlackFollowsTarget: whatever the tick phase, ticks moved by PhaseSlack on the
// pacer's 5 ms phase grid (only at concealed or silent ticks) play the median frame within
// minWait plus a grid step of the largest jitter, where fixed ticks play it up to a frame
// later, with late loss still under 1 %. Moving them never plays a frame later than fixed ticks.
func TestJitterPhaseSlackFollowsTarget(t *testing.T) {
	const frames = 1500
	base, grid := 20*time.Millisecond, 5*time.Millisecond
	var sumFixed, sumMoved time.Duration
	runs := 0
	for seed := uint64(1); seed <= 4; seed++ {
		for ph := time.Duration(0); ph < 20; ph += 3 {
			phase := ph * time.Millisecond
			arr, jit := impairedArrivals(seed, frames, base, 40*time.Millisecond, 0.01, 0.3)
			fixed, fs, _ := playRephased(JitterConfig{}, arr, frames, base, phase, 0)
			moved, ms, moves := playRephased(JitterConfig{}, arr, frames, base, phase, grid)
			maxJit := pctDur(jit, 1)
			fm, mm := pctDur(fixed, .5), pctDur(moved, .5)
			sumFixed += fm
			sumMoved += mm
			runs++
			t.Logf("seed %d phase %v: fixed median %v late %d; moved median %v p95 %v late %d (%d moves); jitter max %v",
				seed, phase, fm, fs.Late, mm, pctDur(moved, .95), ms.Late, moves, maxJit)
			if mm > maxJit+minWait+grid {
				t.Errorf("seed %d phase %v: moved ticks' median added delay %v, want ≤ max jitter %v + %v + %v", seed, phase, mm, maxJit, minWait, grid)
			}
			if mm > fm {
				t.Errorf("seed %d phase %v: moved ticks' median %v above fixed ticks' %v", seed, phase, mm, fm)
			}
			if ms.Late*100 >= uint64(len(jit)) {
				t.Errorf("seed %d phase %v: moved ticks lost %d of %d packets to lateness", seed, phase, ms.Late, len(jit))
			}
		}
	}
	t.Logf("average median added delay over %d runs: fixed ticks %v, moved ticks %v", runs, sumFixed/time.Duration(runs), sumMoved/time.Duration(runs))
}
