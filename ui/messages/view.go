package messages

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// View draws the list and the conversation side by side when there is room, else the list
// until a conversation is opened.
func (m *Model) View() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return ""
	}
	st := m.c.Styles
	if len(m.convs) == 0 && m.mode == browsing {
		hint := " No messages yet. Press t, then n to write one."
		if m.focused {
			hint = " No messages yet. Press n to write one."
		}
		return st.Empty.Render(common.Truncate(hint, w))
	}
	if w < splitWidth {
		if m.mode == browsing {
			return strings.Join(m.list(w, h), "\n")
		}
		return strings.Join(m.conversation(w, h), "\n")
	}
	listW := max(18, min(32, w/3))
	left, right := m.list(listW, h), m.conversation(w-listW-1, h)
	bar := st.Divider.Render("│")
	rows := make([]string, h)
	for i := range rows {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		rows[i] = common.PadRight(l, listW) + bar + r
	}
	return strings.Join(rows, "\n")
}

// list is one row per conversation: the peer, the last message when there is room, and the
// unread count; scrolled to keep the highlight in view.
func (m *Model) list(w, h int) []string {
	st := m.c.Styles
	if len(m.convs) == 0 {
		return []string{st.Empty.Render(common.Truncate(" No conversations yet.", w))}
	}
	cur := m.index()
	if m.draft != "" {
		cur = -1
	}
	first := 0
	if cur >= h {
		first = cur - h + 1
	}
	var rows []string
	for i := first; i < len(m.convs) && len(rows) < h; i++ {
		rows = append(rows, m.listRow(m.convs[i], i == cur, w))
	}
	return rows
}

func (m *Model) listRow(c *Conversation, current bool, w int) string {
	st := m.c.Styles
	marker := "  "
	if current {
		marker = "▸ "
	}
	badge := ""
	if c.Unread > 0 {
		badge = " " + st.Unread.Render(fmt.Sprintf("●%d", c.Unread))
	}
	name := common.Clean(strings.TrimSpace(c.PeerName))
	if name == "" {
		name = common.Peer(c.Peer, "")
	}
	avail := w - lipgloss.Width(marker) - lipgloss.Width(badge)
	body := common.Truncate(name, avail)
	if room := avail - lipgloss.Width(name) - 2; room >= 10 && c.Last.Text != "" {
		arrow := "←"
		if c.Last.Direction == phone.Outgoing {
			arrow = "→"
		}
		preview := arrow + " " + firstLine(c.Last.Text)
		body = name + "  " + st.MsgPreview.Render(common.Truncate(preview, room))
	}
	line := marker + common.PadRight(body, avail) + badge
	if current && m.focused && m.mode == browsing {
		return st.RowSelected.Render(common.PadRight(line, w))
	}
	return st.Row.Render(line)
}

// conversation is the header (who), the messages (the newest at the bottom) and the compose
// line, in w x h cells.
func (m *Model) conversation(w, h int) []string {
	st := m.c.Styles
	peer := m.CurrentPeer()
	var header string
	switch {
	case m.mode == addressing:
		header = " " + st.MsgPeer.Render("New message")
	case peer != "":
		header = " " + st.MsgPeer.Render(common.Peer(peer, m.names[common.PeerKey(peer)]))
		if m.scroll > 0 {
			header += st.MsgTime.Render(" ↑")
		}
	}
	compose := m.composeLine(w, peer)

	var body []string
	if m.mode == addressing {
		body = []string{st.Empty.Render(common.Truncate(" Type the address, then enter; esc cancels.", w))}
	} else if peer != "" {
		body = m.threadLines(peer, w)
	}
	bodyH := h
	var top, bottom []string
	if h >= 3 {
		top, bodyH = []string{header}, h-2
		bottom = []string{compose}
	} else if m.mode != browsing {
		bottom, bodyH = []string{compose}, h-1
	}
	m.threadH = bodyH
	m.scroll = max(0, min(m.scroll, len(body)-bodyH))
	end := len(body) - m.scroll
	start := max(0, end-bodyH)
	shown := body[start:end]
	out := append([]string(nil), top...)
	for i := 0; i < bodyH-len(shown); i++ {
		out = append(out, "") // the newest messages sit just above the compose line
	}
	out = append(out, shown...)
	out = append(out, bottom...)
	for i := range out {
		out[i] = common.PadRight(out[i], w)
	}
	return out
}

func (m *Model) composeLine(w int, peer string) string {
	st := m.c.Styles
	switch m.mode {
	case addressing:
		m.to.SetWidth(w - 1)
		return " " + m.to.View()
	case writing:
		via := ""
		if m.account != "" {
			via = "  " + st.DialerAccount.Render("via "+common.Clean(m.account))
		}
		field := w - 1 - lipgloss.Width(via)
		if field < 12 {
			via, field = "", w-1
		}
		if m.compose.Cut > 0 { // a paste longer than a message: said, not cut in silence
			via = "  " + st.StatBad.Render(fmt.Sprintf("%d characters cut: a message holds %d bytes", m.compose.Cut, phone.MaxMessageBytes))
			if field = w - 1 - lipgloss.Width(via); field < 12 {
				via, field = "", w-1
			}
		}
		m.compose.SetWidth(field)
		return " " + common.PadRight(m.compose.View(), field) + via
	}
	if peer == "" || !m.focused {
		return ""
	}
	return st.Empty.Render(common.Truncate(" enter writes to "+common.Peer(peer, m.names[common.PeerKey(peer)]), w))
}

// threadLines lays the conversation out: a date line when the day changes, then per message
// "15:04 ← text", wrapped to the width, with the delivery state of sent ones on the right.
func (m *Model) threadLines(peer string, w int) []string {
	st := m.c.Styles
	msgs := m.Thread(peer)
	if len(msgs) == 0 {
		return []string{st.Empty.Render(common.Truncate(" No messages yet.", w))}
	}
	now := m.c.Now()
	var lines []string
	var lastDay time.Time
	for i, msg := range msgs {
		t := msg.Time
		if t.IsZero() {
			t = now
		}
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
		if (i == 0 && !sameDay(t, now)) || (i > 0 && !day.Equal(lastDay)) {
			lines = append(lines, st.MsgDay.Render(common.Truncate(" ── "+dayLabel(t, now)+" ──", w)))
		}
		lastDay = day

		arrow := st.MsgIn.Render("←")
		status := ""
		if msg.Direction == phone.Outgoing {
			arrow = st.MsgOut.Render("→")
			status = m.status(msg)
		}
		prefix := " " + st.MsgTime.Render(t.Format("15:04")) + " " + arrow + " "
		indent := strings.Repeat(" ", lipgloss.Width(prefix))
		full := w - lipgloss.Width(prefix)
		statusW := lipgloss.Width(status)
		// The state sits at the right of the first line, unless that leaves the text too
		// little room: then it goes on a line of its own under the text.
		beside := status != "" && full-statusW-2 >= 8
		textW := full
		if beside {
			textW = full - statusW - 2
		}
		for j, l := range wrap(msg.Text, max(1, textW)) {
			switch {
			case j > 0:
				lines = append(lines, common.Truncate(indent+l, w))
			case beside:
				lines = append(lines, common.PadRight(prefix+l, w-statusW)+status)
			default:
				lines = append(lines, common.Truncate(prefix+l, w))
			}
		}
		if status != "" && !beside {
			lines = append(lines, common.Truncate(indent+status, w))
		}
		if r := failure(msg); r != "" {
			lines = append(lines, common.Truncate(indent+st.MsgFailed.Render(r), w))
		}
	}
	return lines
}

// status is the delivery state of a sent message: sending, sent, or failed with the code.
func (m *Model) status(msg phone.Message) string {
	st := m.c.Styles
	switch msg.Status {
	case StatusSending, StatusPending:
		return st.MsgSending.Render("… " + msg.Status)
	case "sent":
		return st.MsgSent.Render("✓ sent")
	case "failed":
		if msg.Code != 0 {
			return st.MsgFailed.Render(fmt.Sprintf("✗ failed (%d)", msg.Code))
		}
		return st.MsgFailed.Render("✗ failed")
	}
	return st.MsgTime.Render(common.Clean(msg.Status))
}

// failure says why a sent message failed: the response, or the error for a local failure;
// "" for messages that did not fail.
func failure(msg phone.Message) string {
	if msg.Status != "failed" {
		return ""
	}
	switch {
	case msg.Reason != "" && msg.Code != 0:
		return common.Clean(fmt.Sprintf("%d %s", msg.Code, msg.Reason))
	case msg.Reason != "":
		return common.Clean(msg.Reason)
	case msg.Err != nil:
		return common.Clean(msg.Err.Error())
	}
	return ""
}

// wrap breaks text into lines of at most w cells: at its own line breaks, then between
// words, and inside a word longer than the line. Wide characters (emoji, CJK) count two.
func wrap(text string, w int) []string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var out []string
	for _, para := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		para = common.Clean(para)
		if para == "" {
			out = append(out, "")
			continue
		}
		for _, l := range strings.Split(ansi.Wrap(para, w, ""), "\n") {
			out = append(out, common.Truncate(strings.TrimRight(l, " "), w))
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + " …"
	}
	return common.Clean(s)
}

func sameDay(a, b time.Time) bool {
	b = b.In(a.Location())
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

func dayLabel(t, now time.Time) string {
	switch {
	case sameDay(t, now):
		return "Today"
	case sameDay(t, now.AddDate(0, 0, -1)):
		return "Yesterday"
	case t.Year() == now.Year():
		return t.Format("Mon 2 Jan")
	}
	return t.Format("Mon 2 Jan 2006")
}
