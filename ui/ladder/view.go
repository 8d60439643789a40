package ladder

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/ui/common"
)

// Title names the pane and what it shows.
func (m *Model) Title() string {
	d := m.Selected()
	if d == nil {
		return "SIP ladder"
	}
	if m.focus == focusFull && m.msg < len(d.Msgs) {
		x := d.Msgs[m.msg]
		return fmt.Sprintf("SIP %s %s (%d/%d)", dir(x), x.Summary(), m.msg+1, len(d.Msgs))
	}
	return "SIP ladder: " + d.Method + " " + d.Peer
}

func dir(x Message) string {
	if x.Sent {
		return "sent"
	}
	return "received"
}

// View draws the dialog list over the selected dialog's ladder, or one message in full.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.focus == focusFull {
		if d := m.Selected(); d != nil && m.msg < len(d.Msgs) {
			return m.fullView(d.Msgs[m.msg])
		}
	}
	vis := m.visible()
	// The list takes up to a third of the height (at least the filter and two dialogs), the
	// ladder the rest.
	listH := clamp(len(vis)+1, min(3, m.height), max(3, m.height/3))
	lines := m.listView(vis, listH)
	if rest := m.height - len(lines); rest > 1 {
		lines = append(lines, m.c.Styles.Divider.Render(strings.Repeat("─", m.width)))
		lines = append(lines, m.ladderView(rest-1)...)
	}
	return strings.Join(lines, "\n")
}

func (m *Model) listView(vis []*Dialog, h int) []string {
	st := m.c.Styles
	var lines []string
	f := "filter: " + st.Input.Text.Render(m.filter)
	if m.focus == focusList {
		f += st.Input.Cursor.Render(" ")
	}
	if m.filter == "" && m.focus == focusList {
		f = "filter: " + st.Input.Placeholder.Render("type a Call-ID or peer")
	}
	count := fmt.Sprintf("%d of %d dialogs, %d messages", len(vis), len(m.dialogs), m.total)
	lines = append(lines, common.PadRight(f, max(0, m.width-len(count)-1))+" "+st.Empty.Render(count))
	if m.saved != "" {
		lines = append(lines, st.Empty.Render(truncRunes(m.saved, max(1, m.width-2))))
	}
	if len(vis) == 0 {
		msg := "no SIP messages yet"
		if m.filter != "" {
			msg = "no dialog matches"
		}
		return append(lines, st.Empty.Render(msg))
	}
	first, last := common.VisibleRows(len(vis), m.sel, h-len(lines))
	for i := first; i < last; i++ {
		d := vis[i]
		start := d.Msgs[0].Time.Format("15:04:05")
		row := fmt.Sprintf("%-9s %-*s %4d  %s  %s", d.Method, max(10, m.width/3), d.Peer, len(d.Msgs), start, d.CallID)
		row = common.PadRight(row, m.width-2)
		if i == m.sel {
			style := st.Row
			if m.focus == focusList {
				style = st.RowSelected
			}
			lines = append(lines, style.Render("▸ "+row))
		} else {
			lines = append(lines, st.Row.Render("  "+row))
		}
	}
	return lines
}

// timeW is the width of the time column ("+123.456s ").
const timeW = 10

// ladderView draws the selected dialog: a header with both addresses, then one arrow a
// message, from the sender's side, with the time since the dialog's first message.
func (m *Model) ladderView(h int) []string {
	st := m.c.Styles
	d := m.Selected()
	if d == nil || len(d.Msgs) == 0 || h <= 0 {
		return nil
	}
	local, remote := d.Msgs[0].Local, d.Msgs[0].Remote
	span := max(4, m.width-timeW-2) // between the two lifelines
	half := max(1, (span+2)/2-1)
	head := strings.Repeat(" ", timeW) + common.PadRight("local "+local, half)
	r := "remote " + remote
	head = common.PadRight(head, max(0, m.width-lipgloss.Width(r))) + r
	lines := []string{st.MsgPeer.Render(common.Truncate(head, m.width))}
	first, last := common.VisibleRows(len(d.Msgs), m.msg, h-1)
	t0 := d.Msgs[0].Time
	for i := first; i < last; i++ {
		x := d.Msgs[i]
		label := x.Summary()
		if x.SDP {
			label += " (SDP)"
		}
		if x.Transport != "UDP" && x.Transport != "" {
			label += " " + x.Transport
		}
		if x.Remote != remote || x.Local != local {
			// Another hop than the header's (a proxy, then the peer's contact): say which.
			label += " " + x.Local + "⇄" + x.Remote
		}
		delta := fmt.Sprintf("%+9.3fs", x.Time.Sub(t0).Seconds())
		a := arrow(label, span, x.Sent)
		style := st.MsgIn
		if x.Sent {
			style = st.MsgOut
		}
		if x.Status >= 400 {
			style = st.OutcomeBad
		}
		line := common.PadRight(delta, timeW) + "│" + style.Render(a) + "│"
		if i == m.msg && m.focus == focusLadder {
			// The marker too, not only the colour: NO_COLOR terminals see the selection.
			line = st.RowSelected.Render("▸" + common.PadRight(delta, timeW)[1:] + "│" + a + "│")
		}
		lines = append(lines, line)
	}
	return lines
}

// arrow draws label on an arrow of width cells pointing right (sent) or left (received).
func arrow(label string, width int, right bool) string {
	label = common.Truncate(label, max(1, width-4))
	fill := max(0, width-lipgloss.Width(label)-3)
	if right {
		return "─" + label + "─" + strings.Repeat("─", fill) + "→"
	}
	return "←" + strings.Repeat("─", fill) + "─" + label + "─"
}

// fullView is one message, headers then body, the SDP body highlighted.
func (m *Model) fullView(x Message) string {
	st := m.c.Styles
	text := x.Shown() // lines without control characters (parse.go)
	head, body, hasBody := strings.Cut(text, "\n\n")
	info := fmt.Sprintf("%s %s %s → %s  %s", x.Time.Format("15:04:05.000"), x.Transport, from(x), to(x), x.CallID)
	lines := []string{st.MsgTime.Render(info)}
	for i, l := range strings.Split(head, "\n") {
		if i == 0 {
			lines = append(lines, st.MsgPeer.Render(l))
			continue
		}
		name, v, ok := strings.Cut(l, ":")
		if ok {
			lines = append(lines, st.Stat.Render(name+":")+v)
		} else {
			lines = append(lines, l)
		}
	}
	if hasBody && strings.TrimSpace(body) != "" {
		lines = append(lines, "")
		for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
			if x.SDP {
				// SDP: the type letter apart from its value, media lines stand out.
				switch {
				case strings.HasPrefix(l, "m="):
					l = st.StateActive.Render(l)
				case len(l) > 1 && l[1] == '=':
					l = st.Flag.Render(l[:2]) + st.MsgOut.Render(l[2:])
				}
			}
			lines = append(lines, l)
		}
	}
	visible := max(1, m.height)
	m.scroll = clamp(m.scroll, 0, max(0, len(lines)-visible))
	lines = lines[m.scroll:min(len(lines), m.scroll+visible)]
	for i, l := range lines {
		lines[i] = common.Truncate(l, m.width)
	}
	return strings.Join(lines, "\n")
}

func from(x Message) string {
	if x.Sent {
		return x.Local
	}
	return x.Remote
}

func to(x Message) string {
	if x.Sent {
		return x.Remote
	}
	return x.Local
}
