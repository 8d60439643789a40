package media

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// frameTimer is the shared pacer's 20 ms tick (pacer.go): one Linux timerfd for all of the
// process's calls, which the netpoller waits on, instead of a Go ticker.
//
// Why: while any Go timer is pending, the runtime's sysmon thread sleeps only until it falls
// due, so a 20 ms ticker wakes sysmon (twice) every frame on top of the pacer itself — a third
// of a call's wakeups (perf sched_switch, bench/call_bench_test.go). A timerfd is an ordinary
// file to the runtime: the pacer parks in the netpoller, sysmon sleeps on. The timer is
// periodic in the kernel, so missed expirations are counted, not lost; each session keeps its
// own schedule anyway (Session.step).
type frameTimer struct {
	f      *os.File
	rc     syscall.RawConn
	count  [8]byte // expirations since the last read
	readFn func(fd uintptr) bool
}

// itimerspec is struct itimerspec: the period, then the first expiry.
type itimerspec struct {
	interval, value syscall.Timespec
}

func newFrameTimer(period time.Duration) (*frameTimer, error) {
	const clockMonotonic = 1
	fd, _, e := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if e != 0 {
		return nil, fmt.Errorf("timerfd_create: %w", e)
	}
	ts := syscall.NsecToTimespec(period.Nanoseconds())
	spec := itimerspec{interval: ts, value: ts}
	if _, _, e := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		syscall.Close(int(fd))
		return nil, fmt.Errorf("timerfd_settime: %w", e)
	}
	f := os.NewFile(fd, "timerfd") // non-blocking, so the netpoller takes it
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	t := &frameTimer{f: f, rc: rc}
	t.readFn = t.read
	return t, nil
}

// wait blocks until the timer expires; false once it has been closed.
func (t *frameTimer) wait() bool {
	return t.rc.Read(t.readFn) == nil
}

func (t *frameTimer) read(fd uintptr) bool {
	for {
		_, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&t.count[0])), uintptr(len(t.count)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // not yet: park in the netpoller
		default:
			return true
		}
	}
}

// rearm changes the timer's period; its expiries fall every period from first on (a first
// that has passed expires at once, and the later expiries keep to first's grid). It is safe
// while wait is parked on the timer.
//
// The kernel's monotonic clock is what time.Now's monotonic reading counts, but from another
// origin: the time to first is measured on Go's clock and added to the kernel's now, read back
// to back with it (an error of well under a microsecond).
func (t *frameTimer) rearm(period time.Duration, first time.Time) error {
	const clockMonotonic, timerAbstime = 1, 1
	var now syscall.Timespec
	until := time.Until(first)
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&now)), 0); e != 0 {
		return fmt.Errorf("clock_gettime: %w", e)
	}
	at := max(now.Nano()+until.Nanoseconds(), 1) // zero would disarm the timer
	spec := itimerspec{interval: syscall.NsecToTimespec(period.Nanoseconds()), value: syscall.NsecToTimespec(at)}
	var serr error
	err := t.rc.Control(func(fd uintptr) {
		if _, _, e := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, timerAbstime, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
			serr = fmt.Errorf("timerfd_settime: %w", e)
		}
	})
	if err == nil {
		err = serr
	}
	return err
}

// period is the timer's period as the kernel has it (timerfd_gettime), for tests.
func (t *frameTimer) period() (time.Duration, error) {
	var spec itimerspec
	var gerr error
	err := t.rc.Control(func(fd uintptr) {
		if _, _, e := syscall.Syscall(syscall.SYS_TIMERFD_GETTIME, fd, uintptr(unsafe.Pointer(&spec)), 0); e != 0 {
			gerr = fmt.Errorf("timerfd_gettime: %w", e)
		}
	})
	if err == nil {
		err = gerr
	}
	return time.Duration(spec.interval.Nano()), err
}

// close stops the timer and wakes a wait, which returns false.
func (t *frameTimer) close() { t.f.Close() }
