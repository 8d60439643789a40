package peers

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Dial places a call to uri (e.g. "sip:alice@127.0.0.1").
func (b *Baresip) Dial(uri string) error {
	_, err := b.Command("dial", uri)
	return err
}

// Answer answers the ringing incoming call (needed without AutoAnswer).
func (b *Baresip) Answer() error {
	_, err := b.Command("accept", "")
	return err
}

// Hangup hangs up the current call (or rejects/cancels a ringing one).
func (b *Baresip) Hangup() error {
	_, err := b.Command("hangup", "")
	return err
}

// Command sends a raw ctrl_tcp command (a menu command without the leading
// slash, e.g. "dial", "reginfo", "listcalls", "message") and returns the
// response's data. An "ok":false response is an error.
func (b *Baresip) Command(cmd, params string) (string, error) {
	if b.ctrl == nil {
		return "", errors.New("baresip ctrl_tcp not connected")
	}
	return b.ctrl.command(cmd, params, baresipCommandTimeout)
}

// WaitEvent waits up to timeout for an event of type typ and consumes it.
// Events are queued from the moment StartBaresip returns (REGISTER_OK seen
// during start-up is consumed by StartBaresip); WaitEvent takes the oldest
// queued event of that type and leaves the others in the queue, so e.g.
// CALL_RINGING and CALL_ESTABLISHED may be waited for in either order.
func (b *Baresip) WaitEvent(typ string, timeout time.Duration) (BaresipEvent, error) {
	if b.ctrl == nil {
		return BaresipEvent{}, errors.New("baresip ctrl_tcp not connected")
	}
	ev, err := b.ctrl.waitEvent(func(ev BaresipEvent) bool { return ev.Type == typ }, timeout)
	if err != nil {
		return ev, fmt.Errorf("waiting for baresip %s event: %w (events so far: %s)", typ, err, b.ctrl.history())
	}
	return ev, nil
}

// Events returns every event received so far, consumed or not, in order.
func (b *Baresip) Events() []BaresipEvent {
	if b.ctrl == nil {
		return nil
	}
	return b.ctrl.allEvents()
}

// Log returns what baresip has printed so far (including a SIP trace).
func (b *Baresip) Log() string {
	data, err := os.ReadFile(b.logFile)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", b.logFile, err)
	}
	return string(data)
}

// SIPPort is the UDP/TCP port baresip listens on for SIP (on IP).
func (b *Baresip) SIPPort() int { return b.sipPort }

// IP is the address baresip listens on and advertises in its SDP.
func (b *Baresip) IP() string { return b.opts.IP }

// AOR is the account's address of record: sip:User@Domain when
// registering, sip:User@IP:SIPPort in listen-only mode (the URI to call it
// on).
func (b *Baresip) AOR() string { return b.aor }

// Dir is the config directory (config, accounts, tone.wav, baresip.log);
// RecordingDir (Dir/rec) holds the sndfile recordings.
func (b *Baresip) Dir() string { return b.dir }

// RecordingDir is sndfile's snd_path.
func (b *Baresip) RecordingDir() string { return b.recDir }

// Stop quits baresip: "quit" over ctrl_tcp, then SIGTERM, then SIGKILL to
// its process group, waiting for it to exit. StartBaresip registers it with
// t.Cleanup; calling it earlier is fine and calling it again is a no-op.
// Files are left in place.
func (b *Baresip) Stop() {
	b.stopOnce.Do(b.stop)
}

func (b *Baresip) stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		if b.ctrl != nil {
			b.ctrl.close()
		}
		return
	}
	pgid := b.cmd.Process.Pid
	exited := func(d time.Duration) bool {
		select {
		case <-b.done:
			return true
		case <-time.After(d):
			return false
		}
	}
	quit := false
	if b.ctrl != nil {
		// baresip may exit before answering "quit".
		_ = b.ctrl.send("quit", "", "")
		quit = exited(baresipQuitTimeout)
	}
	if !quit {
		stopGroup(b.t, "baresip", pgid, b.done, baresipTermTimeout)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // stragglers
	if b.ctrl != nil {
		b.ctrl.close()
	}
	b.cmd = nil
}

// Pid is the baresip process id, for benchmarks that measure its CPU time.
func (b *Baresip) Pid() int { return b.cmd.Process.Pid }
