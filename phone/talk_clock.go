package phone

import "time"

// talkClock is an answered call's one timer: the statistics every statsInterval, and the
// watch for a silent far end (silence.go), checked when something could have changed rather
// than every second.
//
// Why: each timer that falls due wakes the process's idle thread and the runtime's sysmon
// (which sleeps until the next timer), on top of the one wake-up a frame the media needs. A
// ticker a second for the watch and another every 5 s for the statistics made 1.2 timer wakes
// a second a call; the watch now sleeps until the far end's silence could reach the warning
// or the timeout, and wakes with the statistics when audio flows: one wake every 5 s.
type talkClock struct {
	timer    *time.Timer
	statsDue time.Time
	watchDue time.Time
}

// watchBusy is how often the watch looks while the far end is silent (it has warned and
// waits for audio to come back or for the timeout), or while the call is on hold.
const watchBusy = time.Second

func newTalkClock(now time.Time) *talkClock {
	k := &talkClock{statsDue: now.Add(statsInterval), watchDue: now.Add(watchBusy)}
	k.timer = time.NewTimer(watchBusy)
	return k
}

func (k *talkClock) stop() { k.timer.Stop() }

// C delivers the time of each wake.
func (k *talkClock) C() <-chan time.Time { return k.timer.C }

// due says, at a wake of the timer at now, whether the statistics and the watch are due. The
// watch runs with the statistics too: so that once audio flows its next check lands on the
// next statistics, and the two share one wake.
func (k *talkClock) due(now time.Time) (stats, watch bool) {
	stats = !now.Before(k.statsDue)
	if stats {
		k.statsDue = k.statsDue.Add(statsInterval)
		if !k.statsDue.After(now) { // the process slept through some: no burst to catch up
			k.statsDue = now.Add(statsInterval)
		}
	}
	return stats, stats || !now.Before(k.watchDue)
}

// watched sets when the watch looks next, in after (watchNext), and re-arms the timer for
// whichever comes first.
func (k *talkClock) watched(now time.Time, after time.Duration) {
	k.watchDue = now.Add(after)
	k.rearm(now)
}

// rearm arms the timer for the first of what is due.
func (k *talkClock) rearm(now time.Time) {
	next := k.statsDue
	if k.watchDue.Before(next) {
		next = k.watchDue
	}
	k.timer.Reset(max(next.Sub(now), 0))
}

// watchNext is how long the watch may sleep: until the far end's silence, sinceRTP so far
// (and sinceAny without RTCP either), could reach the warning or the media timeout (limit, 0
// for none). While a warning stands, or on hold, it looks every watchBusy instead: audio that
// comes back must clear the warning before the next silence is to be warned of.
func watchNext(sinceRTP, sinceAny, limit time.Duration, warned, onHold bool) time.Duration {
	if warned || onHold {
		return watchBusy
	}
	next := silenceWarnAfter - sinceRTP
	if limit > 0 {
		next = min(next, limit-sinceAny)
	}
	// Not less than a frame's worth, so a clock read a hair early cannot spin the loop.
	return max(next, 20*time.Millisecond)
}
