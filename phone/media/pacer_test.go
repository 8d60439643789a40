package media

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
)

// pairedSessions opens n sessions (n even) on loopback, each pair sending to each other, with
// parameters set but not started: a private pacerRun paces them (tests and benchmarks call its
// tick), the process's shared pacer does not. poll sets the sockets up for the pacer to read
// as Start would; without it, Start does.
func pairedSessions(tb testing.TB, n int, poll bool) []*Session {
	tb.Helper()
	lo := netip.MustParseAddr("127.0.0.1")
	ss := make([]*Session, n)
	tone := audiotest.NewTone(1000, 0.5).Samples(codec.SampleRate) // one second, as a WAV file decoded once
	for i := range ss {
		s, err := Open(Config{IP: lo})
		if err != nil {
			tb.Fatalf("session %d: %v", i, err)
		}
		tb.Cleanup(func() { s.Close() })
		ss[i] = s
	}
	for i, s := range ss {
		s.Update(Params{Remote: ss[i^1].LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true,
			Source: &loopSource{pcm: tone}, Sink: discard{}})
		if poll {
			s.poll = pollerFor(s.rtpIO) // what Start does for the shared pacer; nil off Linux
		}
	}
	return ss
}

// loopSource plays pcm over and over; sessions may share pcm.
type loopSource struct {
	pcm []int16
	pos int
}

func (l *loopSource) Read(frame []int16) error {
	for n := 0; n < len(frame); {
		c := copy(frame[n:], l.pcm[l.pos:])
		n += c
		l.pos = (l.pos + c) % len(l.pcm)
	}
	return nil
}

func (l *loopSource) Close() error { return nil }

// pacerGoroutines counts the goroutines of shared pacer runs (the tick loop and workers).
func pacerGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		// A goroutine that has not run yet shows only where it was created.
		if strings.Contains(g, "media.(*pacerRun).") || strings.Contains(g, "media.newPacerRun") {
			n++
		}
	}
	return n
}

// TestPacerTickPacesEverySessionOnce drives a private run's ticks by hand on its grid: each
// tick sends exactly one frame for every session, shares split among workers when there are
// many; sessions that join get their first frame at the next tick, sessions that leave get
// none after remove returns; what was sent one tick is received the next.
func TestPacerTickPacesEverySessionOnce(t *testing.T) {
	const n = 2*minPacerShare + 2 // more than one share: the workers run too
	ss := pairedSessions(t, n, true)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 4)
	defer r.stop()
	for _, s := range ss[:n-2] {
		r.add(s, grid)
	}
	tickAt := func(k int) { r.tick(grid.Add(time.Duration(k) * frameDur)) }
	sent := func() []uint64 {
		out := make([]uint64, n)
		for i, s := range ss {
			out[i] = s.Stats().PacketsSent
		}
		return out
	}
	for k := 1; k <= 3; k++ {
		tickAt(k)
		for i, c := range sent() {
			if want := uint64(k * btoi(i < n-2)); c != want {
				t.Fatalf("tick %d: session %d sent %d, want %d", k, i, c, want)
			}
		}
	}
	r.add(ss[n-2], grid.Add(3*frameDur+time.Millisecond)) // joins mid-frame: due at tick 4
	r.add(ss[n-1], grid.Add(3*frameDur+time.Millisecond))
	r.remove(ss[0]) // what pacer.remove does, without the shared pacer
	ss[0].frameMu.Lock()
	ss[0].paced = nil
	ss[0].frameMu.Unlock()
	before := sent()
	tickAt(4)
	after := sent()
	for i := range ss {
		want := before[i] + 1
		if i == 0 {
			want = before[i]
		}
		if after[i] != want {
			t.Fatalf("tick 4: session %d sent %d after %d, want %d", i, after[i], before[i], want)
		}
	}
	if got := ss[3].Stats().PacketsReceived; got < 3 {
		t.Fatalf("session 3 received %d packets in 4 ticks from its partner, want ≥ 3", got)
	}
	if f := r.stats.read().Frames; f != uint64(3*(n-2)+n-1) {
		t.Fatalf("lateness recorded for %d frames, want %d", f, 3*(n-2)+n-1)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPacerJoinLeaveUnderLoad starts and closes real sessions from several goroutines while
// the shared pacer ticks (run it with -race): every session is paced while it lives, nothing
// is left behind, and the pacer's goroutines are gone once the last one closed.
func TestPacerJoinLeaveUnderLoad(t *testing.T) {
	if !sharedPacerWorks() {
		t.Skip("no shared pacer on this system (timerfd is Linux only): sessions pace themselves")
	}
	base := ReadPacerStats()
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 6 {
				a, b := openPair(t)
				a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true, Sink: discard{}})
				b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true, Sink: discard{}})
				deadline := time.Now().Add(5 * time.Second) // bounded: a starved machine may be slow
				for a.Stats().PacketsSent < 2 && time.Now().Before(deadline) {
					time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
				}
				if a.Stats().PacketsSent < 2 {
					errs <- "a started session sent nothing in 5 s"
				}
				a.Close()
				b.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := ReadPacerStats()
	if st.Sessions != base.Sessions {
		t.Fatalf("%d sessions paced after all closed, %d before", st.Sessions, base.Sessions)
	}
	if st.Frames <= base.Frames {
		t.Fatalf("no frame recorded: %+v", st)
	}
	if base.Sessions == 0 {
		if n := pacerGoroutines(); n != 0 {
			t.Fatalf("%d pacer goroutines left after the last Close", n)
		}
	}
}

// sharedPacerWorks reports whether Start puts real-clock sessions on the shared pacer here.
func sharedPacerWorks() bool {
	t, err := newFrameTimer(frameDur)
	if err != nil {
		return false
	}
	t.close()
	return true
}

// TestPacerGoroutinesGoneAfterLastClose: one real session starts the pacer's goroutines, its
// Close ends them (Close waits), and a session with an injected ticker never uses the pacer.
func TestPacerGoroutinesGoneAfterLastClose(t *testing.T) {
	if !sharedPacerWorks() {
		t.Skip("no shared pacer on this system (timerfd is Linux only): sessions pace themselves")
	}
	if n := pacerGoroutines(); n != 0 {
		t.Fatalf("%d pacer goroutines before any session", n)
	}
	tick := make(chan time.Time)
	own, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1"),
		NewTicker: func(time.Duration) (<-chan time.Time, func()) { return tick, func() {} }})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	own.Start(Params{Remote: netip.MustParseAddrPort("127.0.0.1:9"), Codec: codec.PCMU, DTMFPT: -1})
	if n, st := pacerGoroutines(), ReadPacerStats(); n != 0 || st.Sessions != 0 {
		t.Fatalf("a session with its own ticker is on the shared pacer: %d goroutines, %+v", n, st)
	}
	a, b := openPair(t)
	a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Send: true})
	b.Start(Params{Remote: a.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Receive: true, Sink: discard{}})
	if n, st := pacerGoroutines(), ReadPacerStats(); n < 1 || st.Sessions != 2 {
		t.Fatalf("two sessions started: %d pacer goroutines, %+v", n, st)
	}
	a.Close()
	if n := pacerGoroutines(); n < 1 {
		t.Fatal("the pacer stopped while a session was left")
	}
	b.Close()
	if n, st := pacerGoroutines(), ReadPacerStats(); n != 0 || st.Sessions != 0 {
		t.Fatalf("after the last Close: %d pacer goroutines, %+v", n, st)
	}
}

// blockingSink holds the pacer inside a frame until released.
type blockingSink struct {
	entered chan struct{} // one value when a Write starts waiting
	release chan struct{} // closed to let Writes return
	mu      sync.Mutex
	writes  int
}

func (b *blockingSink) Write([]int16) error {
	b.mu.Lock()
	b.writes++
	first := b.writes == 1
	b.mu.Unlock()
	if first {
		b.entered <- struct{}{}
	}
	<-b.release
	return nil
}

func (b *blockingSink) Close() error { return nil }

func (b *blockingSink) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writes
}

// TestPacerCloseWaitsForTheFrameInProgress: Close does not return while the shared pacer is
// inside the session's frame, and nothing is played after it returns.
func TestPacerCloseWaitsForTheFrameInProgress(t *testing.T) {
	if !sharedPacerWorks() {
		t.Skip("no shared pacer on this system (timerfd is Linux only): sessions pace themselves")
	}
	sink := &blockingSink{entered: make(chan struct{}, 1), release: make(chan struct{})}
	var once sync.Once
	releaseSink := func() { once.Do(func() { close(sink.release) }) }
	t.Cleanup(releaseSink) // a failing test must not leave the pacer stuck
	a, b := openPair(t)
	a.Start(Params{Remote: b.LocalAddr(), Codec: codec.PCMU, DTMFPT: -1, Receive: true, Sink: sink})
	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the pacer never played a frame in 10 s")
	}
	closed := make(chan struct{})
	go func() { a.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while the pacer was inside the session's frame")
	case <-time.After(100 * time.Millisecond): // five ticks: Close is waiting, as it must
	}
	releaseSink()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return once the frame ended")
	}
	n := sink.count()
	time.Sleep(100 * time.Millisecond) // five more ticks of the other session
	if m := sink.count(); m != n {
		t.Fatalf("%d frames played after Close returned", m-n)
	}
}

// TestPacerLatenessHistogram checks the buckets' arithmetic and the percentiles read from them.
func TestPacerLatenessHistogram(t *testing.T) {
	// Every microsecond value falls in a bucket whose edges hold it, buckets are in order and
	// at most 1/32 of their value wide.
	prev := -1
	for _, us := range append(seq(0, 5000), 1<<20, 1<<25, 1<<31, 1<<40) {
		i := histBucket(us)
		if i < prev || i >= histBuckets {
			t.Fatalf("%d µs: bucket %d after %d", us, i, prev)
		}
		prev = i
		if up := histUpper(i); i < histBuckets-1 && up <= us {
			t.Fatalf("%d µs in bucket %d whose upper edge is %d", us, i, up)
		}
		if i > 0 && i < histBuckets-1 && histUpper(i-1) > us {
			t.Fatalf("%d µs in bucket %d, but bucket %d reaches %d", us, i, i-1, histUpper(i-1))
		}
		if lo := histUpper(i - 1); i >= histLinear && i < histBuckets-1 && float64(histUpper(i)-lo) > float64(lo)/histSub+1 {
			t.Fatalf("bucket %d is [%d, %d): wider than 1/32", i, lo, histUpper(i))
		}
	}
	if histBucket(-5) != 0 || histBucket(1<<50) != histBuckets-1 {
		t.Fatal("out-of-range values must land in the first and last bucket")
	}
	// 1..1000 µs spread over two workers' histograms, plus one 40 ms straggler.
	var ps pacerStats
	for us := 1; us <= 1000; us++ {
		ps.late[us%2].record(time.Duration(us) * time.Microsecond)
	}
	ps.late[3].record(40 * time.Millisecond)
	got := ps.read()
	if got.Frames != 1001 || got.LateMax != 40*time.Millisecond {
		t.Fatalf("frames %d max %v", got.Frames, got.LateMax)
	}
	within := func(name string, d, want time.Duration) {
		if d < want || float64(d) > float64(want)*(1+1.0/histSub)+float64(time.Microsecond) {
			t.Errorf("%s %v, want %v (+1/32)", name, d, want)
		}
	}
	within("p50", got.LateP50, 501*time.Microsecond) // the 501st of 1001 values
	within("p99", got.LateP99, 991*time.Microsecond) // the 991st (ceil(0.99 × 1001))
	if empty := new(pacerStats).read(); empty.LateP50 != 0 || empty.LateP99 != 0 || empty.Frames != 0 {
		t.Fatalf("empty histogram: %+v", empty)
	}
}

func seq(from, to int64) []int64 {
	var out []int64
	for v := from; v < to; v++ {
		out = append(out, v)
	}
	return out
}

// TestPacerCatchUpAndRestart: on the shared pacer each session keeps its own schedule. Ticks
// that never came are caught up at the next one (up to maxCatchUp frames at once), a stall
// longer than that restarts the schedule at the current tick instead of bursting; every frame
// sent has its lateness recorded.
func TestPacerCatchUpAndRestart(t *testing.T) {
	ss := pairedSessions(t, 2, true)
	grid := time.Now()
	stats := new(pacerStats)
	r := newPacerRun(stats, grid, 1)
	defer r.stop()
	r.add(ss[0], grid)
	at := func(k int) time.Time { return grid.Add(time.Duration(k) * frameDur) }
	sent := func() uint64 { return ss[0].Stats().PacketsSent }
	r.tick(at(1))
	if got := sent(); got != 1 {
		t.Fatalf("first tick: %d frames sent, want 1", got)
	}
	r.tick(at(4)) // ticks 2 and 3 never came
	if got := sent(); got != 4 {
		t.Fatalf("after ticks 2 and 3 were missed: %d frames sent, want 4 (caught up)", got)
	}
	r.tick(at(4 + maxCatchUp + 5)) // a stall longer than maxCatchUp frames
	if got := sent(); got != 5 {
		t.Fatalf("after a long stall: %d frames sent, want 5 (one: the schedule restarts)", got)
	}
	r.tick(at(4 + maxCatchUp + 6))
	if got := sent(); got != 6 {
		t.Fatalf("the tick after the restart: %d frames sent, want 6", got)
	}
	if st := stats.read(); st.Frames != 6 {
		t.Fatalf("lateness recorded for %d frames, want 6", st.Frames)
	}
}

// TestPacerRunStartsWorkersWhenATickNeedsThem: a run pacing a few calls runs on its tick
// goroutine alone and allocates one set of receive buffers; the worker goroutines start at the
// first tick with more than one share, as many as its shares; the shared pacer hands a
// stopped run's buffers to the next run.
func TestPacerRunStartsWorkersWhenATickNeedsThem(t *testing.T) {
	const n = 2*minPacerShare + 2 // three shares
	grid := time.Now()
	one := newPacerRun(new(pacerStats), grid, 4)
	defer one.stop()
	one.add(pairedSessions(t, 2, true)[0], grid)
	one.tick(grid.Add(frameDur))
	if len(one.workers) != 1 || one.workers[0].rb == nil {
		t.Fatalf("one session: %d workers (buffers %v), want the tick goroutine's own, with buffers", len(one.workers), one.workers[0].rb != nil)
	}
	t.Cleanup(func() { pacerPhaseCount = phases })
	pacerPhaseCount = 1 // every session on one phase: one tick paces them all
	many := newPacerRun(new(pacerStats), grid, 4)
	defer many.stop()
	for _, s := range pairedSessions(t, n, true) {
		many.add(s, grid)
	}
	many.tick(grid.Add(frameDur))
	if len(many.workers) != 1+3 {
		t.Fatalf("%d sessions: %d workers, want the tick goroutine's and 3", n, len(many.workers))
	}
	for i, w := range many.workers[1:] {
		if w.rb == nil {
			t.Errorf("worker %d paced a share without receive buffers", i+1)
		}
	}

	p := &sharedPacer{stats: new(pacerStats)}
	a, b := pairedSessions(t, 2, true)[0], pairedSessions(t, 2, true)[0]
	if err := p.add(a); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); a.Stats().PacketsSent == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the shared pacer sent nothing in 5 s")
		}
	}
	p.remove(a) // the last session: the run stops, its goroutine gone
	rb := p.rb
	if p.run != nil || rb == nil {
		t.Fatalf("after the last session left: run %v, kept buffers %p, want the run gone and its buffers kept", p.run, rb)
	}
	if err := p.add(b); err != nil {
		t.Fatal(err)
	}
	defer p.remove(b)
	if p.run.workers[0].rb != rb || p.rb != nil {
		t.Fatalf("the next run has buffers %p, want the last run's %p", p.run.workers[0].rb, rb)
	}
}
