package ladder

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone/pcap"
	"github.com/dialtone/dialtone/phone/srtp"
)

// TestExportPcap: ctrl+s writes the dialogs the filter shows as a capture file: the call's
// seven messages in order with their addresses and times, the other dialog left out, SRTP keys
// masked with Content-Length matching what is there; and tshark (when installed) decodes every
// one as SIP.
func TestExportPcap(t *testing.T) {
	m := newModel(100, 24)
	m.Add(t0.Add(-time.Minute), sipLine(true, "MESSAGE sip:carol@example.net SIP/2.0", "1 MESSAGE", "msg-9", false))
	call(m, "call-1", t0)
	m.Open()
	press(m, "l", "-", "1") // the filter: only the call
	m.SaveDir = t.TempDir()
	m.c.Now = func() time.Time { return t0.Add(time.Hour) }
	save := m.Update(tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl})
	if m.saved != "saving…" || save == nil {
		t.Fatalf("ctrl+s: the pane says %q, command %v; want it saving, the writing in a command", m.saved, save != nil)
	}
	m.Update(save()) // the command's outcome, as Bubble Tea hands it back
	path := filepath.Join(m.SaveDir, t0.Add(time.Hour).Format(exportName))
	if !strings.Contains(m.saved, "saved 7 messages of 1 dialogs to "+path) {
		t.Fatalf("the pane says %q", m.saved)
	}
	if !strings.Contains(m.View(), "saved 7 messages") {
		t.Errorf("the pane does not show what was saved:\n%s", m.View())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(srtpKey)) || !bytes.Contains(raw, []byte("inline:"+srtp.KeyMask)) {
		t.Error("the capture holds an SRTP key, or no mask")
	}
	rd, err := pcap.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d, ok := pcap.Decode(p)
		if !ok {
			t.Fatalf("packet %d is not UDP", len(got))
		}
		msg, ok := pcap.ParseSIP(d.Payload)
		if !ok {
			t.Fatalf("packet %d is not SIP:\n%s", len(got), d.Payload)
		}
		if msg.CallID != "call-1" {
			t.Errorf("packet %d belongs to %s", len(got), msg.CallID)
		}
		head, body, _ := strings.Cut(string(d.Payload), "\r\n\r\n")
		if !strings.Contains(head, "Content-Length: "+strconv.Itoa(len(body))) {
			t.Errorf("packet %d: Content-Length does not match its %d-byte body:\n%s", len(got), len(body), head)
		}
		sent := d.Src.String() == local
		if !sent && d.Dst.String() != local || sent && d.Dst.String() != remote {
			t.Errorf("packet %d: %v -> %v", len(got), d.Src, d.Dst)
		}
		got = append(got, msg.Summary())
	}
	want := "INVITE|100 Trying|180 Ringing|200 OK|ACK|BYE|200 OK"
	if strings.Join(got, "|") != want {
		t.Errorf("messages %q, want %q", strings.Join(got, "|"), want)
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (make test installs it): the capture was read back, not checked by Wireshark")
	}
	cmd := exec.Command(tshark, "-r", path, "-Y", "sip", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // tshark warns there when run as root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s%s", err, out, stderr.Bytes())
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 7 {
		t.Errorf("tshark decoded %d SIP messages, want 7:\n%s", len(lines), out)
	}
}

// TestExportTwiceInOneSecond: a second save within the same second (another filter) is a new
// file beside the first, not written over it.
func TestExportTwiceInOneSecond(t *testing.T) {
	m := newModel(100, 24)
	call(m, "call-1", t0)
	m.Open()
	m.SaveDir = t.TempDir()
	m.c.Now = func() time.Time { return t0.Add(time.Hour) }
	for range 2 {
		m.Update(m.Update(tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl})())
	}
	files, _ := filepath.Glob(filepath.Join(m.SaveDir, "*.pcapng"))
	if len(files) != 2 || !strings.Contains(m.saved, "-2.pcapng") {
		t.Fatalf("files %v, the pane says %q: want two files, the second named -2", files, m.saved)
	}
}
