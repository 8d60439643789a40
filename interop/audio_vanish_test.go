package interop

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/interop/peers"
)

// vanishCallSecs is the --duration of the device-loss calls; the device goes away about 5 s
// in (after the first stats event), and is found lost about 2 s later.
const vanishCallSecs = 15

// TestSoundDeviceVanishesMidCall (issue 11): dialtone calls an auto-answering baresip with
// PortAudio devices on a private PulseAudio, and mid-call the device goes away in each of the
// ways it does on a desktop. The call must go on to its --duration and exit 0; the user is told
// once per lost device ("audio_device_lost"); RTP keeps flowing to baresip at 50 packets a
// second (silence in place of the microphone); nothing spins; and the process still exits
// when the sound server hangs (before the fix it never did: closing the stream waited for
// PortAudio's stuck audio thread for ever).
func TestSoundDeviceVanishesMidCall(t *testing.T) {
	t.Parallel()
	both := []string{"microphone", "speaker"}
	for _, tc := range []struct {
		name string
		lose func(t *testing.T, pa *peers.PulseAudio)
		want []string // the devices reported lost, once each (nil: each at most once)
	}{
		{"headset unplugged", func(t *testing.T, pa *peers.PulseAudio) {
			// Both sinks and the fallback go, so the streams have nowhere to move: what a USB
			// headset's removal does to a PulseAudio or PipeWire client.
			n, err := pa.UnloadModules("module-always-sink", "module-null-sink sink_name=dt_capture", "module-null-sink sink_name=dt_play")
			if err != nil || n != 3 {
				t.Fatalf("unloaded %d of 3 modules: %v", n, err)
			}
		}, both},
		{"sound server killed", func(t *testing.T, pa *peers.PulseAudio) { signalPulse(t, pa, syscall.SIGKILL) }, both},
		{"sound server hangs", func(t *testing.T, pa *peers.PulseAudio) { signalPulse(t, pa, syscall.SIGSTOP) }, both},
		{"speaker removed, stream moved", func(t *testing.T, pa *peers.PulseAudio) {
			// Another sink is left: PulseAudio moves the stream there. Sometimes PortAudio's ALSA
			// stream survives the move and the call keeps its speaker; sometimes the move ends in
			// an xrun that PortAudio cannot recover ("snd_pcm_prepare failed"), its thread quits
			// and the speaker is reported lost. Either way the call goes on.
			if n, err := pa.UnloadModules("module-null-sink sink_name=dt_play"); err != nil || n != 1 {
				t.Fatalf("unloaded %d of 1 module: %v", n, err)
			}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vanishCall(t, tc.lose, tc.want)
		})
	}
}

func vanishCall(t *testing.T, lose func(*testing.T, *peers.PulseAudio), want []string) {
	pa := peers.StartPulseAudio(t)
	t.Cleanup(func() { // a stopped server cannot be asked to stop: let it run again first
		if pid, err := pa.ServerPID(); err == nil {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, ToneHz: 1300})
	pa.Play(t, makeTone(t, 700, vanishCallSecs+10, 8000))
	p := startDialtone(t, pa.Env(), append([]string{"call", "sip:bob@127.0.0.1:" + strconv.Itoa(bob.SIPPort()), "--json",
		"--duration", strconv.Itoa(vanishCallSecs) + "s", "--audio", "device"}, debugLog(t)...)...)
	var evs []event
	next := func(name string, timeout time.Duration) event {
		t.Helper()
		deadline := time.After(timeout)
		for {
			select {
			case e, ok := <-p.events:
				if !ok {
					t.Fatalf("dialtone exited before %q\n%s", name, p.transcript())
				}
				evs = append(evs, e)
				if e.name() == name {
					return e
				}
			case <-deadline:
				t.Fatalf("no %q within %v\n%s", name, timeout, p.transcript())
			}
		}
	}
	next("answered", 20*time.Second)
	answeredAt := time.Now()
	before := next("stats", 10*time.Second) // 5 s of the call with its devices
	beforeAt := time.Now()
	pid := p.cmd.Process.Pid
	lose(t, pa)
	lost := time.Now()

	// CPU over 3 s of the call after the loss was found (~2 s): no thread spins on a dead device.
	time.Sleep(3 * time.Second)
	cpu0 := vanishCPU(t, pid)
	time.Sleep(3 * time.Second)
	cpu := (vanishCPU(t, pid) - cpu0) / 3
	t.Logf("after the loss: %.1f %% of a core", cpu*100)
	if cpu > 0.20 {
		t.Errorf("dialtone used %.0f %% of a core after the device went away, want < 20 %%", cpu*100)
	}

	h := next("hangup", 2*vanishCallSecs*time.Second)
	// The process ends soon after the call, even with a sound server that hangs.
	ended := time.Now()
	sinceLoss := ended.Sub(lost)
	code, rest := p.wait(15 * time.Second)
	evs = append(evs, rest...)
	t.Logf("hung up %v after the loss (%s, by %s); exited %v after the hangup", sinceLoss.Round(time.Second), h.str("reason"),
		h.str("by"), time.Since(ended).Round(100*time.Millisecond))
	if code != 0 || h.str("by") != "local" {
		t.Fatalf("exit %d, hangup by %q: want 0 and a local hangup at --duration\n%s", code, h.str("by"), p.transcript())
	}

	// PortAudio's own complaints ("Expression '...' failed in 'src/hostapi/alsa/pa_linux_alsa.c'")
	// go to the debug log, not over the terminal (the TUI draws there).
	p.mu.Lock()
	stderr := p.stderr.String()
	p.mu.Unlock()
	if strings.Contains(stderr, "pa_linux_alsa.c") {
		t.Errorf("PortAudio printed on dialtone's stderr:\n%s", stderr)
	}

	got := map[string]int{}
	for _, e := range evs {
		if e.name() != "audio_device_lost" {
			continue
		}
		got[e.str("device")]++
		if e.str("call_id") == "" || e.str("reason") == "" || !strings.Contains(e.str("error"), "sound device lost") {
			t.Errorf("audio_device_lost without call_id, reason or error: %v", e)
		}
	}
	for _, d := range want {
		if got[d] != 1 {
			t.Errorf("%d audio_device_lost events for the %s, want 1\n%s", got[d], d, p.transcript())
		}
	}
	for d, n := range got {
		if n > 1 || want != nil && n != 1 || d != "microphone" && d != "speaker" {
			t.Errorf("%d audio_device_lost events for %q, want at most one per device\n%s", n, d, p.transcript())
		}
	}
	t.Logf("audio_device_lost: %v", got)

	// RTP went on to the end: the final stats count what we sent after the loss, compared with
	// the rate before it. A starved machine makes the pacer drop ticks (one run at load 16 on 2
	// cores sent 32/s before and after the loss alike); a stream that stopped with its device
	// sends nothing at all.
	final, ok := lastEvent(evs, "stats")
	if !ok || final["final"] != true {
		t.Fatalf("no final stats\n%s", p.transcript())
	}
	secs := h.num("duration")
	sent := final.num("packets_sent")
	beforeRate := before.num("packets_sent") / beforeAt.Sub(answeredAt).Seconds()
	after := (sent - before.num("packets_sent")) / ended.Sub(beforeAt).Seconds()
	t.Logf("sent %.0f RTP packets in the %.1f s call: %.1f/s before the loss, %.1f/s from the loss to the end; received %.0f",
		sent, secs, beforeRate, after, final.num("packets_received"))
	if after < 20 || after < 0.75*beforeRate {
		t.Errorf("sent %.1f packets/s after the device went away (%.1f/s before): the stream stopped with the device", after, beforeRate)
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	rec := lastRecording(t, bob)
	if s := toneSeconds(t, rec, 700); s < minToneSeconds {
		t.Errorf("baresip heard %.2f s of the microphone's 700 Hz before the loss, want >= %.1f s", s, minToneSeconds)
	}
	samples, rateHz, err := wav.ReadAll(rec)
	if err != nil {
		t.Fatal(err)
	}
	// baresip's recording grows by 20 ms per packet it receives: it got what we sent, after the
	// loss too.
	if heard, want := float64(len(samples))/float64(rateHz), 0.02*sent; heard < 0.85*want {
		t.Errorf("baresip's recording of our stream is %.1f s long, want the %.1f s we sent", heard, want)
	}
}

// signalPulse sends sig to the test's PulseAudio server.
func signalPulse(t *testing.T, pa *peers.PulseAudio, sig syscall.Signal) {
	t.Helper()
	pid, err := pa.ServerPID()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("signal pulseaudio %d: %v", pid, err)
	}
}

// vanishCPU is the CPU time (user + system, seconds) process pid has used so far.
func vanishCPU(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("dialtone's CPU time: %v", err)
	}
	// Fields after "(comm)": state is the 3rd field of the line, utime the 14th, stime the 15th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		t.Fatalf("short /proc/%d/stat: %q", pid, b)
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// lastEvent returns the last event named name.
func lastEvent(evs []event, name string) (event, bool) {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].name() == name {
			return evs[i], true
		}
	}
	return nil, false
}
