package media

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// A minimal io_uring (Linux 5.6 and later), for one purpose: handing the kernel a tick's RTP of
// many sessions in one system call, out (sendq_linux.go) and in (recvq_linux.go). Every request
// is a sendmsg or recvmsg with MSG_DONTWAIT, which the kernel completes or fails inside
// io_uring_enter (a full send buffer or an empty receive queue fails with EAGAIN rather than
// waiting: REQ_F_NOWAIT), so there is no completion to wait for later, no kernel thread and no
// eventfd. Requests left waiting for a packet (multishot receives, timers) would wake the
// process for every packet, which the pacer exists to avoid.

const (
	sysIOURingSetup = 425
	sysIOURingEnter = 426

	ioringOpSendmsg      = 9
	ioringOpRecvmsg      = 10
	ioringSetupSubmitAll = 1 << 7 // Linux 5.18: one request failing at submission does not stop the rest
	ioringFeatSingleMmap = 1 << 0
	ioringEnterGetevents = 1 << 0

	ioringOffSQRing = 0
	ioringOffCQRing = 0x8000000
	ioringOffSQEs   = 0x10000000
)

// The kernel's structures (include/uapi/linux/io_uring.h), field for field.
type (
	uringSQOffsets struct {
		head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
		userAddr                                                        uint64
	}
	uringCQOffsets struct {
		head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
		userAddr                                                        uint64
	}
	uringParams struct {
		sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
		resv                                                                   [3]uint32
		sqOff                                                                  uringSQOffsets
		cqOff                                                                  uringCQOffsets
	}
	uringSQE struct {
		opcode, flags         uint8
		ioprio                uint16
		fd                    int32
		off, addr             uint64
		len, opFlags          uint32
		userData              uint64
		bufIndex, personality uint16
		spliceFDIn            int32
		addr3, pad            uint64
	}
	uringCQE struct {
		userData uint64
		res      int32
		flags    uint32
	}
)

// uring is one ring, used by one goroutine at a time.
type uring struct {
	fd                     int
	sqTail, sqMask         *uint32
	sqArray                []uint32
	sqes                   []uringSQE
	cqHead, cqTail, cqMask *uint32
	cqes                   []uringCQE
	maps                   [][]byte
}

// newURing sets up a ring of entries requests, or says why the kernel will not (too old,
// io_uring disabled by sysctl, or refused by a container's seccomp profile).
func newURing(entries uint32) (*uring, error) {
	var p uringParams
	p.flags = ioringSetupSubmitAll
	fd, _, e := syscall.Syscall(sysIOURingSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if e == syscall.EINVAL { // before 5.18: no SUBMIT_ALL, so submit stops at a failed request (submit handles it)
		p = uringParams{}
		fd, _, e = syscall.Syscall(sysIOURingSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	}
	if e != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", e)
	}
	r := &uring{fd: int(fd)}
	if err := r.mapRings(&p); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (r *uring) mapRings(p *uringParams) error {
	mmap := func(off int64, size uint32) (unsafe.Pointer, error) {
		b, err := syscall.Mmap(r.fd, off, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
		if err != nil {
			return nil, fmt.Errorf("io_uring mmap: %w", err)
		}
		r.maps = append(r.maps, b)
		return unsafe.Pointer(&b[0]), nil
	}
	sqSize := p.sqOff.array + p.sqEntries*4
	cqSize := p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(uringCQE{}))
	single := p.features&ioringFeatSingleMmap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	sq, err := mmap(ioringOffSQRing, sqSize)
	if err != nil {
		return err
	}
	cq := sq
	if !single {
		if cq, err = mmap(ioringOffCQRing, cqSize); err != nil {
			return err
		}
	}
	sqes, err := mmap(ioringOffSQEs, p.sqEntries*uint32(unsafe.Sizeof(uringSQE{})))
	if err != nil {
		return err
	}
	r.sqTail = (*uint32)(unsafe.Add(sq, p.sqOff.tail))
	r.sqMask = (*uint32)(unsafe.Add(sq, p.sqOff.ringMask))
	r.sqArray = unsafe.Slice((*uint32)(unsafe.Add(sq, p.sqOff.array)), p.sqEntries)
	r.sqes = unsafe.Slice((*uringSQE)(sqes), p.sqEntries)
	r.cqHead = (*uint32)(unsafe.Add(cq, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(cq, p.cqOff.tail))
	r.cqMask = (*uint32)(unsafe.Add(cq, p.cqOff.ringMask))
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Add(cq, p.cqOff.cqes)), p.cqEntries)
	return nil
}

func (r *uring) close() {
	for _, b := range r.maps {
		_ = syscall.Munmap(b)
	}
	r.maps = nil
	if r.fd >= 0 {
		_ = syscall.Close(r.fd)
		r.fd = -1
	}
}

// sendmsg puts a sendmsg of hdr on fd in the submission queue at position i of this batch
// (0 ≤ i < len(r.sqes)); submit hands the batch to the kernel.
func (r *uring) sendmsg(i int, fd int, hdr *syscall.Msghdr, userData uint64) {
	r.prep(i, ioringOpSendmsg, fd, hdr, userData)
}

// recvmsg is sendmsg's twin: a recvmsg into hdr that finds nothing fails with EAGAIN.
func (r *uring) recvmsg(i int, fd int, hdr *syscall.Msghdr, userData uint64) {
	r.prep(i, ioringOpRecvmsg, fd, hdr, userData)
}

func (r *uring) prep(i int, op uint8, fd int, hdr *syscall.Msghdr, userData uint64) {
	tail := atomic.LoadUint32(r.sqTail) + uint32(i)
	idx := tail & *r.sqMask
	r.sqes[idx] = uringSQE{
		opcode:   op,
		fd:       int32(fd),
		addr:     uint64(uintptr(unsafe.Pointer(hdr))),
		opFlags:  syscall.MSG_DONTWAIT, // the kernel completes the request in the submitting call, or fails it
		userData: userData,
	}
	r.sqArray[idx] = idx
}

// submit hands the n requests sendmsg wrote to the kernel and waits until each has its
// completion, calling done with each one's user data and result (bytes sent, or -errno).
// Sends with MSG_DONTWAIT complete inside the submitting call; the wait is there only so that
// no buffer can be reused while the kernel might still read it. After an error the ring is not
// to be used again: requests whose done was not called did not complete.
func (r *uring) submit(n int, done func(userData uint64, res int32)) error {
	atomic.StoreUint32(r.sqTail, atomic.LoadUint32(r.sqTail)+uint32(n))
	left, reaped := n, 0
	for reaped < n {
		flags, wait := uintptr(0), uintptr(0)
		if left == 0 {
			flags, wait = ioringEnterGetevents, uintptr(n-reaped)
		}
		var m uintptr
		var e syscall.Errno
		if wait == 0 {
			m, _, e = syscall.RawSyscall6(sysIOURingEnter, uintptr(r.fd), uintptr(left), 0, 0, 0, 0)
		} else {
			// Waiting for a completion that did not come inline (not expected: see above) may
			// block, so the runtime is told, and can run the rest of the process meanwhile.
			m, _, e = syscall.Syscall6(sysIOURingEnter, uintptr(r.fd), 0, wait, flags, 0, 0)
		}
		switch {
		case e == syscall.EINTR, e == syscall.EBUSY: // EBUSY: the completion queue is full, reap first
		case e != 0:
			return fmt.Errorf("io_uring_enter: %w", e)
		case m == 0 && left > 0:
			return fmt.Errorf("io_uring_enter: took none of %d requests", left)
		default:
			left -= int(m)
		}
		reaped += r.reap(done)
	}
	return nil
}

// reap hands every completion waiting to done and returns how many there were.
func (r *uring) reap(done func(userData uint64, res int32)) int {
	head, tail := atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail)
	for h := head; h != tail; h++ {
		c := &r.cqes[h&*r.cqMask]
		done(c.userData, c.res)
	}
	atomic.StoreUint32(r.cqHead, tail)
	return int(tail - head)
}
