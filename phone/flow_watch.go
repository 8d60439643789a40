package phone

import (
	"log/slog"
	"time"
)

// The event-driven side of the flow keeper (flow.go): how long it may sleep, and its watch
// on the registration's connection (flow_watch_linux.go).

// sleep is how long the keeper may sleep: poll, or for an event-driven keeper until the
// awaited pong is due or the next ping, whichever is first (at most poll).
func (k *flowKeeper) sleep(now time.Time, awaiting bool, pingAt, lastPing time.Time) time.Duration {
	if k.changed == nil {
		return k.poll
	}
	d := k.poll
	switch {
	case awaiting:
		d = min(d, pingAt.Add(k.pongTimeout).Sub(now))
	case k.every > 0:
		d = min(d, lastPing.Add(k.every).Sub(now))
	}
	return max(d, 0)
}

// awaitClose gives sipgo a moment to take a hung-up connection out of its pool (its reader
// sees the same event we did), so the REGISTER that follows does not pick it up. Bounded:
// 100 looks, 2 ms apart.
func (k *flowKeeper) awaitClose(flow string) {
	for range 100 {
		if !k.io.alive(flow) {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// flowWatch is the keeper's close watch on one flow.
type flowWatch struct {
	flow   string
	hungUp <-chan struct{} // nil while not watching: never ready in a select
	end    func()
}

func (w *flowWatch) on(flow string) bool { return w.end != nil && w.flow == flow }

// start watches flow if io can; a flow it cannot watch is still looked at every poll.
func (w *flowWatch) start(io flowIO, flow string, log *slog.Logger) {
	w.stop()
	fw, ok := io.(flowWatcher)
	if !ok || flow == "" {
		return
	}
	ch, end, err := fw.watch(flow)
	if err != nil {
		log.Debug("cannot watch the registration's connection; looking at it now and then", "flow", flow, "err", err)
		return
	}
	w.flow, w.hungUp, w.end = flow, ch, end
}

func (w *flowWatch) stop() {
	if w.end != nil {
		w.end()
	}
	*w = flowWatch{}
}
