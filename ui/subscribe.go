package ui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
)

// eventMsg is an event read from the subscription; handling it re-arms the read. A
// phone.Event sent to the program directly (tea.Program.Send) is handled the same way but
// re-arms nothing.
type eventMsg struct{ ev phone.Event }

// subClosedMsg says the subscription ended: the phone stopped.
type subClosedMsg struct{}

// logMsg carries log lines read from Options.Logs.
type logMsg struct{ lines []LogLine }

// logsClosedMsg says the log channel closed.
type logsClosedMsg struct{}

// maxLogBatch bounds how many queued log lines one message carries: a SIP trace can produce
// lines faster than the screen needs redrawing, so they are taken in batches.
const maxLogBatch = 256

// waitEvent blocks (in Bubble Tea's command goroutine, not the event loop) until the next
// event. An idle phone thus costs one parked goroutine and no wake-ups.
func waitEvent(ch <-chan phone.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return subClosedMsg{}
		}
		return eventMsg{ev}
	}
}

// waitLogs blocks until a log line arrives, then takes whatever else is already queued.
func waitLogs(ch <-chan LogLine) tea.Cmd {
	return func() tea.Msg {
		l, ok := <-ch
		if !ok {
			return logsClosedMsg{}
		}
		lines := []LogLine{l}
		for len(lines) < maxLogBatch {
			select {
			case l, ok := <-ch:
				if !ok {
					return logMsg{lines}
				}
				lines = append(lines, l)
			default:
				return logMsg{lines}
			}
		}
		return logMsg{lines}
	}
}
