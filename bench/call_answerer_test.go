package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The answerer beside the answerer: baresip's CPU in BenchmarkCallCPU is an auto-answering
// process that was started long before the call and is measured across the call only, while
// dialtone's is a whole `dialtone call` process. Here dialtone takes baresip's place: a
// long-running `dialtone answer --auto`, registered at the same Kamailio, playing the same kind
// of WAV and recording what it receives, is called by the same `dialtone call` as baresip is,
// and measured the same way (/proc/PID/stat before and after the call). Both sides then count
// the same work, a call, by the same method.

// callAnswerer is one running `dialtone answer --auto --json` and its event lines.
type callAnswerer struct {
	cmd    *exec.Cmd
	user   string
	recDir string
	events chan string // stdout's JSON lines
	exited chan struct{}
	stderr *strings.Builder
	// stop ends it (once): at the end of its iteration, whose calls it was for, else at cleanup.
	stop func()
}

func startCallAnswerer(b *testing.B, bin, user, password, registrar, tone string, calls int) *callAnswerer {
	dir := b.TempDir()
	a := &callAnswerer{user: user, recDir: filepath.Join(dir, "rec"), events: make(chan string, 256),
		exited: make(chan struct{}), stderr: &strings.Builder{}}
	if err := os.Mkdir(a.recDir, 0o755); err != nil {
		b.Fatal(err)
	}
	// One call more than it will get: it must not exit (and be reaped) before its last call's
	// CPU is read; Cleanup stops it.
	a.cmd = exec.Command(bin, "answer", "--auto", "--count", fmt.Sprint(calls+1), "--json",
		"--play", tone, "--record", filepath.Join(a.recDir, "rx.wav"),
		"--aor", "sip:"+user+"@127.0.0.1", "--registrar", "sip:"+registrar, "--listen", "127.0.0.1:0")
	a.cmd.Env = append(os.Environ(), "DIALTONE_PASSWORD="+password, "XDG_CONFIG_HOME="+dir, "XDG_STATE_HOME="+dir, "XDG_DATA_HOME="+dir,
		"DIALTONE_CPUPROFILE=")
	a.cmd.Stderr = a.stderr
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		b.Fatalf("dialtone answer: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(a.exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); !strings.Contains(line, `"event":"stats"`) {
				a.events <- line // a few lines a call; the buffer outlasts a run
			}
		}
		_ = a.cmd.Wait()
	}()
	a.stop = sync.OnceFunc(func() {
		_ = a.cmd.Process.Signal(syscall.SIGTERM) // it unregisters: Kamailio forks no call to it
		select {
		case <-a.exited:
		case <-time.After(5 * time.Second):
			_ = a.cmd.Process.Kill()
		}
		wg.Wait()
	})
	b.Cleanup(a.stop)
	if _, err := a.waitEvent(`"event":"registered"`, 15*time.Second); err != nil {
		b.Fatalf("dialtone answer as %s: %v\n%s", user, err, a.stderr.String())
	}
	return a
}

// waitEvent waits for an event line containing want and returns it.
func (a *callAnswerer) waitEvent(want string, d time.Duration) (string, error) {
	timeout := time.After(d)
	for {
		select {
		case line := <-a.events:
			if strings.Contains(line, want) {
				return line, nil
			}
		case <-a.exited:
			return "", fmt.Errorf("exited before %s", want)
		case <-timeout:
			return "", fmt.Errorf("no %s within %v", want, d)
		}
	}
}

// callAnswererOnce has bin call a, and returns a's CPU ms and context switches per second of
// call, measured across the call exactly as baresip's are.
func callAnswererOnce(b *testing.B, bin string, a *callAnswerer, registrar, password, tone string, seconds int) (cpu, wake float64) {
	pid := a.cmd.Process.Pid
	before, wakeBefore := cpuOf(b, pid), switchesOf(b, pid)
	cmd := g711Call(b, bin, "sip:"+a.user+"@127.0.0.1", registrar, password, tone, seconds)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("dialtone call %s: %v\n%s", a.user, err, out)
	}
	a.waitPCMUHangup(b)
	secs := float64(seconds)
	return float64((cpuOf(b, pid) - before).Microseconds()) / 1000 / secs, float64(switchesOf(b, pid)-wakeBefore) / secs
}

// g711Call is `bin call target` as alice through the registrar, playing tone and recording
// for seconds, with no CPU profile of its own. G.711 only, as with baresip (whose build here
// has no other codec): left to itself, dialtone would pick Opus at 48 kHz with another
// dialtone, three times the work.
func g711Call(b *testing.B, bin, target, registrar, password, tone string, seconds int) *exec.Cmd {
	dir := b.TempDir()
	cmd := exec.Command(bin, "call", target, "--aor", "sip:alice@127.0.0.1", "--registrar", "sip:"+registrar,
		"--codecs", "PCMU,PCMA", "--play", tone, "--record", filepath.Join(dir, "rec.wav"), "--duration", fmt.Sprint(seconds, "s"))
	cmd.Env = append(os.Environ(), "DIALTONE_PASSWORD="+password, "XDG_CONFIG_HOME="+dir, "XDG_STATE_HOME="+dir, "XDG_DATA_HOME="+dir, "DIALTONE_CPUPROFILE=")
	return cmd
}

// waitPCMUHangup waits for a's call to end and checks that it was G.711 µ-law, as baresip's
// calls are: the figures compare the same work.
func (a *callAnswerer) waitPCMUHangup(b *testing.B) {
	hangup, err := a.waitEvent(`"event":"hangup"`, 10*time.Second)
	if err != nil {
		b.Fatalf("dialtone answer as %s: %v\n%s", a.user, err, a.stderr.String())
	}
	if !strings.Contains(hangup, `"codec":"PCMU"`) {
		b.Fatalf("dialtone answer as %s: the call was not G.711 µ-law as baresip's are: %s", a.user, hangup)
	}
}

// answererRecorded checks that a recorded every call it answered: one WAV a call, each
// holding at least half of a call's worth of 8 kHz 16-bit samples, so the figures are of
// calls that carried media.
func (a *callAnswerer) answererRecorded(b *testing.B, calls, seconds int) {
	recs, _ := filepath.Glob(filepath.Join(a.recDir, "*.wav"))
	if len(recs) != calls {
		b.Fatalf("dialtone answer recorded %d calls, want %d: %v", len(recs), calls, recs)
	}
	for _, r := range recs {
		st, err := os.Stat(r)
		if err != nil {
			b.Fatal(err)
		}
		if st.Size() < int64(seconds*8000*2/2) {
			b.Fatalf("dialtone answer's recording %s is short (%d bytes): media did not flow", r, st.Size())
		}
	}
}
