package pcap

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tshark runs tshark on file with args and returns its output lines; the test is skipped when
// tshark is not installed.
func tshark(t *testing.T, file string, args ...string) []string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (Debian package tshark): it is the independent decoder")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-r", file}, args...)...)
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir()) // no user preferences
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, out)
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// TestTsharkDecodes: tshark validates every checksum (IP, UDP, TCP) and dissects the SIP over
// UDP and TCP (IPv4 and IPv6) and the RTP written here.
func TestTsharkDecodes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "t.pcapng")
	w, err := Create(file, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSIP("UDP", true, alice, bob, []byte(invite))
	w.WriteSIP("UDP", false, bob, alice, []byte(ringing))
	w.WriteSIP("TCP", true, alice6, bob6, []byte(invite+ringing))
	rtp := []byte{0x80, 0x08, 0x00, 0x01, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef}
	rtp = append(rtp, make([]byte, 160)...)
	for i := range 3 {
		rtp[3] = byte(i + 1)
		w.WriteMedia(netip4(10000), netip4b(20000), rtp, i == 1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checks := []string{"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"}
	bad := tshark(t, file, append(checks, "-Y", "ip.checksum.status == 0 || udp.checksum.status == 0 || tcp.checksum.status == 0 || _ws.expert.severity >= warning", "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message")...)
	if len(bad) != 1 || bad[0] != "" {
		t.Errorf("tshark flags packets:\n%s", strings.Join(bad, "\n"))
	}
	good := tshark(t, file, append(checks, "-Y", "udp.checksum.status == 1 || tcp.checksum.status == 1", "-T", "fields", "-e", "frame.number")...)
	if len(good) != 6 {
		t.Errorf("%d packets with verified checksums, want 6: %v", len(good), good)
	}
	sip := tshark(t, file, "-Y", "sip", "-T", "fields", "-e", "ipv6.src", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID")
	// The TCP segment carries two messages: one frame, both dissected.
	want := []string{"\tINVITE\t\tabc@192.0.2.10", "\t\t180\tabc@192.0.2.10", "2001:db8::10\tINVITE\t180\tabc@192.0.2.10,abc@192.0.2.10"}
	if strings.Join(sip, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark -Y sip:\n%s\nwant:\n%s", strings.Join(sip, "\n"), strings.Join(want, "\n"))
	}
	rtpOut := tshark(t, file, "-d", "udp.port==10000,rtp", "-Y", "rtp", "-T", "fields", "-e", "rtp.ssrc", "-e", "rtp.p_type", "-e", "rtp.seq", "-e", "frame.comment")
	wantRTP := []string{"0xdeadbeef\t8\t1\t", "0xdeadbeef\t8\t2\t" + DecryptedComment, "0xdeadbeef\t8\t3\t"}
	if strings.Join(rtpOut, "\n") != strings.Join(wantRTP, "\n") {
		t.Errorf("tshark -Y rtp:\n%s\nwant:\n%s", strings.Join(rtpOut, "\n"), strings.Join(wantRTP, "\n"))
	}
}

func netip4(port uint16) netip.AddrPort  { return netip.AddrPortFrom(alice.Addr(), port) }
func netip4b(port uint16) netip.AddrPort { return netip.AddrPortFrom(bob.Addr(), port) }

// TestReadsWiresharkFiles: the reader takes what Wireshark's own tools write: editcap turns
// a capture of ours into classic pcap (micro- and nanosecond) and into pcapng rewritten by
// Wireshark's library; the same SIP messages come back, with the same times (to the unit).
func TestReadsWiresharkFiles(t *testing.T) {
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Skip("editcap is not installed (Debian package tshark brings it)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "ours.pcapng")
	w, err := Create(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSIP("UDP", true, alice, bob, []byte(invite))
	w.WriteSIP("TCP", false, bob6, alice6, []byte(ringing))
	w.WriteMedia(alice, bob, []byte{0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4}, false)
	w.WriteSIP("UDP", false, bob, alice, []byte(ringing))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(path string) (out []string) {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := ReadSIP(f, func(m SIPMessage) error {
			out = append(out, m.Time.Truncate(time.Microsecond).Format(time.RFC3339Nano)+" "+m.Transport+" "+m.Src.String()+" "+m.Summary())
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return out
	}
	want := read(src)
	if len(want) != 3 {
		t.Fatalf("ours: %v", want)
	}
	for _, format := range []string{"pcap", "nsecpcap", "pcapng"} {
		dst := filepath.Join(dir, format)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, editcap, "-F", format, src, dst).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("editcap -F %s: %v\n%s", format, err, out)
		}
		if got := read(dst); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", format, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
