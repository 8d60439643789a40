package media

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/pion/rtp"
)

// BenchmarkTick1000Sessions is one whole 20 ms tick of 1000 live sessions on loopback (500
// pairs sending to each other): for every session its queued RTP drained with the kernel's
// arrival times, checked, through the jitter buffer, decoded and played to a sink, and one
// frame encoded and sent. ns/session-frame is one session's share of the process's CPU time
// (getrusage: the workers, the scheduler and the kernel's share of the system calls), core-%
// how much of one core the 1000 sessions take every 20 ms, tick-ms the wall time of a tick
// (about what the last session's frame waits).
//
//   - shared: the shared pacer (pacer.go): the tick's list split over its workers, sends
//     first (each share's in one io_uring submission, sendq_linux.go), then one recvmmsg a
//     session and the playout.
//
//   - shared-sendto: the same with io_uring refused, a sendto a datagram.
//
//   - shared-30ms: shared, every session asked for 30 ms packets: each frame's packet is held
//     for its time, and the pacer visits each session halfway between its ticks too
//     (sendBetween, a sendto a packet): what a 20 ms frame costs then.
//
//   - per-session: the pacer before it (commit 1dc060a), a goroutine per session woken for
//     each tick, draining with recvmsg until EAGAIN. Its wake is a channel send here, where
//     it was each session's own timerfd, whose read and netpoller wake-up cost more: the
//     baseline is flattered.
//
//     go test ./phone/media/ -run '^$' -bench Tick1000 -benchmem -count 5
func BenchmarkTick1000Sessions(b *testing.B) {
	const calls = 1000
	b.Run("shared", func(b *testing.B) { benchSharedTick(b, calls, true, frameDur) })
	b.Run("shared-sendto", func(b *testing.B) { benchSharedTick(b, calls, false, frameDur) })
	b.Run("shared-30ms", func(b *testing.B) { benchSharedTick(b, calls, true, 30*time.Millisecond) })
	b.Run("per-session", func(b *testing.B) {
		ss := pairedSessions(b, calls, true)
		grid := time.Now()
		wakes := make([]chan time.Time, calls)
		var done, exited sync.WaitGroup
		for i, s := range ss {
			wakes[i] = make(chan time.Time, 1)
			st, d, raw := newPaceState(grid, grid), new(recvmsgDrain), s.rtpIO.(*rawUDP)
			exited.Go(func() {
				for now := range wakes[i] {
					s.frameMu.Lock()
					d.drain(s, raw, &st.rpkt)
					s.step(st, now, nil, nil)
					s.frameMu.Unlock()
					done.Done()
				}
			})
		}
		defer exited.Wait()
		defer func() {
			for _, w := range wakes {
				close(w)
			}
		}()
		measureTicks(b, ss, calls, func(k int) {
			now := grid.Add(time.Duration(k) * frameDur)
			done.Add(calls)
			for _, w := range wakes {
				w <- now
			}
			done.Wait()
		})
	})
}

// benchSharedTick is the shared pacer's tick; batch says whether its shares send through an
// io_uring queue (sendq_linux.go) or with a sendto a datagram; ptime is the packets' duration
// the sessions send.
func benchSharedTick(b *testing.B, calls int, batch bool, ptime time.Duration) {
	if !batch {
		was := uringRefused.Swap(true)
		defer uringRefused.Store(was)
	} else if uringRefused.Load() {
		b.Skip("io_uring is refused on this machine")
	}
	ss := pairedSessions(b, calls, true)
	for _, s := range ss {
		p := s.current()
		p.Ptime = ptime
		s.Update(p)
	}
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, runtime.GOMAXPROCS(0))
	defer r.stop()
	for _, s := range ss {
		r.add(s, grid)
	}
	measureTicks(b, ss, calls, func(k int) { r.tick(grid.Add(time.Duration(k) * frameDur)) })
}

// measureTicks runs tick (the k-th tick since the start) to fill the pipeline and the jitter
// buffers, which allocate as they first grow (a second of calls: each tick then has one packet
// a session to read), then over the benchmark's loop, and reports the loop's ticks.
func measureTicks(b *testing.B, ss []*Session, calls int, tick func(k int)) {
	k := 0
	next := func() {
		k++
		tick(k)
	}
	for range 50 {
		next()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for b.Loop() {
		next()
	}
	reportTick(b, ss, calls, k, cpuTime(b)-cpu0)
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportTick(b *testing.B, ss []*Session, calls, ticks int, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(calls), "ns/session-frame")
	b.ReportMetric(100*float64(cpu)/float64(b.N)/float64(frameDur), "core-%")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "tick-ms")
	var sent, received uint64
	for _, s := range ss {
		st := s.Stats()
		sent += st.PacketsSent
		received += st.PacketsReceived
	}
	// Loopback may drop a few when a socket's queue overflows on a starved machine; most must
	// pass. Longer packets are fewer: 2 in 3 frames at 30 ms, less one held at the end.
	ptime := max(ss[0].current().Ptime, frameDur)
	if want := uint64(calls) * (uint64(ticks)*uint64(frameDur/time.Millisecond)/uint64(ptime/time.Millisecond) - 1); sent < want || received < want*9/10 {
		b.Fatalf("%d ticks of %d sessions: %d packets sent, %d received", ticks, calls, sent, received)
	}
}

// recvmsgDrain is drainRTP as it was before recvmmsg: recvmsg with the arrival time, until
// EAGAIN (two system calls for the one packet a tick brings).
type recvmsgDrain struct {
	msg  syscall.Msghdr
	iov  syscall.Iovec
	name syscall.RawSockaddrAny
	ctrl [64]byte
	buf  [1500]byte
}

func (d *recvmsgDrain) drain(s *Session, r *rawUDP, pkt *rtp.Packet) {
	for range maxDrain {
		r.rmu.Lock()
		if r.fd < 0 {
			r.rmu.Unlock()
			return
		}
		d.iov.Base = &d.buf[0]
		d.iov.SetLen(len(d.buf))
		d.msg = syscall.Msghdr{Name: (*byte)(unsafe.Pointer(&d.name)), Namelen: uint32(unsafe.Sizeof(d.name)), Iov: &d.iov, Iovlen: 1, Control: &d.ctrl[0]}
		d.msg.SetControllen(len(d.ctrl))
		n, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(r.fd), uintptr(unsafe.Pointer(&d.msg)), syscall.MSG_DONTWAIT)
		r.rmu.Unlock()
		if e != 0 {
			return
		}
		s.handleRTPAt(d.buf[:n], addrPortOf(&d.name), pkt, stampOf(d.ctrl[:min(int(d.msg.Controllen), len(d.ctrl))]))
	}
}
