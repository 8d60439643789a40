package phone

import (
	"testing"
	"time"
)

// TestWatchNextSleepsUntilSomethingCanHappen: while audio flows the watch sleeps until the
// silence could reach the warning (or the timeout, if sooner); while a warning stands or the
// call is on hold it looks every second; never less than a frame.
func TestWatchNextSleepsUntilSomethingCanHappen(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		name                      string
		sinceRTP, sinceAny, limit time.Duration
		warned, onHold            bool
		want                      time.Duration
	}{
		{"audio flows", 0, 0, 30 * s, false, false, silenceWarnAfter},
		{"audio flows, no timeout", 20 * time.Millisecond, 0, 0, false, false, silenceWarnAfter - 20*time.Millisecond},
		{"silent 3 s", 3 * s, 3 * s, 30 * s, false, false, silenceWarnAfter - 3*s},
		{"timeout sooner than the warning", 1 * s, 1 * s, 3 * s, false, false, 2 * s},
		{"RTCP only: the timeout counts from it", 4 * s, 1 * s, 4 * s, false, false, 1 * s},
		{"warning due now", silenceWarnAfter, silenceWarnAfter, 30 * s, false, false, 20 * time.Millisecond},
		{"warned, silent", 8 * s, 8 * s, 30 * s, true, false, watchBusy},
		{"on hold", 0, 0, 30 * s, false, true, watchBusy},
	} {
		if got := watchNext(c.sinceRTP, c.sinceAny, c.limit, c.warned, c.onHold); got != c.want {
			t.Errorf("%s: watch sleeps %v, want %v", c.name, got, c.want)
		}
	}
}

// TestTalkClockSharesWakes: the statistics come every statsInterval; the watch runs with them,
// and a watch that sleeps a statsInterval from a statistics wake lands on the next one, so that
// a call whose audio flows has one timer wake per statsInterval.
func TestTalkClockSharesWakes(t *testing.T) {
	t0 := time.Now()
	k := newTalkClock(t0)
	defer k.stop()
	if stats, watch := k.due(t0.Add(watchBusy)); stats || !watch {
		t.Fatalf("first look after %v: stats %v watch %v, want the watch alone", watchBusy, stats, watch)
	}
	k.watched(t0.Add(watchBusy), silenceWarnAfter) // audio flows: next look in 5 s, at 6 s
	at := t0.Add(statsInterval)
	if stats, watch := k.due(at); !stats || !watch {
		t.Fatalf("at %v: stats %v watch %v, want both (the watch runs with the statistics)", statsInterval, stats, watch)
	}
	k.watched(at, silenceWarnAfter)
	if !k.watchDue.Equal(k.statsDue) {
		t.Fatalf("watch due %v after the start, statistics %v: want one wake for both", k.watchDue.Sub(t0), k.statsDue.Sub(t0))
	}
	if stats, _ := k.due(at.Add(statsInterval - time.Millisecond)); stats {
		t.Fatal("statistics due before their interval")
	}
	// A process that slept through three intervals reports once, not three times.
	late := at.Add(3*statsInterval + time.Millisecond)
	if stats, _ := k.due(late); !stats {
		t.Fatal("statistics not due after three intervals")
	}
	if stats, _ := k.due(late.Add(time.Millisecond)); stats || k.statsDue.Before(late) {
		t.Fatalf("after a late wake the statistics are due at %v, before the wake at %v", k.statsDue.Sub(t0), late.Sub(t0))
	}
}
