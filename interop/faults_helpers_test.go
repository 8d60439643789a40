package interop

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// messageBurstScenario is a sipp UAC scenario: one MESSAGE per call, each from a sender of its
// own (one sender's burst is refused past 30: message_limit.go), with the call number in the
// body, and a log line for every MESSAGE that got its 200 (the messages the far end promised
// to keep). A MESSAGE refused (480, past the budget of all senders) or that nobody answers ends
// its call, after 4 s for the latter, without failing sipp.
const messageBurstScenario = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="message burst">
  <send retrans="500">
    <![CDATA[

      MESSAGE sip:alice@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:burst[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:alice@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 MESSAGE
      Content-Type: text/plain;charset=utf-8
      Content-Length: [len]

      burst message [call_number]

    ]]>
  </send>
  <recv response="480" optional="true" next="gone" timeout="4000" ontimeout="gone"/>
  <recv response="200" timeout="4000" ontimeout="gone">
    <action>
      <log message="GOT200 burst message [call_number]"/>
    </action>
  </recv>
  <label id="gone"/>
</scenario>
`

// messageBurst is a running sipp UAC sending MESSAGEs to one address.
type messageBurst struct {
	cmd  *exec.Cmd
	log  string
	out  string
	done chan struct{} // closed once sipp has been reaped
}

// startMessageBurst runs sipp sending n MESSAGEs to target (host:port, UDP) at rate per
// second. It is killed at cleanup if still running.
func startMessageBurst(t *testing.T, target string, n, rate int) *messageBurst {
	t.Helper()
	bin := sippPath(t)
	dir := t.TempDir()
	sf := filepath.Join(dir, "burst.xml")
	if err := os.WriteFile(sf, []byte(messageBurstScenario), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &messageBurst{log: filepath.Join(dir, "got200.log"), out: filepath.Join(dir, "sipp.out"), done: make(chan struct{})}
	out, err := os.Create(b.out)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	b.cmd = exec.Command(bin, "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-m", strconv.Itoa(n), "-r", strconv.Itoa(rate), "-rp", "1000", "-l", strconv.Itoa(n),
		"-trace_logs", "-log_file", b.log, "-timeout", "60s", target)
	b.cmd.Stdout, b.cmd.Stderr = out, out
	b.cmd.Stdin = nil
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("sipp: %v", err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }() // a non-zero exit is expected: unanswered MESSAGEs
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = b.cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// wait waits for sipp to end (every MESSAGE answered or timed out) and returns the bodies
// of the MESSAGEs that got a 200.
func (b *messageBurst) wait(t *testing.T, timeout time.Duration) []string {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(timeout):
		t.Fatalf("sipp still running after %v", timeout)
	}
	f, err := os.Open(b.log)
	if err != nil {
		out, _ := os.ReadFile(b.out)
		t.Fatalf("sipp wrote no log: %v\n%s", err, out)
	}
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if _, body, ok := strings.Cut(sc.Text(), "GOT200 "); ok {
			got = append(got, strings.TrimSpace(body))
		}
	}
	return got
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// readOnlyDir runs programs in a private mount namespace where dir is a read-only bind mount
// of itself: writes fail with EROFS even for root (chmod does not stop root). The namespace,
// and so the mount, ends with the process.
type readOnlyDir struct{ dir string }

func (r readOnlyDir) Command(name string, args ...string) *exec.Cmd {
	// The directory is an argument, not an environment variable: callers replace Env.
	script := `d=$1; shift; mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" && exec "$@"`
	return exec.Command("unshare", append([]string{"-m", "--propagation", "private", "sh", "-c", script, "sh", r.dir, name}, args...)...)
}

// needReadOnlyMounts skips unless this process may make mount namespaces (root, unshare).
func needReadOnlyMounts(t *testing.T) {
	t.Helper()
	if why := readOnlyMountsUnavailable(t); why != "" {
		t.Skip(why)
	}
}

// readOnlyMountsUnavailable says why readOnlyDir cannot work here ("" when it can).
func readOnlyMountsUnavailable(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return "a read-only bind mount in a private mount namespace needs root"
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return "unshare (util-linux) is not installed"
	}
	probe := t.TempDir()
	out, err := readOnlyDir{probe}.Command("touch", filepath.Join(probe, "x")).CombinedOutput()
	if err == nil {
		return "a read-only bind mount did not stop a write here"
	}
	if !strings.Contains(string(out), "Read-only") {
		return fmt.Sprintf("cannot make a read-only bind mount here: %v: %s", err, out)
	}
	return ""
}
