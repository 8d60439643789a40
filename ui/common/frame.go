package common

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// Frame draws content inside a border of exactly width x height cells, with the title set
// into the top edge ("╭─ Calls ───╮"). Content is clipped or padded to fit, so a pane can
// never push the layout around.
func Frame(c *Common, title, content string, width, height int, focused bool) string {
	if width < 4 || height < 2 {
		return ""
	}
	box, titleStyle := c.Styles.Pane, c.Styles.PaneTitle
	if focused {
		box, titleStyle = c.Styles.PaneFocused, c.Styles.PaneTitleFocused
	}
	innerW, innerH := width-2, height-2
	lines := strings.Split(content, "\n")
	if len(lines) > innerH {
		lines = lines[:innerH]
	}
	for len(lines) < innerH {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = PadRight(l, innerW)
	}
	body := box.BorderTop(false).Render(strings.Join(lines, "\n"))

	// The top edge is drawn by hand because lipgloss borders carry no title.
	b := box.GetBorderStyle()
	edge := lipgloss.NewStyle().Foreground(box.GetBorderTopForeground())
	label := ""
	if title != "" {
		label = Truncate(" "+title+" ", innerW-1)
	}
	fill := innerW - 1 - lipgloss.Width(label)
	if fill < 0 {
		fill = 0
	}
	top := edge.Render(b.TopLeft+b.Top) + titleStyle.Render(label) +
		edge.Render(strings.Repeat(b.Top, fill)+b.TopRight)
	return top + "\n" + body
}
