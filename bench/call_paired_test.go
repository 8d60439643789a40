package bench

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// Side by side: the two answerers take a call each at the same moment, and both are measured
// across the same window by cpuMeter (schedstat, to the nanosecond, threads that end with the
// call included). Measured one after the other, as callOnce and callAnswererOnce are, each
// call meets the machine in another mood: on this shared host the same process costs ±30 %
// from one 20 s window to the next, so a ratio of two windows scatters from 0.4 to 1.0. In the
// same window the noise falls on both alike. The two calls share two cores, but each side
// uses about 1 % of one: they do not crowd each other out.

// pairedSample is one paired call: each answerer's CPU ms and wake-ups per second of call.
type pairedSample struct {
	ours, peer         float64
	oursWake, peerWake float64
	floor              float64 // a framefloor process in the same window (call_floor_test.go); 0 without
}

// callPaired has bin call baresip (bob) and the dialtone answerer a at the same time, both
// G.711 with a tone each way, and measures both answerers over the same window. ok is false
// when this kernel has no schedstat to measure with. With floorBin, a framefloor pair runs in
// the same window and is measured too.
func callPaired(b *testing.B, bin, floorBin string, bob *peers.Baresip, a *callAnswerer, registrar, password, tone string, seconds int) (s pairedSample, ok bool) {
	peerMeter, err := startCPUMeter(bob.Pid())
	if err != nil {
		b.Logf("no paired measurement: %v", err)
		return s, false
	}
	defer peerMeter.halt()
	ourMeter, err := startCPUMeter(a.cmd.Process.Pid)
	if err != nil {
		b.Logf("no paired measurement: %v", err)
		return s, false
	}
	defer ourMeter.halt()
	var floor *frameFloor
	if floorBin != "" {
		if floor, err = startFrameFloor(floorBin, seconds); err != nil {
			b.Fatal(err)
		}
		defer floor.stop()
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, target := range []string{"sip:bob@127.0.0.1", "sip:" + a.user + "@127.0.0.1"} {
		cmd := g711Call(b, bin, target, registrar, password, tone, seconds)
		wg.Go(func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("dialtone call %s: %v\n%s", target, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		b.Fatal(err)
	}
	a.waitPCMUHangup(b)
	peer, peerWakes, err1 := peerMeter.read()
	ours, ourWakes, err2 := ourMeter.read()
	for _, err := range []error{err1, err2} {
		if err != nil {
			b.Fatal(err)
		}
	}
	secs := float64(seconds)
	s = pairedSample{
		ours: float64(ours.Microseconds()) / 1000 / secs, peer: float64(peer.Microseconds()) / 1000 / secs,
		oursWake: float64(ourWakes) / secs, peerWake: float64(peerWakes) / secs,
	}
	if floor != nil {
		f, _, err := floor.meter.read()
		if err != nil {
			b.Fatal(err)
		}
		s.floor = float64(f.Microseconds()) / 1000 / secs
	}
	return s, true
}
