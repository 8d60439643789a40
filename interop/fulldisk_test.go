package interop

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/store"
)

// TestFullDiskKeepsCalling (issue 11, item 4): `dialtone answer` keeps its history on a tiny
// tmpfs (a private mount namespace), which a filler file fills up mid-run. Then:
//   - incoming MESSAGEs are shown (message_received) and answered 200, though the history
//     cannot keep them: the user has them, which RFC 3428's 200 promises (delivered to the
//     user agent). Only a phone with no front end at all answers 500 with Retry-After
//     (phone.TestMessageUnkeptWithoutFrontEnd).
//   - a call from baresip is answered, and its audio (a 700 Hz tone) is heard;
//   - stderr says once that the history cannot be written, not once per message or call;
//   - once the filler is deleted the history works again without a restart, and says so;
//   - the database passes PRAGMA integrity_check, and `dialtone history` lists every message
//     stored before and after the full disk.
func TestFullDiskKeepsCalling(t *testing.T) {
	t.Parallel()
	disk := newTinyDisk(t, "1m")
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	rec := filepath.Join(t.TempDir(), "from-bob.wav") // the recording is not on the tiny disk
	port := freeUDPPort(t)
	// --count 2: answer stays up after the one call (its default is to exit after it) until SIGTERM.
	alice := startDialtoneOn(t, disk, pw("alice"), append([]string{"answer", "--auto", "--count", "2", "--json", "--audio", "null", "--record", rec,
		"--data-dir", disk.dir, "--listen", fmt.Sprintf("127.0.0.1:%d", port)}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)

	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst := netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", port))
	send := func(phase string, n int) (codes map[string]int, shown int) {
		codes = map[string]int{}
		for i := range n {
			body := fmt.Sprintf("%s %d", phase, i)
			res := transact(t, conn, dst, messageTo(conn, port, body))
			status := strings.SplitN(res, "\r\n", 2)[0]
			if ra := header(res, "Retry-After"); ra != "" {
				status += " (Retry-After " + ra + ")"
			}
			codes[status]++
			if strings.HasPrefix(status, "SIP/2.0 200") {
				if m := alice.waitEvent("message_received", 5*time.Second); strings.TrimSpace(m.str("text")) == body {
					shown++
				}
			}
		}
		return codes, shown
	}

	before, shownBefore := send("before", 3)
	filler, size := disk.fill(t)
	t.Logf("disk filled: %d bytes of filler, %s", size, disk.df())
	full, shownFull := send("full", 5)

	// A call while the disk is full: answered, audio heard.
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), ToneHz: 700})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("answered", 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(3 * time.Second) // let audio flow: the call itself, not a timing assertion
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	h := alice.waitEvent("hangup", 10*time.Second)
	fullStderr := stderrOf(alice)

	disk.free(t, filler)
	after, shownAfter := send("after", 3)
	alice.signal(syscall.SIGTERM)
	code, _ := alice.wait(20 * time.Second)
	stderr := stderrOf(alice)
	t.Logf("MESSAGEs before the disk filled: %v (%d shown); while full: %v (%d shown); after the filler was deleted: %v (%d shown); "+
		"call while full: answered, ended %q by %s; exit %d after SIGTERM\nstderr:\n%s",
		before, shownBefore, full, shownFull, after, shownAfter, h.str("reason"), h.str("by"), code, stderr)
	for phase, c := range map[string]map[string]int{"before": before, "full": full, "after": after} {
		if len(c) != 1 || c["SIP/2.0 200 OK"] == 0 {
			t.Errorf("MESSAGEs %s the full disk answered %v, want 200 OK to each", phase, c)
		}
	}
	if shownBefore != 3 || shownFull != 5 || shownAfter != 3 {
		t.Errorf("shown %d, %d, %d of 3, 5, 3 MESSAGEs: every one answered 200 must reach the user", shownBefore, shownFull, shownAfter)
	}
	if code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	assertTone(t, rec, 700, 2) // the call while the disk was full had its audio
	// One line when the writes started failing (printed before the disk was freed), one when
	// they worked again; nothing per message or call.
	if n := strings.Count(fullStderr, "cannot write the history"); n != 1 {
		t.Errorf("%d lines saying the history cannot be written while the disk was full, want exactly 1:\n%s", n, fullStderr)
	}
	if n := strings.Count(stderr, "history: written again"); n != 1 {
		t.Errorf("%d lines saying the history is written again, want exactly 1:\n%s", n, stderr)
	}
	if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 2 {
		t.Errorf("stderr has %d lines, want 2 (full, then written again):\n%s", lines, stderr)
	}

	// The history: sound, holding what came before and after the full disk.
	s, err := store.Open(disk.Path(filepath.Join(disk.dir, "history.db")))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.IntegrityCheck(context.Background()); err != nil {
		t.Fatalf("after the full disk: %v", err)
	}
	s.Close()
	hc, evs, hp := runDialtoneOn(t, disk, 10*time.Second, "history", "--json", "--limit", "100", "--data-dir", disk.dir)
	if hc != 0 {
		t.Fatalf("history: exit %d\n%s", hc, hp.transcript())
	}
	stored := incomingTexts(evs)
	var want []string
	for _, phase := range []string{"before", "after"} {
		for i := range 3 {
			want = append(want, fmt.Sprintf("%s %d", phase, i))
		}
	}
	if lost := missing(want, stored); len(lost) > 0 {
		t.Errorf("not in the history: %v (it lists %v)", lost, stored)
	}
	keptFull, calls := 0, 0
	for text := range stored {
		if strings.HasPrefix(text, "full ") {
			keptFull++
		}
	}
	for _, e := range evs {
		if e.name() == "call" {
			calls++
		}
	}
	t.Logf("history after the run: integrity ok, %d messages (%d of the 5 sent while full), %d calls (the one while full: not recorded if 0)", len(stored), keptFull, calls)
}

// messageTo is a MESSAGE from conn to alice at 127.0.0.1:port, a new transaction each time.
func messageTo(conn *net.UDPConn, port int, body string) string {
	local := conn.LocalAddr().String()
	b := branch()
	return fmt.Sprintf("MESSAGE sip:alice@127.0.0.1:%d SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=%s\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:carol@%s>;tag=%s\r\n"+
		"To: <sip:alice@127.0.0.1:%d>\r\n"+
		"Call-ID: %s@fulldisk\r\n"+
		"CSeq: 1 MESSAGE\r\n"+
		"Content-Type: text/plain;charset=utf-8\r\n"+
		"Content-Length: %d\r\n\r\n%s", port, local, b, local, b[len(b)-8:], port, b, len(body), body)
}

func stderrOf(p *proc) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// runDialtoneOn runs dialtone to completion in host's namespace.
func runDialtoneOn(t *testing.T, host commander, timeout time.Duration, args ...string) (int, []event, *proc) {
	t.Helper()
	p := startDialtoneOn(t, host, nil, args...)
	code, evs := p.wait(timeout)
	return code, evs, p
}
