package media

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// sendTimes drives a private run's ticks by hand every step on its grid for d, with s the
// only session, and returns when (on the grid) each of s's packets left, and the run's period.
func sendTimes(t *testing.T, s *Session, step, d time.Duration) (times []time.Duration, period time.Duration) {
	t.Helper()
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	defer r.stop()
	r.add(s, grid)
	period = time.Duration(r.period.Load())
	last := s.Stats().PacketsSent
	for at := step; at <= d; at += step {
		r.tick(grid.Add(at))
		n := s.Stats().PacketsSent
		for range n - last {
			times = append(times, at)
		}
		last = n
	}
	if !r.remove(s) {
		t.Fatal("the session was not paced")
	}
	return times, period
}

// TestPacketsBetweenTicksLeaveEvenly: G.711 packets of 10, 30 and 50 ms leave one packet
// duration apart, the shared pacer visiting the session halfway between its 20 ms ticks (and
// its timer ticking every 10 ms for it); 40 and 60 ms ones leave on ticks. Before, 30 ms
// packets left 20 and 40 ms apart and 10 ms ones two at a time. On 20 ms ticks alone (a
// session pacing itself) the same audio leaves all the same, only less evenly.
func TestPacketsBetweenTicksLeaveEvenly(t *testing.T) {
	const d = 600 * time.Millisecond
	for _, ptime := range []time.Duration{10, 30, 40, 50, 60} {
		ptime *= time.Millisecond
		t.Run(fmt.Sprint(ptime), func(t *testing.T) {
			ss := pairedSessions(t, 2, true)
			p := ss[0].current()
			p.Ptime = ptime
			ss[0].Update(p)
			between := ptime%frameDur != 0
			if ss[0].between.Load() != between {
				t.Fatalf("Session.between %v for %v packets", !between, ptime)
			}
			times, period := sendTimes(t, ss[0], halfFrame, d)
			if want := map[bool]time.Duration{true: halfFrame, false: frameDur}[between]; period != want {
				t.Fatalf("the timer's period %v with %v packets, want %v", period, ptime, want)
			}
			if len(times) < int(d/ptime)-3 {
				t.Fatalf("%d packets of %v in %v: %v", len(times), ptime, d, times)
			}
			for i := 1; i < len(times); i++ {
				if gap := times[i] - times[i-1]; gap != ptime {
					t.Fatalf("packets left at %v: %v apart, want every %v", times, gap, ptime)
				}
			}
			// The same audio paced by the session itself (Session.pace: 20 ms ticks, no
			// visits between them): as many packets, give or take the one still waiting,
			// and never more than a packet and a frame waiting.
			ss2 := pairedSessions(t, 2, true)
			s2 := ss2[0]
			s2.Update(p)
			start := time.Now()
			st := newPaceState(time.Time{}, start)
			for at := time.Duration(0); at < d; at += frameDur {
				s2.frameMu.Lock()
				s2.sendDue(st, start.Add(at), nil)
				s2.frameMu.Unlock()
				if n, most := s2.tx.pack.n, packetOctets(p)+int(tsStep(p.Codec)); n > most {
					t.Fatalf("self-paced at %v: %d octets waiting, more than %d", at, n, most)
				}
			}
			if diff := int(s2.Stats().PacketsSent) - len(times); diff < -1 || diff > 1 {
				t.Fatalf("%d packets paced by the session itself, %d by the shared pacer", s2.Stats().PacketsSent, len(times))
			}
		})
	}
}

// TestPacketsBetweenTicksCarryTheAudio: held back for their time, 30 ms packets carry the
// audio 20 ms packets carry, in order, with contiguous timestamps and sequence numbers.
func TestPacketsBetweenTicksCarryTheAudio(t *testing.T) {
	run := func(ptime time.Duration) []rtp.Packet {
		s, far, p := sendingSession(t, codec.PCMU)
		s.tx.ts = 1000 // the sender's random start, fixed so that runs compare
		p.Ptime = ptime
		s.Update(p)
		if times, _ := sendTimes(t, s, halfFrame, 400*time.Millisecond); len(times) < 10 {
			t.Fatalf("%v: %d packets in 400 ms", ptime, len(times))
		}
		return readPackets(t, far)
	}
	ref, got := joined(run(frameDur)), run(30*time.Millisecond)
	for i, p := range got {
		if len(p.Payload) != 240 {
			t.Fatalf("packet %d: %d octets, want 240", i, len(p.Payload))
		}
		if i > 0 && (p.Timestamp != got[i-1].Timestamp+240 || p.SequenceNumber != got[i-1].SequenceNumber+1) {
			t.Fatalf("packet %d: timestamp %d, sequence %d after %d, %d", i, p.Timestamp, p.SequenceNumber,
				got[i-1].Timestamp, got[i-1].SequenceNumber)
		}
	}
	if sent := joined(got); len(sent) < len(ref)-2*240 || !bytes.Equal(sent, ref[:min(len(sent), len(ref))]) {
		t.Fatalf("%d octets in 30 ms packets, %d in 20 ms ones, or not the same audio", len(sent), len(ref))
	}
}

// TestPacerTicksBetweenWhileNeeded: on the real shared pacer, the kernel's timer ticks every
// 10 ms while a session's packets fall between 20 ms ticks, from the re-INVITE that asks for
// them to the one that no longer does.
func TestPacerTicksBetweenWhileNeeded(t *testing.T) {
	if !sharedPacerWorks() {
		t.Skip("no shared pacer on this system (timerfd is Linux only): sessions pace themselves")
	}
	ss := pairedSessions(t, 2, false)
	s := ss[0]
	period := func() time.Duration {
		pacer.mu.Lock()
		defer pacer.mu.Unlock()
		if pacer.run == nil {
			t.Fatal("no pacer run")
		}
		d, err := pacer.run.timer.period()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	p := s.current()
	s.Start(p)
	if d := period(); d != frameDur {
		t.Fatalf("20 ms packets: timer period %v", d)
	}
	p.Ptime = 30 * time.Millisecond
	s.Update(p)
	if d := period(); d != halfFrame {
		t.Fatalf("30 ms packets: timer period %v, want %v", d, halfFrame)
	}
	p.Ptime = 40 * time.Millisecond
	s.Update(p)
	if d := period(); d != frameDur {
		t.Fatalf("40 ms packets: timer period %v, want %v", d, frameDur)
	}
	s.Close()
	if g := pacerGoroutines(); g != 0 {
		t.Fatalf("%d pacer goroutines after Close", g)
	}
}

// TestLoneMoveKeepsTicksBetween: a lone session whose ticks move (pacer_move.go) gets a timer
// re-armed on its new grid every 10 ms if its packets fall between ticks, not every 20.
func TestLoneMoveKeepsTicksBetween(t *testing.T) {
	s := pairedSessions(t, 2, true)[0]
	p := s.current()
	p.Ptime = 30 * time.Millisecond
	s.Update(p)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	defer r.stop()
	r.add(s, grid)
	r.workers[0].moves = append(r.workers[0].moves, phaseMove{s: s, shift: 3 * time.Millisecond, to: -1})
	r.applyMoves()
	if st := s.paced; st == nil || !st.grid.Equal(grid.Add(-frameDur-3*time.Millisecond)) {
		t.Fatal("the lone session's ticks did not move: the test measures nothing")
	}
	if d := time.Duration(r.period.Load()); d != halfFrame {
		t.Fatalf("after the move: period %v, want %v", d, halfFrame)
	}
}

// pacedAlone is a session asking for packets of ptime, the only one of a private run with its
// grid; the caller stops the run.
func pacedAlone(t *testing.T, ptime time.Duration) (*Session, Params, *pacerRun, time.Time) {
	t.Helper()
	s := pairedSessions(t, 2, true)[0]
	p := s.current()
	p.Ptime = ptime
	s.Update(p)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	r.add(s, grid)
	return s, p, r, grid
}

// driveTicks ticks r every halfFrame after grid until d, but where skip says, and returns when
// each of s's packets left (since grid). after runs after each tick and returns how much
// earlier the ticks come from then on (a move of the grid).
func driveTicks(r *pacerRun, s *Session, grid time.Time, d time.Duration, skip func(time.Duration) bool,
	after func(time.Duration) time.Duration) []time.Duration {
	var times []time.Duration
	var early time.Duration
	last := s.Stats().PacketsSent
	for at := halfFrame; at <= d; at += halfFrame {
		if skip(at) {
			continue
		}
		now := grid.Add(at - early)
		r.tick(now)
		for n := s.Stats().PacketsSent; last < n; last++ {
			times = append(times, now.Sub(grid))
		}
		early = after(at)
	}
	return times
}

// TestPacketsBetweenTicksAfterAStall: the pacer's ticks stall, for 50 ms and then for 300 ms
// (longer than sendDue catches up: its schedule starts over). The packets due meanwhile leave
// with the next tick, none is left waiting, and from there they leave evenly again: the
// schedule starts over rather than trailing behind, sending each packet as soon as it is whole,
// for the rest of the call.
func TestPacketsBetweenTicksAfterAStall(t *testing.T) {
	for _, ptime := range []time.Duration{10 * time.Millisecond, 30 * time.Millisecond} {
		s, p, r, grid := pacedAlone(t, ptime)
		const ms = time.Millisecond
		stalled := func(at time.Duration) bool { return at > 200*ms && at < 250*ms || at > 400*ms && at < 700*ms }
		times := driveTicks(r, s, grid, time.Second, stalled, func(time.Duration) time.Duration { return 0 })
		r.stop()
		if len(times) < int(700*ms/ptime) {
			t.Fatalf("%v: %d packets in 1 s with stalls: %v", ptime, len(times), times)
		}
		for i := 1; i < len(times); i++ {
			settled := times[i-1] >= 300*ms && times[i] < 400*ms || times[i-1] >= 800*ms
			if settled && times[i]-times[i-1] != ptime {
				t.Fatalf("%v: after the stalls the packets left at %v, not every %v", ptime, times, ptime)
			}
		}
		if n := s.tx.pack.n; n > packetOctets(p)+int(tsStep(p.Codec)) {
			t.Fatalf("%v: %d octets waiting at the end", ptime, n)
		}
	}
}

// TestPacketsBetweenTicksFollowAMove: a lone session's ticks move 3 ms earlier (pacer_move.go);
// its held packets move with them: the packet after the move leaves 3 ms early, once, and the
// rest every packet duration from there (before, they kept the old schedule and so left late
// for the rest of the call: 7 ms for 30 ms packets, 17 ms for 40 ms ones).
func TestPacketsBetweenTicksFollowAMove(t *testing.T) {
	const shift, movedAt = 3 * time.Millisecond, 300 * time.Millisecond
	for _, ptime := range []time.Duration{30 * time.Millisecond, 40 * time.Millisecond} {
		s, _, r, grid := pacedAlone(t, ptime)
		move := func(at time.Duration) time.Duration {
			switch {
			case at < movedAt:
				return 0
			case at == movedAt:
				r.workers[0].moves = append(r.workers[0].moves, phaseMove{s: s, shift: shift, to: -1})
				r.applyMoves()
			}
			return shift // the timer follows the moved grid
		}
		times := driveTicks(r, s, grid, 600*time.Millisecond, func(time.Duration) bool { return false }, move)
		r.stop()
		early := 0
		for i := 1; i < len(times); i++ {
			switch gap := times[i] - times[i-1]; {
			case gap == ptime:
			case gap == ptime-shift && times[i-1] <= movedAt && early == 0:
				early++
			default:
				t.Fatalf("%v: packets left at %v: a %v gap (moved %v earlier at %v)", ptime, times, gap, shift, movedAt)
			}
		}
		if early != 1 {
			t.Fatalf("%v: packets left at %v: no packet came %v early after the move", ptime, times, shift)
		}
	}
}
