package media

import (
	"testing"
	"time"
	"unsafe"
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

// TestURingRefusedSendsDirectly: where io_uring cannot be set up, no queue is made, it is not
// asked again, and a large share still sends and plays every frame (a system call each).
func TestURingRefusedSendsDirectly(t *testing.T) {
	was := uringRefused.Swap(true)
	defer uringRefused.Store(was)
	ss := pairedSessions(t, 2*batchMinSessions, true)
	grid := time.Now()
	r := newPacerRun(new(pacerStats), grid, 1)
	defer r.stop()
	for _, s := range ss {
		r.add(s, grid)
	}
	const ticks = 5
	for k := 1; k <= ticks; k++ {
		r.tick(grid.Add(time.Duration(k) * frameDur))
	}
	if r.workers[0].sq != nil || r.workers[0].rq != nil {
		t.Fatal("a queue was made where io_uring is refused")
	}
	for i, s := range ss {
		st := s.Stats()
		if st.PacketsSent != ticks || st.PacketsReceived < ticks-1 {
			t.Errorf("session %d: %d sent, %d received, want %d and ≥ %d", i, st.PacketsSent, st.PacketsReceived, ticks, ticks-1)
		}
	}
}
