// Package styles holds every colour and text attribute of the softphone's screen, so widgets
// never pick colours themselves: a light or dark terminal background and NO_COLOR change
// this one place.
package styles

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles are the lipgloss styles the widgets render with.
type Styles struct {
	NoColor bool
	IsDark  bool

	// Status bar: the brand, then one chip per account.
	StatusBar     lipgloss.Style
	Brand         lipgloss.Style
	AccountOK     lipgloss.Style // registered
	AccountBusy   lipgloss.Style // registering
	AccountIdle   lipgloss.Style // unregistered
	AccountFailed lipgloss.Style // registration failed
	Reason        lipgloss.Style // why it failed

	// Panes: a border with the title in it. The focused pane gets a heavier border, so focus
	// stays visible without colour.
	Pane             lipgloss.Style
	PaneFocused      lipgloss.Style
	PaneTitle        lipgloss.Style
	PaneTitleFocused lipgloss.Style
	Empty            lipgloss.Style // "no calls" and similar placeholders

	// Dialer.
	DialerLabel   lipgloss.Style
	DialerAccount lipgloss.Style
	DialerHint    lipgloss.Style
	Input         InputStyles

	// Rows of the calls and history panes.
	Row         lipgloss.Style
	RowSelected lipgloss.Style
	StateActive lipgloss.Style // answered
	StateRing   lipgloss.Style // ringing, calling, early media, incoming
	StateEnded  lipgloss.Style
	Stat        lipgloss.Style
	StatBad     lipgloss.Style // loss or jitter worth a look
	Flag        lipgloss.Style // muted, DTMF echo
	OutcomeOK   lipgloss.Style
	OutcomeBad  lipgloss.Style

	// Messages pane and the unread count in the status bar.
	Unread     lipgloss.Style // unread counts
	MsgPeer    lipgloss.Style // the open conversation's header
	MsgTime    lipgloss.Style
	MsgIn      lipgloss.Style // the ← of received messages
	MsgOut     lipgloss.Style // the → of sent ones
	MsgPreview lipgloss.Style // the last message, in the conversation list
	MsgSending lipgloss.Style
	MsgSent    lipgloss.Style
	MsgFailed  lipgloss.Style
	MsgDay     lipgloss.Style // date separators in a conversation
	Divider    lipgloss.Style // between the conversation list and the conversation

	// Incoming-call prompt.
	Prompt      lipgloss.Style
	PromptTitle lipgloss.Style
	PromptKey   lipgloss.Style

	// Log pane.
	LogTime  lipgloss.Style
	LogDebug lipgloss.Style
	LogInfo  lipgloss.Style
	LogWarn  lipgloss.Style
	LogError lipgloss.Style
	LogSIP   lipgloss.Style

	// The one-line notice above the help bar (command results and errors).
	Notice      lipgloss.Style
	NoticeError lipgloss.Style

	// Overlays: help, quit confirmation, first-run form.
	Overlay      lipgloss.Style
	OverlayTitle lipgloss.Style
	FormLabel    lipgloss.Style
	FormFocused  lipgloss.Style
	FormError    lipgloss.Style
	FormHint     lipgloss.Style

	Help help.Styles
}

// InputStyles style a one-line text input (the dialer and the first-run form's fields).
type InputStyles struct {
	Text        lipgloss.Style // focused text
	Blurred     lipgloss.Style // text while another widget has the keyboard
	Placeholder lipgloss.Style
	Suggestion  lipgloss.Style // the completion that Tab would accept
	Cursor      lipgloss.Style
}

// palette is the handful of colours everything derives from.
type palette struct {
	accent, ok, warn, bad, muted, subtle, text color.Color
}

func newPalette(isDark, noColor bool) palette {
	if noColor {
		// lipgloss.NoColor renders no SGR colour at all: attributes (bold, reverse) remain,
		// which is what NO_COLOR asks for.
		n := lipgloss.NoColor{}
		return palette{n, n, n, n, n, n, n}
	}
	ld := lipgloss.LightDark(isDark)
	return palette{
		accent: ld(lipgloss.Color("#5A3FC0"), lipgloss.Color("#9D8CFF")),
		ok:     ld(lipgloss.Color("#1A7F37"), lipgloss.Color("#3FB950")),
		warn:   ld(lipgloss.Color("#9A6700"), lipgloss.Color("#D29922")),
		bad:    ld(lipgloss.Color("#CF222E"), lipgloss.Color("#F85149")),
		muted:  ld(lipgloss.Color("#6E7781"), lipgloss.Color("#8B949E")),
		subtle: ld(lipgloss.Color("#D0D7DE"), lipgloss.Color("#30363D")),
		text:   ld(lipgloss.Color("#1F2328"), lipgloss.Color("#E6EDF3")),
	}
}

// New returns the styles for a light (isDark false) or dark background; noColor drops every
// colour and keeps only attributes.
func New(isDark, noColor bool) *Styles {
	p := newPalette(isDark, noColor)
	st := lipgloss.NewStyle
	s := &Styles{NoColor: noColor, IsDark: isDark}

	s.StatusBar = st()
	s.Brand = st().Bold(true).Foreground(p.accent)
	s.AccountOK = st().Foreground(p.ok)
	s.AccountBusy = st().Foreground(p.warn)
	s.AccountIdle = st().Foreground(p.muted)
	s.AccountFailed = st().Foreground(p.bad).Bold(true)
	s.Reason = st().Foreground(p.bad)

	s.Pane = st().Border(lipgloss.RoundedBorder()).BorderForeground(p.subtle)
	s.PaneFocused = st().Border(lipgloss.ThickBorder()).BorderForeground(p.accent)
	s.PaneTitle = st().Foreground(p.muted)
	s.PaneTitleFocused = st().Bold(true).Foreground(p.accent)
	s.Empty = st().Foreground(p.muted)

	s.DialerLabel = st().Bold(true)
	s.DialerAccount = st().Foreground(p.muted)
	s.DialerHint = st().Foreground(p.muted)
	s.Input = InputStyles{
		Text:        st().Foreground(p.text),
		Blurred:     st().Foreground(p.muted),
		Placeholder: st().Foreground(p.muted),
		Suggestion:  st().Foreground(p.muted),
		// Reverse video shows the cursor with or without colour. It never blinks: a blinking
		// cursor would wake the program twice a second, and idle must cost nothing.
		Cursor: st().Reverse(true),
	}

	s.Row = st()
	// Reverse video marks the selection with or without colour.
	s.RowSelected = st().Reverse(true)
	s.StateActive = st().Foreground(p.ok).Bold(true)
	s.StateRing = st().Foreground(p.warn).Bold(true)
	s.StateEnded = st().Foreground(p.muted)
	s.Stat = st().Foreground(p.muted)
	s.StatBad = st().Foreground(p.bad)
	s.Flag = st().Foreground(p.warn)
	s.OutcomeOK = st().Foreground(p.ok)
	s.OutcomeBad = st().Foreground(p.bad)

	s.Unread = st().Foreground(p.warn).Bold(true)
	s.MsgPeer = st().Bold(true)
	s.MsgTime = st().Foreground(p.muted)
	s.MsgIn = st().Foreground(p.accent).Bold(true)
	s.MsgOut = st().Foreground(p.muted)
	s.MsgPreview = st().Foreground(p.muted)
	s.MsgSending = st().Foreground(p.warn)
	s.MsgSent = st().Foreground(p.ok)
	s.MsgFailed = st().Foreground(p.bad).Bold(true)
	s.MsgDay = st().Foreground(p.muted)
	s.Divider = st().Foreground(p.subtle)

	s.Prompt = st().Border(lipgloss.DoubleBorder()).BorderForeground(p.warn).Padding(0, 1)
	s.PromptTitle = st().Bold(true).Foreground(p.warn)
	s.PromptKey = st().Bold(true).Foreground(p.accent)

	s.LogTime = st().Foreground(p.muted)
	s.LogDebug = st().Foreground(p.muted)
	s.LogInfo = st()
	s.LogWarn = st().Foreground(p.warn)
	s.LogError = st().Foreground(p.bad)
	s.LogSIP = st().Foreground(p.accent)

	s.Notice = st().Foreground(p.muted)
	s.NoticeError = st().Foreground(p.bad).Bold(true)

	s.Overlay = st().Border(lipgloss.RoundedBorder()).BorderForeground(p.accent).Padding(0, 1)
	s.OverlayTitle = st().Bold(true).Foreground(p.accent)
	s.FormLabel = st().Foreground(p.muted)
	s.FormFocused = st().Bold(true).Foreground(p.accent)
	s.FormError = st().Foreground(p.bad)
	s.FormHint = st().Foreground(p.muted)

	s.Help = help.Styles{
		ShortKey:       st().Foreground(p.accent),
		ShortDesc:      st().Foreground(p.muted),
		ShortSeparator: st().Foreground(p.subtle),
		Ellipsis:       st().Foreground(p.subtle),
		FullKey:        st().Foreground(p.accent).Bold(true),
		FullDesc:       st(),
		FullSeparator:  st().Foreground(p.subtle),
	}
	return s
}
