package media

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// phaseOf is the phase whose list holds s, or -1.
func (r *pacerRun) phaseOf(s *Session) int {
	for ph := range r.lists {
		if slices.Contains(*r.lists[ph].Load(), s) {
			return ph
		}
	}
	return -1
}

func (r *pacerRun) loads() [phases]int {
	var n [phases]int
	for ph := range r.lists {
		n[ph] = len(*r.lists[ph].Load())
	}
	return n
}

// TestPacerPhaseAssignment: the first minPacerShare sessions join phase 0 and the period stays
// 20 ms; every later one joins the least loaded phase (the lowest of equals) and the period is
// 5 ms while any phase but 0 has a session; a phase 0 that fell below minPacerShare takes new
// sessions again; with one phase (the pacer before phases) everything stays on phase 0.
func TestPacerPhaseAssignment(t *testing.T) {
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	defer r.stop()
	var ss []*Session
	add := func() (*Session, int) {
		s := &Session{}
		before := r.loads()
		r.add(s, grid)
		ss = append(ss, s)
		ph := r.phaseOf(s)
		if ph < 0 || r.loads()[ph] != before[ph]+1 {
			t.Fatalf("session %d: joined phase %d, loads %v → %v", len(ss), ph, before, r.loads())
		}
		want := 0
		if before[0] >= minPacerShare {
			for p := range phases {
				if before[p] < before[want] {
					want = p
				}
			}
		}
		if ph != want {
			t.Fatalf("session %d joined phase %d with loads %v, want %d", len(ss), ph, before, want)
		}
		return s, ph
	}
	period := func() time.Duration { return time.Duration(r.period.Load()) }
	for range minPacerShare {
		add()
		if period() != frameDur {
			t.Fatalf("%d sessions on phase 0: period %v, want %v", len(ss), period(), frameDur)
		}
	}
	for i := range 3 {
		_, ph := add()
		if ph != i+1 || period() != phaseDur {
			t.Fatalf("session %d: phase %d, period %v; want phase %d, period %v", len(ss), ph, period(), i+1, phaseDur)
		}
	}
	// Phase 0 drops below minPacerShare: the next session joins it, though the others hold
	// fewer (one each).
	if !r.remove(ss[0]) {
		t.Fatal("remove: session not found")
	}
	if _, ph := add(); ph != 0 {
		t.Fatalf("phase 0 below %d, loads %v: new session joined phase %d", minPacerShare, r.loads(), ph)
	}
	for range 200 {
		add()
	}
	if n := r.loads(); slices.Max(n[:])-slices.Min(n[:]) > 1 {
		t.Fatalf("after %d sessions the phases hold %v: not balanced", len(ss), n)
	}
	// Everything off phases 1–3: the period returns to 20 ms.
	for _, s := range ss[1:] { // ss[0] left already
		if r.phaseOf(s) > 0 {
			if period() != phaseDur {
				t.Fatalf("sessions on phases 1–3 (%v): period %v", r.loads(), period())
			}
			r.remove(s)
		}
	}
	if n := r.loads(); n[1]+n[2]+n[3] != 0 || period() != frameDur {
		t.Fatalf("phases 1–3 empty: loads %v, period %v, want %v", n, period(), frameDur)
	}

	// One phase: the pacer as it was, every session on phase 0 and a 20 ms timer.
	t.Cleanup(func() { pacerPhaseCount = phases })
	pacerPhaseCount = 1
	one := newPacerRun(new(pacerStats), grid, 1)
	defer one.stop()
	for range 3 * minPacerShare {
		one.add(&Session{}, grid)
	}
	if n := one.loads(); n[0] != 3*minPacerShare || time.Duration(one.period.Load()) != frameDur {
		t.Fatalf("one phase: loads %v, period %v", n, time.Duration(one.period.Load()))
	}
}

// TestPacerPhasesPaceOncePerFrame drives a private run's ticks by hand every 5 ms on its grid,
// with more sessions than phase 0 takes: each tick serves one phase (never two, the others
// wait), every session sends exactly one frame every 20 ms, on the slots of its own phase from
// the first one after it joined; a session joining mid-run starts at its phase's next slot.
// Missed ticks are served by the next one, each phase once.
func TestPacerPhasesPaceOncePerFrame(t *testing.T) {
	const n = 2*minPacerShare + 8
	ss := pairedSessions(t, n, true)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 4)
	defer r.stop()
	for _, s := range ss[:n-2] {
		r.add(s, grid)
	}
	sent := func() []uint64 {
		out := make([]uint64, n)
		for i, s := range ss {
			out[i] = s.Stats().PacketsSent
		}
		return out
	}
	joined := map[int]int{} // session → slot after which it joined
	for i := range n - 2 {
		joined[i] = 0
	}
	prev := sent()
	for slot := 1; slot <= 24; slot++ {
		r.tick(grid.Add(time.Duration(slot) * phaseDur))
		if slot == 9 { // two join mid-frame, after this slot's tick
			for i := n - 2; i < n; i++ {
				r.add(ss[i], grid.Add(9*phaseDur+time.Millisecond))
				joined[i] = 9
			}
		}
		now := sent()
		served := map[int]bool{}
		for i := range ss {
			ph := r.phaseOf(ss[i])
			j, ok := joined[i]
			want := uint64(0)
			if ok && slot > j && slot%phases == ph {
				want = 1
			}
			if got := now[i] - prev[i]; got != want {
				t.Fatalf("slot %d: session %d (phase %d, joined after slot %d) sent %d, want %d", slot, i, ph, j, got, want)
			}
			if now[i] > prev[i] {
				served[ph] = true
			}
		}
		if len(served) > 1 {
			t.Fatalf("slot %d served phases %v: one a tick", slot, served)
		}
		prev = now
	}
	if l := r.loads(); l[1] == 0 || l[2] == 0 || l[3] == 0 {
		t.Fatalf("phases %v: the test needs sessions on every phase", l)
	}
	// Ticks 25–27 never come: tick 28 serves each phase once, and each session sends the one
	// frame that fell due meanwhile.
	r.tick(grid.Add(28 * phaseDur))
	for i, c := range sent() {
		if d := c - prev[i]; d != 1 {
			t.Fatalf("after three missed ticks: session %d (phase %d) sent %d, want 1", i, r.phaseOf(ss[i]), d)
		}
	}
	// A wake with no new slot (a re-arm's immediate expiry) serves nothing.
	before := sent()
	r.tick(grid.Add(28*phaseDur + time.Millisecond))
	if after := sent(); !slices.Equal(before, after) {
		t.Fatal("a second tick in the same slot sent frames")
	}
}

// TestPacerPeriodFollowsPhases: on the real shared pacer, the kernel's timer ticks every 20 ms
// while only phase 0 has sessions, every 5 ms once a session spills over, and every 20 ms again
// when the spilled sessions close; every session is paced on either period; after the last
// Close no pacer goroutine is left.
func TestPacerPeriodFollowsPhases(t *testing.T) {
	if !sharedPacerWorks() {
		t.Skip("no shared pacer on this system (timerfd is Linux only): sessions pace themselves")
	}
	if n := pacerGoroutines(); n != 0 {
		t.Fatalf("%d pacer goroutines before any session", n)
	}
	const n = minPacerShare + 2
	ss := pairedSessions(t, n, false)
	kernelPeriod := func() (time.Duration, error) {
		pacer.mu.Lock()
		defer pacer.mu.Unlock()
		if pacer.run == nil {
			return 0, fmt.Errorf("no pacer run")
		}
		return pacer.run.timer.period()
	}
	expect := func(when string, want time.Duration) {
		t.Helper()
		got, err := kernelPeriod()
		if err != nil || got != want {
			t.Fatalf("%s: timer period %v (%v), want %v", when, got, err, want)
		}
	}
	// flowing waits (bounded) for each of ss to send another frame.
	flowing := func(when string, ss []*Session) {
		t.Helper()
		base := make([]uint64, len(ss))
		for i, s := range ss {
			base[i] = s.Stats().PacketsSent
		}
		deadline := time.Now().Add(10 * time.Second) // a starved machine may be slow
		for i, s := range ss {
			for s.Stats().PacketsSent <= base[i] && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if s.Stats().PacketsSent <= base[i] {
				t.Fatalf("%s: session %d sent nothing in 10 s", when, i)
			}
		}
	}
	for _, s := range ss[:minPacerShare] {
		s.Start(s.current())
	}
	expect("phase 0 full", frameDur)
	flowing("phase 0 full", ss[:minPacerShare])
	ss[minPacerShare].Start(ss[minPacerShare].current())
	expect("one session on phase 1", phaseDur)
	ss[n-1].Start(ss[n-1].current())
	expect("two sessions off phase 0", phaseDur)
	flowing("5 ms ticks", ss)
	ss[minPacerShare].Close()
	expect("one session off phase 0 left", phaseDur)
	ss[n-1].Close()
	expect("phases 1–3 empty", frameDur)
	flowing("20 ms ticks again", ss[:minPacerShare])
	for _, s := range ss {
		s.Close()
	}
	if g, st := pacerGoroutines(), ReadPacerStats(); g != 0 || st.Sessions != 0 {
		t.Fatalf("after the last Close: %d pacer goroutines, %+v", g, st)
	}
}
