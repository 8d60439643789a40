package interop

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// ctl runs `dialtone ctl --control sock ARGS...` and returns its exit code, stdout, stderr.
func ctl(t *testing.T, sock string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(dialtoneBin, append([]string{"ctl", "--control", sock, "--timeout", "20s"}, args...)...)
	cmd.Env = isolatedEnv(t)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("dialtone ctl %v hung", args)
	}
	code := 0
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		code = xe.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// dtmfDigits is what baresip reported receiving (CALL_DTMF_START events), in order.
func dtmfDigits(b *peers.Baresip) string {
	var s strings.Builder
	for _, e := range b.Events() {
		if e.Type == "CALL_DTMF_START" {
			s.WriteString(e.Param)
		}
	}
	return s.String()
}

// TestCtlDrivesServe: `dialtone serve` registers at Kamailio; `dialtone ctl` dials baresip,
// sends DTMF (baresip receives the digits), mutes and unmutes, lists the calls and hangs up;
// a transfer to a garbage URI is refused;
// each side hears the other's tone. Meanwhile `ctl events` follows the same event stream,
// garbage and a command for a call that does not exist get error replies, and a client that
// never reads is disconnected without holding up the phone. Then baresip calls serve and
// `ctl answer` takes the call, holds and resumes it; with `ctl dnd on 603` a third call is
// declined, and `ctl message` reaches baresip.
func TestCtlDrivesServe(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	tone := makeTone(t, 1300, 60, 8000)
	recDir := filepath.Join(t.TempDir(), "rec")
	sock := filepath.Join(t.TempDir(), "ctl", "control.sock")
	logFile := filepath.Join(t.TempDir(), "serve.log")
	serve := startDialtone(t, pw("alice"), append([]string{"serve", "--json", "--control", sock, "--play", tone, "--record-dir", recDir,
		"--control-queue", "32", "--log-level", "info", "--log-file", logFile}, adhoc(k, "udp", "alice")...)...)
	if c := serve.waitEvent("control", 20*time.Second); c.str("addr") != sock {
		t.Fatalf("control event %v, want addr %s", c, sock)
	}
	serve.waitEvent("registered", 20*time.Second)
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v %v, want mode 0600", sock, fi, err)
	}
	follower := startDialtone(t, nil, "ctl", "--control", sock, "events")
	// The follower is connected once it sees an event: ask for one (dnd off publishes "dnd").
	eventually(t, 20*time.Second, "ctl events is connected", func() (bool, string) {
		if code, _, errOut := ctl(t, sock, "dnd", "off"); code != 0 {
			return false, errOut
		}
		select {
		case e := <-follower.events:
			return e.name() == "dnd", "got " + e.name()
		case <-time.After(time.Second):
			return false, "no event"
		}
	})

	// A client that sends commands and never reads its replies.
	slow, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	go func() { // ends when serve drops the connection (a write fails) or after 20000 lines
		line := []byte(`{"cmd":"calls","id":"slow"}` + "\n")
		for i := 0; i < 20000; i++ {
			_ = slow.SetWriteDeadline(time.Now().Add(20 * time.Second))
			if _, err := slow.Write(line); err != nil {
				return
			}
		}
	}()

	code, out, errOut := ctl(t, sock, "dial", "sip:bob@127.0.0.1")
	if code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("ctl dial: exit %d, out %q, err %q\n%s", code, out, errOut, serve.transcript())
	}
	id := strings.TrimSpace(out)
	if a := serve.waitEvent("answered", 20*time.Second); a.str("call_id") != id {
		t.Fatalf("answered %v, want call %s", a, id)
	}
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	if code, out, errOut := ctl(t, sock, "--json", "dtmf", "1234#"); code != 0 || !strings.Contains(out, `"ok":true`) {
		t.Fatalf("ctl dtmf: exit %d %q %q", code, out, errOut)
	}
	if code, out, _ := ctl(t, sock, "calls"); code != 0 || !strings.Contains(out, id+"\tanswered\toutgoing\tsip:bob@127.0.0.1") {
		t.Errorf("ctl calls: exit %d %q", code, out)
	}
	for _, c := range []string{"mute", "unmute"} {
		if code, _, errOut := ctl(t, sock, "--call", id, c); code != 0 {
			t.Errorf("ctl %s: exit %d %s", c, code, errOut)
		}
	}
	// Bad commands: each a clear error, the call goes on.
	if code, _, errOut := ctl(t, sock, "transfer", "sip:"); code != 1 || errOut == "" {
		t.Errorf("transfer to a garbage URI: exit %d %q", code, errOut)
	}
	if code, _, errOut := ctl(t, sock, "--call", "c99", "hangup"); code != 1 || !strings.Contains(errOut, "no such call") {
		t.Errorf("hangup of a call that does not exist: exit %d %q", code, errOut)
	}
	if code, _, errOut := ctl(t, sock, "jump"); code != 2 || !strings.Contains(errOut, `unknown command "jump"`) {
		t.Errorf("ctl jump: exit %d %q", code, errOut)
	}
	if code, _, errOut := ctl(t, sock, "dtmf", "12x"); code != 2 || !strings.Contains(errOut, "not a DTMF digit") {
		t.Errorf("ctl dtmf 12x: exit %d %q", code, errOut)
	}
	raw, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := raw.Write([]byte("\x00\xffgarbage{{{\n" + `{"cmd":"hangup","call":"c42","id":17}` + "\n" + `{"cmd":"calls","id":18}` + "\n")); err != nil {
		t.Fatal(err)
	}
	replies := readReplies(t, raw, 3)
	if replies[0]["ok"] != false || !strings.Contains(str(replies[0]["error"]), "not a command object") {
		t.Errorf("garbage: %v", replies[0])
	}
	if replies[1]["id"] != 17.0 || !strings.Contains(str(replies[1]["error"]), "call c42: no such call") {
		t.Errorf("hangup c42: %v", replies[1])
	}
	if replies[2]["id"] != 18.0 || replies[2]["ok"] != true {
		t.Errorf("calls after garbage: %v", replies[2])
	}
	raw.Close()

	time.Sleep(3 * time.Second) // the call itself: audio flows both ways meanwhile
	if code, _, errOut := ctl(t, sock, "hangup"); code != 0 {
		t.Fatalf("ctl hangup: exit %d %s", code, errOut)
	}
	if h := serve.waitEvent("hangup", 10*time.Second); h.str("by") != "local" || h.str("call_id") != id {
		t.Errorf("hangup %v, want by local", h)
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	if got := dtmfDigits(bob); got != "1234#" {
		t.Errorf("baresip received DTMF %q, want 1234#", got)
	}

	// baresip calls serve; ctl answer takes the call, ctl hangup ends it.
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	in := serve.waitEvent("incoming", 15*time.Second)
	if code, _, errOut := ctl(t, sock, "answer"); code != 0 {
		t.Fatalf("ctl answer: exit %d %s", code, errOut)
	}
	if a := serve.waitEvent("answered", 10*time.Second); a.str("call_id") != in.str("call_id") {
		t.Errorf("answered %v, want %s", a, in.str("call_id"))
	}
	time.Sleep(2 * time.Second) // the second call's audio
	// Hold and resume it (last: baresip records no more of a call after a re-INVITE).
	if code, _, errOut := ctl(t, sock, "hold"); code != 0 {
		t.Fatalf("ctl hold: exit %d %s", code, errOut)
	}
	if h := serve.waitEvent("hold", 10*time.Second); h.str("by") != "local" {
		t.Errorf("hold %v, want by local", h)
	}
	if code, out, _ := ctl(t, sock, "calls"); code != 0 || !strings.Contains(out, " holding") {
		t.Errorf("ctl calls while holding: exit %d %q", code, out)
	}
	if code, _, errOut := ctl(t, sock, "resume"); code != 0 {
		t.Fatalf("ctl resume: exit %d %s", code, errOut)
	}
	serve.waitEvent("resume", 10*time.Second)
	if code, _, errOut := ctl(t, sock, "--call", in.str("call_id"), "hangup"); code != 0 {
		t.Fatalf("ctl hangup (second call): exit %d %s", code, errOut)
	}
	serve.waitEvent("hangup", 10*time.Second)
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup of the second call: %v", err)
	}

	// Do not disturb: baresip's next call is declined with the code asked for.
	if code, out, errOut := ctl(t, sock, "dnd", "on", "603"); code != 0 || !strings.Contains(out, "dnd on (new calls get 603)") {
		t.Fatalf("ctl dnd on 603: exit %d %q %q", code, out, errOut)
	}
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	closed, err := bob.WaitEvent("CALL_CLOSED", 15*time.Second)
	if err != nil || !strings.Contains(closed.Param, "603") {
		t.Errorf("baresip's call during DND: %+v %v, want closed with 603", closed, err)
	}
	if code, out, _ := ctl(t, sock, "dnd", "off"); code != 0 || !strings.Contains(out, "dnd off") {
		t.Errorf("ctl dnd off: exit %d %q", code, out)
	}
	// A message through serve: baresip shows the text, serve reports it sent.
	const text = "hello from ctl ✓"
	if code, _, errOut := ctl(t, sock, "message", "sip:bob@127.0.0.1", text); code != 0 {
		t.Fatalf("ctl message: exit %d %s", code, errOut)
	}
	if m := serve.waitEvent("message_sent", 10*time.Second); m.str("text") != text {
		t.Errorf("message_sent %v", m)
	}
	eventually(t, 10*time.Second, "baresip shows the message", func() (bool, string) {
		return strings.Contains(bob.Log(), text), "not in baresip's log"
	})

	// The slow client was dropped, and said why in the log; the phone never waited for it.
	eventually(t, 20*time.Second, "the slow client disconnected", func() (bool, string) {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "too slow"), "no 'too slow' in the log"
	})

	serve.signal(sigterm)
	if code, _ := serve.wait(20 * time.Second); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, serve.transcript())
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind after exit: %v", err)
	}
	fcode, fevs := follower.wait(10 * time.Second)
	if fcode != 0 {
		t.Errorf("ctl events exit %d\n%s", fcode, follower.transcript())
	}
	var answered, hangups int
	for _, e := range fevs {
		switch e.name() {
		case "answered":
			answered++
		case "hangup":
			hangups++
		}
	}
	if answered < 2 || hangups < 2 {
		t.Errorf("ctl events saw %d answered and %d hangup events, want 2 each: %v", answered, hangups, names(fevs))
	}

	recs, err := filepath.Glob(filepath.Join(recDir, "*.wav"))
	if err != nil || len(recs) != 2 {
		t.Fatalf("serve recorded %v (%v), want two calls", recs, err)
	}
	for _, r := range recs {
		assertToneFor(t, "dialtone heard baresip", r, 700)
	}
	bobRecs, err := bob.Recordings()
	if err != nil || len(bobRecs) == 0 {
		t.Fatalf("baresip recorded nothing: %v", err)
	}
	var heard float64 // baresip starts new recordings at a re-INVITE (hold, resume)
	for _, r := range bobRecs {
		heard += toneSeconds(t, r, 1300)
	}
	if heard < 4 {
		t.Errorf("baresip heard dialtone's tone for %.2f s in %d recordings, want 4 s", heard, len(bobRecs))
	}
}

func str(v any) string { s, _ := v.(string); return s }

// readReplies reads n reply objects from conn, skipping events.
func readReplies(t *testing.T, conn net.Conn, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(conn)
	for len(out) < n && sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("serve sent a line that is not JSON: %q", sc.Text())
		}
		if m["event"] == "reply" {
			out = append(out, m)
		}
	}
	if len(out) < n {
		t.Fatalf("%d replies of %d: %v", len(out), n, sc.Err())
	}
	return out
}

// startWithStdin runs dialtone with a pipe as its standard input.
func startWithStdin(t *testing.T, env []string, args ...string) (*proc, io.WriteCloser) {
	t.Helper()
	return startDialtoneWith(t, nil, true, env, args...)
}
