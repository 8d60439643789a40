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
type frameTimer struct {
	f      *os.File
	rc     syscall.RawConn
	count  [8]byte // expirations since the last read
	readFn func(fd uintptr) bool

	// mu orders rearm against ready, so that a re-arm's expiry can never fall between
	// ready's look at the grid and its decision to park unread (and be left unread).
	mu    sync.Mutex
	grid  timerGrid // when the timer expires, as newFrameTimer or rearm last set it
	kick  bool      // a rearm since ready last returned: return at once
	next  time.Time // the first expiry not yet read; before it, wait parks unread
	reads int       // read(2)s made, for the tests
}

// timerGrid is when the timer expires: at first, then every period.
type timerGrid struct {
	first  time.Time
	period time.Duration
}

// after is the grid's first expiry after t.
func (g timerGrid) after(t time.Time) time.Time {
	if t.Before(g.first) {
		return g.first
	}
	return g.first.Add((t.Sub(g.first)/g.period + 1) * g.period)
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
	armed := time.Now() // before the kernel's: Go's grid is never later than the timer's
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
	t := &frameTimer{f: f, rc: rc, grid: timerGrid{first: armed.Add(period), period: period}}
	t.next = t.grid.first
	t.readFn = t.ready
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
		t.kick, t.next = false, time.Time{}
		return true
	}
	// Parking unread is safe because Go's grid is never later than the kernel's (both
	// newFrameTimer and rearm take Go's time first): before next, the kernel's expiry is
	// still to come, and it will wake this wait, which reads it.
	now := time.Now()
	if now.Before(t.next) {
		return false
	}
	if !t.read(fd) {
		return false // the kernel's expiry is a hair later than Go's grid, or this wake was an old one
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
// The kernel's monotonic clock is what time.Now's monotonic reading counts, but from another
// origin: the time to first is measured on Go's clock and added to the kernel's now, read back
// to back with it (an error of well under a microsecond). Go's clock is read first, so the
// kernel's expiry can only come later than first, never earlier: ready relies on that.
func (t *frameTimer) rearm(period time.Duration, first time.Time) error {
	const clockMonotonic, timerAbstime = 1, 1
	var now syscall.Timespec
	until := time.Until(first)
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&now)), 0); e != 0 {
		return fmt.Errorf("clock_gettime: %w", e)
	}
	at := max(now.Nano()+until.Nanoseconds(), 1) // zero would disarm the timer
	spec := itimerspec{interval: syscall.NsecToTimespec(period.Nanoseconds()), value: syscall.NsecToTimespec(at)}
	// Under mu with the new timer: a wait parked unread is woken by the new timer's first
	// expiry (at once if first has passed) and returns at the kick, serving what is due.
	t.mu.Lock()
	defer t.mu.Unlock()
	t.grid, t.kick = timerGrid{first: first, period: period}, true
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
