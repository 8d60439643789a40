package media

import (
	"testing"
	"time"
)

// waitN waits for n expiries of ft, failing the test if they do not all come within limit (a
// generous bound: what it catches is a timer left expired and unread, which never wakes again).
func waitN(t *testing.T, ft *frameTimer, n int, limit time.Duration) {
	t.Helper()
	done := make(chan bool, 1)
	go func() {
		ok := true
		for range n {
			ok = ok && ft.wait()
		}
		done <- ok
	}()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("wait reported the timer closed")
		}
	case <-time.After(limit):
		ft.close()
		<-done
		t.Fatalf("%d expiries of a %v timer did not come within %v: the timer stalled", n, time.Duration(ft.grid.period), limit)
	}
}

// TestFrameTimerReadsOncePerExpiry: a steady wait reads the timer about once per expiry — it
// parks unread while the next expiry has not come, instead of reading and finding nothing —
// and never stalls.
func TestFrameTimerReadsOncePerExpiry(t *testing.T) {
	ft, err := newFrameTimer(5 * time.Millisecond)
	if err != nil {
		t.Skipf("no timerfd here: %v", err)
	}
	defer ft.close()
	const n = 40
	waitN(t, ft, n, 10*time.Second)
	ft.mu.Lock()
	reads := ft.reads
	ft.mu.Unlock()
	// A late wake (the expiry fell a hair after Go's grid, or an old wake) costs one more
	// read now and then; two reads per expiry is what the timer cost before.
	if reads < n || reads > n+n/4 {
		t.Errorf("%d reads for %d expiries, want about one each", reads, n)
	}
}

// TestFrameTimerRearmNeverStalls: re-arming the timer while its wait is parked unread, with a
// first expiry passed (it fires at once), just ahead, or a period away, and with a new
// period, wakes the wait, and expiries keep coming after: none is left expired and unread
// (a periodic timerfd stops until it is read).
func TestFrameTimerRearmNeverStalls(t *testing.T) {
	ft, err := newFrameTimer(20 * time.Millisecond)
	if err != nil {
		t.Skipf("no timerfd here: %v", err)
	}
	defer ft.close()
	waitN(t, ft, 2, 5*time.Second)
	for i, c := range []struct {
		period time.Duration
		first  time.Duration // from now
	}{
		{20 * time.Millisecond, -7 * time.Millisecond},
		{5 * time.Millisecond, -2 * time.Millisecond},
		{5 * time.Millisecond, 100 * time.Microsecond},
		{20 * time.Millisecond, 13 * time.Millisecond},
		{20 * time.Millisecond, -45 * time.Millisecond},
	} {
		rearmed := make(chan error, 1)
		go func() {
			time.Sleep(3 * time.Millisecond) // while the wait below is parked
			rearmed <- ft.rearm(c.period, time.Now().Add(c.first))
		}()
		waitN(t, ft, 6, 5*time.Second)
		if err := <-rearmed; err != nil {
			t.Fatalf("case %d: rearm: %v", i, err)
		}
		if p, err := ft.period(); err != nil || p != c.period {
			t.Fatalf("case %d: period %v (%v), want %v", i, p, err, c.period)
		}
	}
}

// TestFrameTimerLateReadAtAnExpiry: a pacer that was late (an expiry waits unread) and reads
// it just as the next expiry falls due must still be woken by that next expiry. The read
// restarts the kernel's timer at its next grid point after the kernel's now; if wait took
// the next expiry to be a period later than the kernel has it, it would park unread past an
// expiry whose wake it already had, and the timer would stall for good.
func TestFrameTimerLateReadAtAnExpiry(t *testing.T) {
	const period = 20 * time.Millisecond
	ft, err := newFrameTimer(period)
	if err != nil {
		t.Skipf("no timerfd here: %v", err)
	}
	defer ft.close()
	waitN(t, ft, 1, 5*time.Second)
	for range 30 {
		late := ft.grid.after(nanotime())            // an expiry left unread...
		due := ft.grid.after(late + int64(period/2)) // ...until the next falls due
		time.Sleep(time.Duration(due-nanotime()) - time.Millisecond)
		for nanotime() < due {
		}
		waitN(t, ft, 1, time.Second) // reads the late expiry at once
		time.Sleep(2 * time.Millisecond)
		waitN(t, ft, 1, time.Second)
	}
}
