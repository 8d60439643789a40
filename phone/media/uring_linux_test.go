package media

import (
	"net"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/pion/rtp"
)

// TestURingStructsMatchTheKernel: the structures the kernel reads and writes have the sizes
// include/uapi/linux/io_uring.h gives them, on every architecture this builds for.
func TestURingStructsMatchTheKernel(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"io_uring_sqe", unsafe.Sizeof(uringSQE{}), 64},
		{"io_uring_cqe", unsafe.Sizeof(uringCQE{}), 16},
		{"io_uring_params", unsafe.Sizeof(uringParams{}), 120},
		{"io_sqring_offsets", unsafe.Sizeof(uringSQOffsets{}), 40},
		{"io_cqring_offsets", unsafe.Sizeof(uringCQOffsets{}), 40},
		{"sqe.user_data offset", unsafe.Offsetof(uringSQE{}.userData), 32},
		{"sqe.msg_flags offset", unsafe.Offsetof(uringSQE{}.opFlags), 28},
		{"params.sq_off offset", unsafe.Offsetof(uringParams{}.sqOff), 40},
		{"params.cq_off offset", unsafe.Offsetof(uringParams{}.cqOff), 80},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d bytes, the kernel's is %d", c.name, c.got, c.want)
		}
	}
}

// TestURingRefusedSendsDirectly: where io_uring cannot be set up, no queue is made, a large
// share still sends and plays every frame (a system call each), and a session's Close neither
// waits forever nor stops the ticks after it.
func TestURingRefusedSendsDirectly(t *testing.T) {
	was := uringRefused.Swap(true)
	defer uringRefused.Store(was)
	ss := pairedSessions(t, 2*batchMinSessions+2, true)
	grid := time.Now()
	p := &sharedPacer{stats: new(pacerStats)}
	p.run = newPacerRun(p.stats, grid, 1)
	defer p.run.stop()
	for _, s := range ss {
		p.run.add(s, grid)
	}
	const ticks = 5
	for k := 1; k <= ticks; k++ {
		p.run.tick(grid.Add(time.Duration(k) * frameDur))
	}
	if p.run.workers[0].sq != nil || p.run.workers[0].rq != nil {
		t.Fatal("a queue was made where io_uring is refused")
	}
	for i, s := range ss {
		st := s.Stats()
		if st.PacketsSent != ticks || st.PacketsReceived < ticks-1 {
			t.Errorf("session %d: %d sent, %d received, want %d and ≥ %d", i, st.PacketsSent, st.PacketsReceived, ticks, ticks-1)
		}
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		p.remove(ss[len(ss)-1])
		p.remove(ss[len(ss)-2])
		p.run.tick(grid.Add((ticks + 1) * frameDur))
	}()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("remove, or the tick after it, hung: a share left the flush lock taken")
	}
	if got := ss[0].Stats().PacketsSent; got != ticks+1 {
		t.Errorf("after the removes: %d sent, want %d", got, ticks+1)
	}
}

// TestSendQueueFailedSubmitSendsDirectly: when the kernel takes the ring but refuses to enter
// it (a seccomp profile could allow io_uring_setup and not io_uring_enter), the queued
// datagrams leave with a system call each, count once, and io_uring is not asked again.
func TestSendQueueFailedSubmitSendsDirectly(t *testing.T) {
	was := uringRefused.Load()
	defer uringRefused.Store(was)
	ss := pairedSessions(t, 2, true)
	q := newQueueOrSkip(t, nil)
	devNull, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ringFD := q.ring.fd
	q.ring.fd = devNull // io_uring_enter on it fails, as a refused enter would
	defer syscall.Close(ringFD)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst := c.LocalAddr().(*net.UDPAddr).AddrPort()
	for i := range 3 {
		if !q.queue(ss[0], []byte{byte(i), 1, 2}, dst, 3, time.Now()) {
			t.Fatal("not queued")
		}
	}
	q.flush()
	if !uringRefused.Load() || !q.failed {
		t.Error("a failed submission did not give io_uring up")
	}
	if got := ss[0].Stats().PacketsSent; got != 3 {
		t.Errorf("%d sent, want 3", got)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	for i := range 3 {
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil || n != 3 || buf[0] != byte(i) {
			t.Fatalf("datagram %d: % x, %v", i, buf[:n], err)
		}
	}
	if q.queue(ss[0], []byte{1}, dst, 1, time.Now()) {
		t.Error("queued on a failed ring")
	}
}

// TestRecvQueueWithoutStampsGivesUp: a kernel that refuses control data on io_uring's recvmsg
// (before 5.10) fails each request with EINVAL; the session reads its socket itself, and the
// queue is given up.
func TestRecvQueueWithoutStampsGivesUp(t *testing.T) {
	q := &recvQueue{}
	q.done(0, -int32(syscall.EINVAL))
	if !q.noStamps {
		t.Fatal("EINVAL did not mark the kernel as taking no arrival times")
	}
	ss := pairedSessions(t, 2, true)
	if more := q.deliver(0, ss[0], new(rtp.Packet)); !more {
		t.Error("a request the kernel refused was taken as an empty socket: its datagrams would wait a tick")
	}
}
