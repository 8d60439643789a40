package ui

import (
	"bytes"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// TestTypingEchoesWithoutATickAndIdleDrawsNothing runs the real program (Bubble Tea's
// renderer, keys parsed from an input stream) at one frame a second, the slowest Bubble Tea
// allows. dialtone carries a Bubble Tea whose renderer flushes when the view changes instead
// of on a ticker (third_party/bubbletea/PATCH.md): while nothing changes nothing reaches the
// terminal, and a typed character is drawn because it changed the view, not because a frame
// tick came round. The time each echo took is logged (waiting for a tick at this rate would
// take up to 1 s; changes closer together than a frame are still paced one frame apart);
// bench/idle_bench_test.go measures the wakeups.
func TestTypingEchoesWithoutATickAndIdleDrawsNothing(t *testing.T) {
	t.Parallel() // mostly waiting out frame intervals: let the other tests run meanwhile
	ph := newFakePhone("office")
	ph.events <- snapshot(registered("office", "sip:alice@example.com"))
	keys, typist := io.Pipe()
	t.Cleanup(func() { _ = typist.Close() })
	out := &syncBuffer{}
	done := make(chan error, 1)
	p := tea.NewProgram(New(Options{Phone: ph, NoColor: true}),
		tea.WithInput(keys),
		tea.WithOutput(out),
		tea.WithoutSignals(),
		tea.WithWindowSize(100, 30),
		tea.WithColorProfile(colorprofile.NoTTY),
		tea.WithFPS(1),
	)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	t.Cleanup(func() {
		p.Kill()
		<-done
	})
	waitOutput(t, out, 0, []byte("office registered")) // drawn

	// Idle: the screen is drawn, nothing changes, so nothing more may be written. Two frame
	// intervals, long enough for a ticking renderer to have flushed twice.
	settle(out)
	idle := out.Len()
	time.Sleep(2100 * time.Millisecond)
	if n := out.Len(); n != idle {
		t.Errorf("the idle program wrote %d bytes to the terminal: %q", n-idle, out.Bytes()[idle:])
	}

	// Typing: "d" opens the dialer, then each character appears as it is typed.
	before := out.Len()
	if _, err := typist.Write([]byte("d")); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, out, before, nil)
	settle(out)
	for _, c := range []byte("zqx") {
		settle(out) // a frame has passed since the last flush: nothing holds the next one back
		from, start := out.Len(), time.Now()
		if _, err := typist.Write([]byte{c}); err != nil {
			t.Fatal(err)
		}
		waitOutput(t, out, from, []byte{c})
		t.Logf("%q echoed after %v", c, time.Since(start).Round(time.Millisecond))
	}
}

// waitOutput waits (at most 10 s) until the terminal output past offset from contains want,
// or, with want nil, grows at all.
func waitOutput(t *testing.T, out *syncBuffer, from int, want []byte) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		got := out.Bytes()[from:]
		if want == nil && len(got) > 0 || want != nil && bytes.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q never reached the terminal; new output: %q", want, got)
		}
	}
}

// settle waits (at most 5 s) until the output has not grown for just over one frame (1 s).
func settle(out *syncBuffer) {
	last, since := out.Len(), time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n := out.Len(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 1100*time.Millisecond {
			return
		}
	}
}
