package media

import (
	"fmt"
	"os"
	"sync"
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
// file to the runtime: the pacer parks in the netpoller, sysmon sleeps on. Each session keeps
// its own schedule (Session.step), so a wake only has to come at or after each expiry.
//
// The pacer reads the timer once a frame, not twice. A periodic timerfd runs on only once its
// count has been read, so every expiry must be read; but the read that finds nothing and parks
// (EAGAIN) is left out: wait knows the timer's grid, and parks without a read while the clock
// says the next expiry has not come. One system call of the six a one-call frame makes.
//
// That is safe only if wait's grid is exactly the kernel's. A read restarts the kernel's timer
// at its first grid point after the kernel's now; if wait's grid ran even a microsecond early, a
// late read landing in that microsecond after an expiry would leave the kernel's next expiry a
// period before wait's. Its wake comes while the pacer works and is dropped when the next wait
// starts (the poller resets a file's readiness before each wait), so wait parks unread on an
// expired timer that never fires again: the media stops for good (seen under a packet flood).
// So the timer is armed at an absolute time on the kernel's monotonic clock, and wait keeps
// the very numbers given to the kernel and reads the same clock (runtime nanotime).
type frameTimer struct {
	f      *os.File
	rc     syscall.RawConn
	count  [8]byte // expirations since the last read
	readFn func(fd uintptr) bool

	// mu orders rearm against ready, so that a re-arm's expiry can never fall between
	// ready's look at the grid and its decision to park unread (and be left unread).
	mu    sync.Mutex
	grid  timerGrid // when the timer expires, as newFrameTimer or rearm last gave it to the kernel
	kick  bool      // a rearm since ready last returned: return at once
	next  int64     // the first expiry not yet read (monotonic ns); before it, wait parks unread
	reads int       // read(2)s made, for the tests
}

// nanotime is the kernel's CLOCK_MONOTONIC in ns, read as the runtime reads it (vDSO, no
// system call): the clock the timer is armed on. The runtime keeps this link for good
// (go.dev/issue/67401).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// timerGrid is when the timer expires, in monotonic ns: at first, then every period — the
// kernel's own grid (hrtimer_forward keeps an expiry on it however late it is read).
type timerGrid struct {
	first, period int64
}

// after is the grid's first expiry after t, as the kernel restarts the timer when read at t.
func (g timerGrid) after(t int64) int64 {
	if t < g.first {
		return g.first
	}
	return g.first + ((t-g.first)/g.period+1)*g.period
}

// arm sets the timer to expire at first (monotonic ns), then every period, and keeps that grid.
// Called under mu, or before the timer is shared.
func (t *frameTimer) arm(fd uintptr, g timerGrid) error {
	const timerAbstime = 1
	spec := itimerspec{interval: syscall.NsecToTimespec(g.period), value: syscall.NsecToTimespec(max(g.first, 1))} // zero would disarm it
	if _, _, e := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, timerAbstime, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		return fmt.Errorf("timerfd_settime: %w", e)
	}
	t.grid = g
	return nil
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
	t := &frameTimer{}
	if err := t.arm(fd, timerGrid{first: nanotime() + int64(period), period: int64(period)}); err != nil {
		syscall.Close(int(fd))
		return nil, err
	}
	t.f = os.NewFile(fd, "timerfd") // non-blocking, so the netpoller takes it
	rc, err := t.f.SyscallConn()
	if err != nil {
		t.f.Close()
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	t.rc, t.next, t.readFn = rc, t.grid.first, t.ready
	return t, nil
}

// wait blocks until the timer expires; false once it has been closed. One goroutine waits.
func (t *frameTimer) wait() bool {
	return t.rc.Read(t.readFn) == nil
}

// ready is wait's test, run before it parks and after each wake: it reads the timer if an
// expiry (or a rearm) may have come since the last read, and says whether one did.
func (t *frameTimer) ready(fd uintptr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.kick {
		// Whatever the re-arm made expire is read by the next wait, which starts with a read.
		t.kick, t.next = false, 0
		return true
	}
	// Parking unread is safe because next is never later than the kernel's next expiry (the
	// kernel restarts the timer at its first grid point after its own now, which is at or
	// after this one): before next, that expiry is still to come, and its wake will find
	// this wait parked.
	now := nanotime()
	if now < t.next {
		return false
	}
	if !t.read(fd) {
		return false // an old wake (the expiry it announced was read already)
	}
	t.next = t.grid.after(now)
	return true
}

// read takes the timer's count; false if it had not expired (EAGAIN).
func (t *frameTimer) read(fd uintptr) bool {
	t.reads++
	for {
		_, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&t.count[0])), uintptr(len(t.count)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			return true
		}
	}
}

// rearm changes the timer's period; its expiries fall every period from first on (a first
// that has passed expires at once, and the later expiries keep to first's grid). It is safe
// while wait is parked on the timer.
//
// first is on Go's clock, whose monotonic reading counts the kernel's monotonic clock from
// another origin: it is carried over by the time left until it, read back to back with the
// kernel's now (an error of well under a microsecond, harmless: the grid kept is the one the
// kernel is given).
func (t *frameTimer) rearm(period time.Duration, first time.Time) error {
	g := timerGrid{first: nanotime() + int64(time.Until(first)), period: int64(period)}
	// Under mu with the new timer: a wait parked unread is woken by the new timer's first
	// expiry (at once if first has passed) and returns at the kick, serving what is due.
	t.mu.Lock()
	defer t.mu.Unlock()
	t.kick = true
	var aerr error
	err := t.rc.Control(func(fd uintptr) { aerr = t.arm(fd, g) })
	if err == nil {
		err = aerr
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
