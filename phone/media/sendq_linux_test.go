package media

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// newQueueOrSkip is a send queue, or skips the test where the kernel refuses io_uring (the
// pacer then sends directly, which the other pacer tests cover).
func newQueueOrSkip(t *testing.T, late *lateHist) *sendQueue {
	t.Helper()
	if uringRefused.Load() {
		t.Skip("io_uring is refused on this machine (kernel, sysctl or seccomp): the pacer sends directly")
	}
	q := newSendQueue(late, slog.New(slog.DiscardHandler))
	if q == nil {
		t.Skip("io_uring is refused on this machine (kernel, sysctl or seccomp): the pacer sends directly")
	}
	t.Cleanup(q.close)
	return q
}

// TestSendQueueSendsEachDatagramFromItsSocket: datagrams queued for several sessions leave in
// one submission, each byte for byte, from its own session's socket to its own destination;
// each counts as sent once it has left, with its lateness.
func TestSendQueueSendsEachDatagramFromItsSocket(t *testing.T) {
	ss := pairedSessions(t, 6, true)
	late := new(lateHist)
	q := newQueueOrSkip(t, late)
	var sinks []*net.UDPConn
	for range ss {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		sinks = append(sinks, c)
	}
	const rounds = 3 // more than one datagram a socket, as after a stall
	for k := range rounds {
		for i, s := range ss {
			wire := bytes.Repeat([]byte{byte(16*i + k)}, 100+i)
			if !q.queue(s, wire, sinks[i].LocalAddr().(*net.UDPAddr).AddrPort(), 88, time.Now()) {
				t.Fatalf("session %d: not queued", i)
			}
		}
	}
	if ss[0].Stats().PacketsSent != 0 {
		t.Fatal("a queued datagram counted as sent before it left")
	}
	q.flush()
	for i, s := range ss {
		if got := s.Stats().PacketsSent; got != rounds {
			t.Errorf("session %d: %d sent, want %d", i, got, rounds)
		}
		s.tx.mu.Lock()
		octets := s.tx.octets
		s.tx.mu.Unlock()
		if octets != rounds*88 {
			t.Errorf("session %d: %d octets, want %d", i, octets, rounds*88)
		}
		sinks[i].SetReadDeadline(time.Now().Add(2 * time.Second))
		for k := range rounds {
			buf := make([]byte, 2048)
			n, from, err := sinks[i].ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatalf("session %d, datagram %d: %v", i, k, err)
			}
			if want := bytes.Repeat([]byte{byte(16*i + k)}, 100+i); !bytes.Equal(buf[:n], want) {
				t.Errorf("session %d, datagram %d: % x, want % x", i, k, buf[:n], want)
			}
			if from != s.LocalAddr() {
				t.Errorf("session %d: came from %s, want its socket %s", i, from, s.LocalAddr())
			}
		}
	}
	var recorded uint64
	for i := range late.counts {
		recorded += late.counts[i].Load()
	}
	if got := recorded; got != rounds*uint64(len(ss)) {
		t.Errorf("lateness recorded for %d datagrams, want %d", got, rounds*len(ss))
	}
}

// TestSendQueueFullFlushesAndGoesOn: a share that queues more than a submission holds sends
// it all, in several submissions.
func TestSendQueueFullFlushesAndGoesOn(t *testing.T) {
	ss := pairedSessions(t, 2, true)
	q := newQueueOrSkip(t, nil)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadBuffer(4 << 20)
	dst := c.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = sendQueueLen + sendQueueLen/2
	wire := make([]byte, 1200) // and past the arena's bytes before its slots
	for range n {
		if !q.queue(ss[0], wire, dst, len(wire), time.Now()) {
			t.Fatal("not queued")
		}
	}
	q.flush()
	if got := ss[0].Stats().PacketsSent; got != n {
		t.Fatalf("%d sent, want %d", got, n)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	for i := range n {
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			t.Fatalf("datagram %d of %d: %v", i, n, err)
		}
	}
}

// TestSendQueueLeavesOtherSocketsToDirectSends: no queue, a socket the pacer does not read (a
// TURN relay's, or one not yet detached), and an IPv6 peer on an IPv4 socket are not queued,
// so the direct send handles (or reports) them.
func TestSendQueueLeavesOtherSocketsToDirectSends(t *testing.T) {
	var none *sendQueue
	attached := pairedSessions(t, 2, false)
	dst := netip.MustParseAddrPort("127.0.0.1:9")
	if none.queue(attached[0], []byte{1}, dst, 1, time.Now()) {
		t.Error("queued without a queue")
	}
	q := newQueueOrSkip(t, nil)
	if q.queue(attached[0], []byte{1}, dst, 1, time.Now()) {
		t.Error("queued on a socket the netpoller still waits on")
	}
	detached := pairedSessions(t, 2, true)
	if q.queue(detached[0], []byte{1}, netip.MustParseAddrPort("[2001:db8::1]:9"), 1, time.Now()) {
		t.Error("queued an IPv6 destination on an IPv4 socket")
	}
	if q.total() != 0 {
		t.Errorf("total %d, want 0", q.total())
	}
}

// TestPacerBatchesAShareAndTheToneArrives: a run whose share is large enough sends and reads
// through its queues, every session's frame once a tick, and what goes through them is the
// call's audio: the far end of one pair hears its 1 kHz tone.
func TestPacerBatchesAShareAndTheToneArrives(t *testing.T) {
	const n = 2 * batchMinSessions
	ss := pairedSessions(t, n, true)
	rec := audiotest.NewRecorder()
	p := ss[1].current()
	p.Sink = rec
	ss[1].Update(p)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	defer r.stop()
	for _, s := range ss {
		r.add(s, grid)
	}
	const ticks = 50
	for k := 1; k <= ticks; k++ {
		r.tick(grid.Add(time.Duration(k) * frameDur))
	}
	if r.workers[0].sq == nil {
		if uringRefused.Load() {
			t.Skip("io_uring is refused on this machine: the pacer sends directly (TestPacerTickPacesEverySessionOnce covers that)")
		}
		t.Fatal("a share of batchMinSessions sessions did not get a send queue")
	}
	if got := r.workers[0].sq.total(); got != n*ticks {
		t.Fatalf("%d frames went through the send queue, want %d", got, n*ticks)
	}
	if rq := r.workers[0].rq; rq == nil || rq.delivered < n*(ticks-1) {
		t.Fatalf("receive queue %v: want every frame but the last tick's read through it (%d)", rq, n*(ticks-1))
	}
	for i, s := range ss {
		if got := s.Stats().PacketsSent; got != ticks {
			t.Errorf("session %d: %d sent, want %d", i, got, ticks)
		}
	}
	if f := r.stats.read().Frames; f != n*ticks {
		t.Errorf("lateness recorded for %d frames, want %d", f, n*ticks)
	}
	samples := rec.Samples()
	if len(samples) < codec.SampleRate/2 {
		t.Fatalf("%d samples played, want ≥ %d", len(samples), codec.SampleRate/2)
	}
	if found, level, snr := audiotest.DetectTone(samples[len(samples)/2:], codec.SampleRate, 1000); !found {
		t.Fatalf("no 1 kHz tone in what session 1 played (level %.1f dBFS, SNR %.1f dB)", level, snr)
	}
}

// TestPacerRemoveWaitsForUnflushedSends: Close (through remove) does not return, and so does not
// close the session's socket, while a share that may have queued its datagrams has not flushed.
func TestPacerRemoveWaitsForUnflushedSends(t *testing.T) {
	ss := pairedSessions(t, 2, true)
	grid := time.Now()
	p := &sharedPacer{stats: new(pacerStats)}
	p.run = newPacerRun(p.stats, grid, 1)
	defer p.run.stop()
	p.run.add(ss[0], grid)
	p.run.add(ss[1], grid)
	p.run.flushMu.RLock() // a worker's share, queued and not yet flushed
	removed := make(chan struct{})
	go func() {
		p.remove(ss[0])
		close(removed)
	}()
	select {
	case <-removed:
		t.Fatal("remove returned while a share's queued sends were not flushed")
	case <-time.After(100 * time.Millisecond):
	}
	p.run.flushMu.RUnlock()
	select {
	case <-removed:
	case <-time.After(5 * time.Second):
		t.Fatal("remove did not return after the flush")
	}
}

// TestRecvQueueReadsTwoAndSaysWhenMoreMayWait: a read takes up to two datagrams a session, with
// their arrival times, and says when more may be queued; the session's recvmmsg takes the rest.
func TestRecvQueueReadsTwoAndSaysWhenMoreMayWait(t *testing.T) {
	if uringRefused.Load() {
		t.Skip("io_uring is refused on this machine (kernel, sysctl or seccomp): the pacer reads each socket")
	}
	ss := pairedSessions(t, 2, true)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	defer r.stop()
	r.add(ss[0], grid)
	r.add(ss[1], grid)
	q := newRecvQueue(slog.New(slog.DiscardHandler))
	if q == nil {
		t.Skip("io_uring is refused on this machine (kernel, sysctl or seccomp): the pacer reads each socket")
	}
	defer q.close()
	send := func(k int) {
		s := ss[1]
		s.frameMu.Lock()
		defer s.frameMu.Unlock()
		for range k {
			st := s.paced
			if !s.tx.sendFrame(s, s.current(), st.pcm[:], st.buf[:], &st.pkt) {
				t.Fatal("frame not sent")
			}
		}
	}
	var pkt rtp.Packet
	readOnce := func() (more bool) {
		sent := time.Now()
		q.read(ss[:1])
		ss[0].frameMu.Lock()
		defer ss[0].frameMu.Unlock()
		more = q.deliver(0, ss[0], &pkt)
		read := time.Now()
		for _, sl := range q.slots[:2] {
			if sl.res > 0 {
				ctrl := sl.ctrl[:min(int(sl.hdr.Controllen), len(sl.ctrl))]
				// The kernel's stamp is from before the read returned; stampOf's fallback, the
				// present, would be after it. On the wall clock, as the kernel stamped it: the
				// monotonic reading is made from two clock reads a VM can put a µs apart. (Not
				// against the time before the read: a send may still be leaving then.)
				if at := stampOf(ctrl).Round(0); at.After(read) || sent.Sub(at) > time.Second {
					t.Errorf("arrival time %v, read at %v: not the kernel's stamp", at, read)
				}
			}
		}
		return more
	}
	received := func() uint64 { return ss[0].Stats().PacketsReceived }

	if more := readOnce(); more || received() != 0 {
		t.Fatalf("empty socket: more %v, %d received, want false and 0", more, received())
	}
	send(1)
	if more := readOnce(); more || received() != 1 {
		t.Fatalf("one datagram queued: more %v, %d received, want false and 1", more, received())
	}
	send(5)
	if more := readOnce(); !more || received() != 3 {
		t.Fatalf("five datagrams queued: more %v, %d received, want true and 3", more, received())
	}
	ss[0].frameMu.Lock()
	ss[0].drainRTP(ss[0].poll, new(recvBatch), &pkt)
	ss[0].frameMu.Unlock()
	if received() != 6 {
		t.Fatalf("after the recvmmsg: %d received, want 6", received())
	}
	// The first request found the socket empty and a datagram came before the second ran: the
	// second's datagram is delivered, not left in its buffer (it was never handled).
	send(2)
	q.read(ss[:1])
	q.slots[0].res = -int32(syscall.EAGAIN)
	ss[0].frameMu.Lock()
	more := q.deliver(0, ss[0], &pkt)
	ss[0].frameMu.Unlock()
	if more || received() != 7 {
		t.Fatalf("empty, then a datagram: more %v, %d received, want false and 7", more, received())
	}
}

// TestPacerUpdateWaitsForUnflushedSends: once Update returns, nothing leaves with the old
// parameters; with batched sends, a frame a worker queued before the Update (to the old address,
// under the old key, or as a last packet before hold) could still leave after it.
func TestPacerUpdateWaitsForUnflushedSends(t *testing.T) {
	ss := pairedSessions(t, 2, true)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	defer r.stop()
	r.add(ss[0], grid)
	p := ss[0].current()
	r.flushMu.RLock() // a worker's share, queued and not yet flushed

	// Nothing of this session is queued: Update does not wait for other sessions' sends.
	done := make(chan struct{})
	go func() {
		ss[0].Update(p)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Update waited for a flush with nothing of its session queued")
	}

	ss[0].frameMu.Lock()
	ss[0].paced.unflushed = true // a frame of this session in the queue
	ss[0].frameMu.Unlock()
	updated := make(chan struct{})
	go func() {
		p.Send = false // hold
		ss[0].Update(p)
		close(updated)
	}()
	select {
	case <-updated:
		t.Fatal("Update returned while a share's queued sends were not flushed")
	case <-time.After(100 * time.Millisecond):
	}
	r.flushMu.RUnlock()
	select {
	case <-updated:
	case <-time.After(5 * time.Second):
		t.Fatal("Update did not return after the flush")
	}
}
