package ladder

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dialtone/dialtone/phone/pcap"
)

// exportName is the capture file ctrl+s writes, in the working directory, named by the time.
const exportName = "dialtone-sip-20060102-150405.pcapng"

// export writes the dialogs the filter shows to a new capture file in dir (pcapng, the SIP
// messages with their addresses, transports and times, keys masked as the pane shows them),
// and returns what the pane says about it. A message whose addresses are not IP:port (it
// cannot be put in an IP header) is left out and counted.
func (m *Model) export(dir string) string {
	vis := m.visible()
	var msgs []Message
	for _, d := range vis {
		msgs = append(msgs, d.Msgs...)
	}
	if len(msgs) == 0 {
		return "nothing to save"
	}
	slices.SortStableFunc(msgs, func(a, b Message) int { return a.Time.Compare(b.Time) })
	path := filepath.Join(dir, m.c.Now().Format(exportName))
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
	s := fmt.Sprintf("saved %d messages of %d dialogs to %s", written, len(vis), path)
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
