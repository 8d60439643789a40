package calls

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// View draws one row per call, scrolled so the selection stays visible.
func (m *Model) View() string {
	st := m.c.Styles
	if len(m.calls) == 0 {
		return st.Empty.Render(common.Truncate(" No calls. Press d to dial, or wait for one to ring.", m.width))
	}
	var rows []string
	// The selected call in progress gets a line of detail (MOS, loss and jitter sparklines)
	// under its row when the pane has a line to spare beyond every call's row: taken from a
	// pane with a row per call, it hid the held or waiting call (80×24, two calls).
	height, detail := m.height, ""
	if m.selected >= 0 && m.selected < len(m.calls) && (height == 0 || height > len(m.calls)) {
		if detail = m.detail(m.calls[m.selected]); detail != "" && height > 0 {
			height--
		}
	}
	first, last := common.VisibleRows(len(m.calls), m.selected, height)
	for i := first; i < last; i++ {
		rows = append(rows, m.row(m.calls[i], i == m.selected))
		if i == m.selected && detail != "" {
			rows = append(rows, detail)
		}
	}
	return strings.Join(rows, "\n")
}

// row is "▸ → peer   state  mm:ss  codec  MOS 4.3  loss 0.0% jitter 3ms  muted".
func (m *Model) row(c *Call, selected bool) string {
	st := m.c.Styles
	s := c.Status
	dir := "→"
	if s.Direction == phone.Incoming {
		dir = "←"
	}
	marker := "  "
	if selected {
		marker = "▸ "
	}

	stateStyle := st.StateRing
	label := stateLabel(s.State)
	switch {
	case c.Holding():
		label = "holding"
	case c.RemoteHolding():
		label = "held"
	case s.State == phone.CallAnswered:
		stateStyle = st.StateActive
	case s.State == phone.CallEnded:
		stateStyle = st.StateEnded
	}
	// The fields after the peer, in display order, each with a priority: when the pane is
	// too narrow the least important go first, so state and timer always show.
	type field struct {
		text string
		prio int // higher stays longer
	}
	fields := []field{{stateStyle.Render(fmt.Sprintf("%-11s", label)), 9}}
	if c.InCall() && !s.Answered.IsZero() {
		fields = append(fields, field{common.Clock(m.c.Now().Sub(s.Answered)), 8})
	}
	if s.Codec != "" {
		fields = append(fields, field{st.Stat.Render(common.Clean(codecLabel(s))), 3})
	}
	if s.SRTP != "" {
		// The lock stays longer than the codec: whether anyone else can listen matters more.
		fields = append(fields, field{st.Flag.Render("🔒"), 6})
	}
	if c.Stats != nil && c.Stats.MOS > 0 {
		fields = append(fields, field{mosLabel(st.Stat, st.StatBad, c.Stats.MOS), 5})
	}
	if c.Stats != nil {
		fields = append(fields, field{stats(st.Stat, st.StatBad, *c.Stats), 4})
	}
	if s.Muted {
		fields = append(fields, field{st.Flag.Render("muted"), 7})
	}
	if c.NoAudio {
		fields = append(fields, field{st.StatBad.Render("no audio"), 8})
	}
	if c.Sent != "" {
		fields = append(fields, field{st.Flag.Render("sent " + c.Sent), 1})
	}
	if c.Received != "" {
		fields = append(fields, field{st.Flag.Render("got " + common.Clean(c.Received)), 2})
	}

	peer := common.Peer(s.Peer, s.PeerName)
	if s.Account != "" && m.width >= 100 {
		peer += st.Stat.Render(" on " + common.Clean(s.Account))
	}
	left := marker + dir + " "
	const minPeer = 16
	join := func() string {
		parts := make([]string, len(fields))
		for i, f := range fields {
			parts[i] = f.text
		}
		return strings.Join(parts, "  ")
	}
	right := join()
	for len(fields) > 1 && lipgloss.Width(left)+minPeer+2+lipgloss.Width(right)+1 > m.width {
		low := 0
		for i, f := range fields {
			if f.prio < fields[low].prio {
				low = i
			}
		}
		fields = append(fields[:low], fields[low+1:]...)
		right = join()
	}
	peerW := max(minPeer, m.width-lipgloss.Width(left)-2-lipgloss.Width(right)-1)
	line := common.PadRight(left+common.PadRight(peer, peerW)+"  "+right, m.width)
	if selected && m.focused {
		return st.RowSelected.Render(line)
	}
	return st.Row.Render(line)
}

func stateLabel(s phone.CallState) string {
	switch s {
	case phone.CallEarlyMedia:
		return "early media"
	case phone.CallEnded:
		return "ended"
	}
	return s.String()
}

// stats shows packet loss as a share of the packets that should have arrived, and jitter;
// values a listener would notice (3 % loss, 30 ms jitter) get the warning style.
func stats(ok, bad lipgloss.Style, s phone.StreamStats) string {
	loss := 0.0
	if total := s.PacketsReceived + s.Lost; total > 0 {
		loss = 100 * float64(s.Lost) / float64(total)
	}
	ls, js := ok, ok
	if loss >= 3 {
		ls = bad
	}
	if s.Jitter >= 30*time.Millisecond {
		js = bad
	}
	return ls.Render(fmt.Sprintf("loss %.1f%%", loss)) + " " + js.Render(fmt.Sprintf("jitter %dms", s.Jitter.Milliseconds()))
}

// codecLabel is the codec with its audio rate, e.g. "G722/16k", "opus/48k", "PCMU/8k".
func codecLabel(s phone.CallStatus) string {
	if s.CodecRate <= 0 {
		return s.Codec
	}
	return fmt.Sprintf("%s/%dk", s.Codec, s.CodecRate/1000)
}
