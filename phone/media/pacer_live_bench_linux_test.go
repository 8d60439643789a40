package media

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkPacerLive1000 is issue 10's scale target inside one process: 1000 sessions (500
// loopback pairs, each side sending and playing G.711) started on the real shared pacer and
// left running for DIALTONE_PACER_SECONDS (default 10) of real time. It reports how late
// frames left against their due ticks (ReadPacerStats: p50, p99, max), ticks that overran
// 20 ms, packets lost on the way (sent but never received), frames concealed at playout, and
// the process's CPU per session-frame and as a share of one core.
//
// It runs twice in the same process: phases=1 is the pacer before phases (every session due
// at the same instant of a 20 ms tick), phases=4 spreads them over four phases 5 ms apart
// (pacer_phase.go). DIALTONE_PACER_PHASES=1 or 4 runs only that one.
//
//	go test ./phone/media/ -run '^$' -bench PacerLive -benchtime 1x -v
func BenchmarkPacerLive1000(b *testing.B) {
	for _, k := range []int{1, phases} {
		if v := os.Getenv("DIALTONE_PACER_PHASES"); v != "" && v != strconv.Itoa(k) {
			continue
		}
		b.Run("phases="+strconv.Itoa(k), func(b *testing.B) {
			defer func(old int) { pacerPhaseCount = old }(pacerPhaseCount)
			pacerPhaseCount = k
			pacerLive(b)
		})
	}
}

func pacerLive(b *testing.B) {
	if !sharedPacerWorks() {
		b.Skip("no shared pacer on this system (timerfd is Linux only)")
	}
	const calls = 1000
	seconds := 10
	if v := os.Getenv("DIALTONE_PACER_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("DIALTONE_PACER_SECONDS=%q: want a positive number of seconds", v)
		}
		seconds = n
	}
	if st := ReadPacerStats(); st.Sessions != 0 {
		b.Fatalf("the shared pacer paces %d sessions already: run this benchmark alone", st.Sessions)
	}
	for b.Loop() {
		pacer.mu.Lock()
		pacer.stats = new(pacerStats) // no run holds the old one: each run its own record
		pacer.mu.Unlock()
		ss := pairedSessions(b, calls, false)
		cpu0, t0 := cpuTime(b), time.Now()
		for _, s := range ss {
			s.Start(s.current())
		}
		time.Sleep(time.Duration(seconds) * time.Second) // real time: the figures are of the real pacer
		st := ReadPacerStats()
		cpu, wall := cpuTime(b)-cpu0, time.Since(t0)
		for _, s := range ss { // stop sending, so that what is in flight lands before counting
			p := s.current()
			p.Send = false
			s.Update(p)
		}
		time.Sleep(5 * frameDur)
		var sent, received, concealed uint64
		for _, s := range ss {
			x := s.Stats()
			sent += x.PacketsSent
			received += x.PacketsReceived
			concealed += x.Concealed
		}
		for _, s := range ss {
			s.Close()
		}
		frames := float64(st.Frames)
		b.ReportMetric(float64(st.LateP50)/1e6, "late-p50-ms")
		b.ReportMetric(float64(st.LateP99)/1e6, "late-p99-ms")
		b.ReportMetric(float64(st.LateMax)/1e6, "late-max-ms")
		b.ReportMetric(float64(st.Overruns), "overruns")
		b.ReportMetric(100*float64(sent-min(sent, received))/float64(max(sent, 1)), "loss-%")
		b.ReportMetric(100*float64(concealed)/float64(max(received, 1)), "concealed-%")
		b.ReportMetric(float64(cpu.Nanoseconds())/frames, "ns/session-frame")
		b.ReportMetric(100*float64(cpu)/float64(wall), "core-%")
		b.Logf("%d sessions for %v: %d packets sent, %d received, %d concealed, %d overruns; lateness p50 %v p99 %v max %v; CPU %v (%.0f%% of one core)",
			calls, wall.Round(time.Millisecond), sent, received, concealed, st.Overruns, st.LateP50, st.LateP99, st.LateMax, cpu.Round(time.Millisecond), 100*float64(cpu)/float64(wall))
		if st.Frames == 0 || received == 0 {
			b.Fatalf("nothing flowed: %+v, %d received", st, received)
		}
	}
}
