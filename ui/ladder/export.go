package ladder

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone/pcap"
)

// exportName is the capture file ctrl+s writes, in the working directory, named by the time.
const exportName = "dialtone-sip-20060102-150405.pcapng"

// export writes the dialogs the filter shows to a new capture file in dir (pcapng, the SIP
// messages with their addresses, transports and times, keys masked as the pane shows them),
// and returns what the pane says about it. A message whose addresses are not IP:port (it
// cannot be put in an IP header) is left out and counted.
func (m *Model) export(dir string) string { return m.exportCmd(dir)().(SavedMsg).Text }

// SavedMsg is what a ctrl+s export ended with, for the pane to show (Update takes it).
type SavedMsg struct{ Text string }

// exportCmd takes what the filter shows now and returns the command that writes it: the disk
// (a slow one, a network mount) is written off the UI's goroutine, which froze meanwhile.
func (m *Model) exportCmd(dir string) tea.Cmd {
	vis := m.visible()
	var msgs []Message
	for _, d := range vis {
		msgs = append(msgs, d.Msgs...)
	}
	if len(msgs) == 0 {
		return func() tea.Msg { return SavedMsg{"nothing to save"} }
	}
	slices.SortStableFunc(msgs, func(a, b Message) int { return a.Time.Compare(b.Time) })
	at, dialogs := m.c.Now(), len(vis)
	return func() tea.Msg { return SavedMsg{writeCapture(dir, at, msgs, dialogs)} }
}

// writeCapture writes msgs to a new capture file in dir named by at: a second save within the
// same second (another filter) gets "-2", "-3"… rather than replacing the first.
func writeCapture(dir string, at time.Time, msgs []Message, dialogs int) string {
	base := filepath.Join(dir, at.Format(exportName))
	path := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(path); os.IsNotExist(err) || i > 1000 {
			break
		}
		path = strings.TrimSuffix(base, ".pcapng") + "-" + strconv.Itoa(i) + ".pcapng"
	}
	w, err := pcap.Create(path, pcap.Options{})
	if err != nil {
		return fmt.Sprintf("cannot save: %v", err)
	}
	written, skipped := 0, 0
	for _, msg := range msgs {
		local, errL := netip.ParseAddrPort(msg.Local)
		remote, errR := netip.ParseAddrPort(msg.Remote)
		if errL != nil || errR != nil {
			skipped++
			continue
		}
		src, dst := local, remote
		if !msg.Sent {
			src, dst = remote, local
		}
		if err := w.WriteSIPAt(msg.Time, strings.ToUpper(msg.Transport), msg.Sent, src, dst, wireForm(msg.Text)); err != nil {
			w.Close()
			return fmt.Sprintf("cannot save %s: %v", path, err)
		}
		written++
	}
	if err := w.Close(); err != nil {
		return fmt.Sprintf("cannot save %s: %v", path, err)
	}
	s := fmt.Sprintf("saved %d messages of %d dialogs to %s", written, dialogs, path)
	if skipped > 0 {
		s += fmt.Sprintf(" (%d without IP addresses left out)", skipped)
	}
	return s
}

// wireForm makes a message of the pane whole again for a capture: the log line lost its
// trailing line breaks (a message without a body its blank line), and a masked key is shorter
// than the key, so Content-Length is set to the body as it is now; otherwise Wireshark reads
// the message as cut short.
func wireForm(text string) []byte {
	if !strings.Contains(text, "\r\n\r\n") {
		text = strings.TrimRight(text, "\r\n") + "\r\n\r\n"
	}
	return pcap.SetContentLength([]byte(text))
}
