// Package interop runs the real dialtone binary against real peers (Kamailio, baresip,
// sipp) started by the tests on 127.0.0.1. Nothing here is a mock.
package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dialtoneBin is the binary under test, built once by TestMain.
var dialtoneBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dialtone-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dialtoneBin = filepath.Join(dir, "dialtone")
	args := []string{"build", "-o", dialtoneBin}
	raceLogs := ""
	if raceEnabled {
		// Under `go test -race` the binary under test is raced too: that is where the
		// goroutines are. checkptr stays off because portaudio's stream handle trips it
		// (audio/portaudio/race_on_test.go). Reports go to files read after the run.
		args = append(args, "-race", "-gcflags=all=-d=checkptr=0")
		raceLogs = filepath.Join(dir, "race")
		os.Setenv("GORACE", "log_path="+raceLogs)
	}
	build := exec.Command("go", append(args, "../cmd/dialtone")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build dialtone:", err)
		os.Exit(1)
	}
	code := m.Run()
	if raceLogs != "" && reportRaces(raceLogs) {
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// reportRaces prints the race detector's reports that dialtone processes left under prefix
// (GORACE log_path writes prefix.PID) and says whether there were any.
func reportRaces(prefix string) bool {
	logs, _ := filepath.Glob(prefix + ".*")
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil || len(b) == 0 {
			continue
		}
		fmt.Fprintf(os.Stderr, "dialtone process %s:\n%s\n", strings.TrimPrefix(filepath.Ext(l), "."), b)
	}
	if len(logs) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d dialtone processes reported data races\n", len(logs))
	}
	return len(logs) > 0
}

// event is one NDJSON line of dialtone --json.
type event map[string]any

func (e event) name() string { s, _ := e["event"].(string); return s }

func (e event) str(k string) string { s, _ := e[k].(string); return s }

func (e event) num(k string) float64 { f, _ := e[k].(float64); return f }

// proc is a running dialtone whose NDJSON events arrive on a channel.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	events chan event
	mu     sync.Mutex
	stdout []string // every stdout line, for failure messages
	stderr strings.Builder
	done   chan struct{}
	err    error
}

// startDialtone runs dialtone with args and the given extra environment. The process is
// killed at cleanup if still running.
func startDialtone(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startDialtoneOn(t, nil, env, args...)
}

// commander runs programs somewhere: a netlab host (a network namespace), or, as nil, here.
type commander interface {
	Command(name string, args ...string) *exec.Cmd
}

// startDialtoneOn is startDialtone inside the network namespace of host (nil: this one).
func startDialtoneOn(t *testing.T, host commander, env []string, args ...string) *proc {
	t.Helper()
	p, _ := startDialtoneWith(t, host, false, env, args...)
	return p
}

// startDialtoneWith starts dialtone in host's namespace (nil: this one), with a pipe as its
// standard input when stdin is set (closed at cleanup).
func startDialtoneWith(t *testing.T, host commander, stdin bool, env []string, args ...string) (*proc, io.WriteCloser) {
	t.Helper()
	p := &proc{t: t, events: make(chan event, 1000), done: make(chan struct{})}
	if host != nil && !isNilCommander(host) {
		p.cmd = host.Command(dialtoneBin, args...)
	} else {
		p.cmd = exec.Command(dialtoneBin, args...)
	}
	p.cmd.Env = append(isolatedEnv(t), env...)
	var in io.WriteCloser
	if stdin {
		var err error
		if in, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
	}
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stdout = append(p.stdout, line)
			p.mu.Unlock()
			var e event
			if json.Unmarshal([]byte(line), &e) == nil {
				p.events <- e
			}
		}
		p.err = p.cmd.Wait()
		close(p.events)
		close(p.done)
	}()
	t.Cleanup(func() {
		if in != nil {
			in.Close()
		}
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p, in
}

// isNilCommander tells a typed nil (a nil *netlab.Host in an interface) from a real host.
func isNilCommander(c commander) bool {
	v := reflect.ValueOf(c)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// transcript is what the process printed, for failure messages.
func (p *proc) transcript() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", strings.Join(p.stdout, "\n"), p.stderr.String())
}

// waitEvent returns the next event named name, failing after timeout.
func (p *proc) waitEvent(name string, timeout time.Duration) event {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				p.t.Fatalf("dialtone exited before %q\n%s", name, p.transcript())
			}
			if e.name() == name {
				return e
			}
		case <-deadline:
			p.t.Fatalf("no %q event within %v\n%s", name, timeout, p.transcript())
		}
	}
}

// wait waits for exit and returns the exit code and every event not consumed yet.
func (p *proc) wait(timeout time.Duration) (int, []event) {
	p.t.Helper()
	var rest []event
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-p.events:
			if ok {
				rest = append(rest, e)
				continue
			}
			<-p.done
			var xe *exec.ExitError
			switch {
			case p.err == nil:
				return 0, rest
			case errors.As(p.err, &xe):
				return xe.ExitCode(), rest
			}
			p.t.Fatalf("dialtone: %v", p.err)
		case <-deadline:
			p.t.Fatalf("dialtone still running after %v\n%s", timeout, p.transcript())
		}
	}
}

func (p *proc) signal(s syscall.Signal) {
	if err := p.cmd.Process.Signal(s); err != nil {
		p.t.Fatal(err)
	}
}

// runDialtone runs dialtone to completion.
func runDialtone(t *testing.T, timeout time.Duration, env []string, args ...string) (int, []event, *proc) {
	t.Helper()
	p := startDialtone(t, env, args...)
	code, evs := p.wait(timeout)
	return code, evs, p
}

func names(evs []event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.name())
	}
	return out
}

func findEvent(evs []event, name string) (event, bool) {
	for _, e := range evs {
		if e.name() == name {
			return e, true
		}
	}
	return nil, false
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last string
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v (last: %s)", what, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

func ftoa(f float64) string { return fmt.Sprint(f) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const sigterm = syscall.SIGTERM

// runDialtoneStdin runs dialtone to completion with stdin.
func runDialtoneStdin(t *testing.T, stdin string, env []string, args ...string) (int, []event, *proc) {
	t.Helper()
	p := &proc{t: t, events: make(chan event, 1000), done: make(chan struct{})}
	p.cmd = exec.Command(dialtoneBin, args...)
	p.cmd.Env = append(isolatedEnv(t), env...)
	p.cmd.Stdin = strings.NewReader(stdin)
	var out strings.Builder
	p.cmd.Stdout = &out
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	err := p.cmd.Run()
	for _, line := range strings.Split(out.String(), "\n") {
		p.stdout = append(p.stdout, line)
	}
	code := 0
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		code = xe.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, nil, p
}

// isolatedEnv is the environment with a private data and config directory per test, so that
// no test reads the user's config or writes the user's history (env given later wins).
func isolatedEnv(t *testing.T) []string {
	return append(os.Environ(), "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
}
