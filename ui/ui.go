// Package ui is dialtone's full-screen softphone: a Bubble Tea v2 program over the phone
// core's command and event API.
//
// The UI knows the core only through the small Phone interface below and the core's event
// and enum types; it never touches SIP, RTP or sound devices. Each widget lives in its own
// package under ui/ and implements common.Component; this package composes them, routes
// messages and keys, and turns user intents into Phone commands.
package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/calls"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/confirm"
	"github.com/dialtone/dialtone/ui/dialer"
	"github.com/dialtone/dialtone/ui/firstrun"
	"github.com/dialtone/dialtone/ui/helpview"
	"github.com/dialtone/dialtone/ui/history"
	"github.com/dialtone/dialtone/ui/ladder"
	"github.com/dialtone/dialtone/ui/logpane"
	"github.com/dialtone/dialtone/ui/messages"
	"github.com/dialtone/dialtone/ui/prompt"
	"github.com/dialtone/dialtone/ui/statusbar"
	"github.com/dialtone/dialtone/ui/styles"
	"github.com/dialtone/dialtone/ui/transfer"
)

// Phone is what the UI needs of the phone core. *phone.Phone satisfies it through a small
// adapter the caller writes: the adapter supplies the audio devices and dial options the
// core's Dial and Answer take, handles the "echo" target, and gives SendMessage a timeout.
//
// Every method runs in a tea.Cmd, off the UI's event loop, so a slow one never freezes the
// screen.
type Phone interface {
	// Subscribe delivers a Snapshot first, then AccountStatus, CallStatus, MediaStats,
	// DTMFReceived, PlaybackEnded and Message events (received messages, and the outcome of
	// every sent one). The channel closes when ctx ends or the phone
	// stops; the UI then quits.
	Subscribe(ctx context.Context) <-chan phone.Event
	// Dial places a call and returns its id. target is the text the user typed (a SIP URI,
	// user@host, a bare number for the core to complete with the account's domain) or
	// "echo" with account "" for the built-in echo test.
	Dial(account, target string) (string, error)
	Answer(id string) error
	Reject(id string, code int) error
	Hangup(id string) error
	// Mute may return an error such as "not supported yet"; the UI shows it.
	Mute(id string, muted bool) error
	SendDTMF(id string, digits string) error
	// Hold puts a call on hold (re-INVITE sendonly) and Resume takes it off again. Answering
	// a second call holds the first in the core itself.
	Hold(id string) error
	Resume(id string) error
	// Transfer hands a call over to target (blind transfer, REFER); TransferTo joins it
	// with another of our calls (attended transfer, REFER with Replaces). Both return once
	// the far end accepted the REFER; the outcome arrives as TransferProgress events.
	Transfer(id, target string) error
	TransferTo(id, otherID string) error
	// SetDND turns do-not-disturb on or off: while on, new incoming calls are turned away
	// (486 Busy Here, or the configured code). DND reports the current setting.
	SetDND(on bool) error
	DND() bool
	// SendMessage sends an instant message to target (what the user typed, or the peer of a
	// conversation) through account, and returns once the far end has answered: nil when it
	// accepted the message, else the reason (a *phone.Error carries the response code). The
	// core's SendMessage with a context timeout does this.
	SendMessage(account, target, text string) error
	// Accounts are the configured account names, in configuration order.
	Accounts() []string
}

// Options configure the UI.
type Options struct {
	Phone Phone
	// Logs carries log lines and SIP trace lines for the log pane (the caller routes slog
	// and the SIP tracer here). May be nil.
	Logs <-chan LogLine
	// FirstRun is non-nil when there is no configuration file: the UI then opens with the
	// add-account form.
	FirstRun *FirstRunOptions
	// NoColor drops every colour (NO_COLOR is set); attributes such as bold and reverse stay.
	NoColor bool
	Version string
	// History is the persistent call and message history, read at start-up and again when a
	// message arrives or a call ends. nil keeps only what happens during this session.
	History History
	// Contacts is the address book, by name: the dialer completes names to addresses.
	Contacts []Contact
	// ContactsNow, if set, reads the address book again; the UI calls it (from a tea.Cmd)
	// each time the dialer opens, so contacts added while the TUI runs complete too.
	ContactsNow func() []Contact
}

// Contact is an address-book entry: a name and the address to dial.
type Contact = dialer.Contact

// History is the call and message history kept across sessions (the caller adapts its store).
// The UI calls it from tea.Cmds, never from its event loop; the methods may take a moment.
// Peers are SIP addresses; the UI matches them the way the store normalises them (the URI out
// of a name-addr, no parameters, scheme and host in lower case).
type History interface {
	// Conversations are the message conversations, one per peer, newest first, each with its
	// last message and how many received messages are unread.
	Conversations() ([]Conversation, error)
	// Thread is the last limit messages with peer, oldest first.
	Thread(peer string, limit int) ([]phone.Message, error)
	// MarkRead marks every message received from peer as read.
	MarkRead(peer string) error
	// Calls are the last limit calls, newest first, including those of earlier sessions.
	Calls(limit int) ([]CallRecord, error)
}

// Conversation is one peer's conversation in History.
type Conversation struct {
	Peer   string
	Last   phone.Message
	Unread int
}

// CallRecord is one past call in History. Direction is "incoming" or "outgoing"; Code, Reason
// and By are how it ended (By is "local" or "remote").
type CallRecord struct {
	Peer, PeerName, Direction, Account string
	Start                              time.Time
	Answered                           bool
	Duration                           time.Duration
	Code                               int
	Reason                             string
	By                                 string
}

// LogLine is one line for the log pane. SIP trace messages may span several lines.
type LogLine struct {
	Time  time.Time
	Level string // slog level name: DEBUG, INFO, WARN, ERROR
	Text  string
	SIP   bool // a SIP trace message rather than a log line
}

// FirstRunOptions configure the add-account form.
type FirstRunOptions struct {
	ConfigPath string // shown to the user
	// Save writes the account into a new configuration file (mode 0600). It runs off the UI's
	// event loop; an error is shown in the form.
	Save func(a NewAccount) error
}

// NewAccount is what the add-account form collects. Exactly one of PasswordEnv (a variable
// name), PasswordCmd (a password_cmd) or PasswordPlain (a password the caller stores in a
// 0600 file) is set. AuthUser, Registrar may be empty; Transport is udp, tcp or tls.
type NewAccount struct {
	Name, AOR, AuthUser, Registrar, Transport string
	PasswordEnv, PasswordCmd, PasswordPlain   string
}

// RejectCode is the response sent when the user rejects an incoming call: 486 Busy Here, the
// core's default, which every phone and PBX handles (some treat 603 as "never call again").
const RejectCode = 486

// pane identifies the panes Tab cycles through, in their order on screen.
type pane int

const (
	paneCalls pane = iota
	paneMessages
	paneHistory
	paneLog
	nPanes
)

// Model is the root model. It owns the components and the wiring between them; the
// components own their state.
type Model struct {
	opts   Options
	c      *common.Common
	phone  Phone
	ctx    context.Context
	cancel context.CancelFunc
	events <-chan phone.Event

	status   *statusbar.Model
	dialer   *dialer.Model
	calls    *calls.Model
	messages *messages.Model
	prompt   *prompt.Model
	history  *history.Model
	log      *logpane.Model
	ladder   *ladder.Model // the SIP ladder, over the panes while open (ladder_glue.go)
	help     *helpview.Model
	confirm  *confirm.Model
	transfer *transfer.Model
	form     *firstrun.Model // nil unless the add-account form is open

	focus    pane
	showHelp bool
	notice   string
	noticeOK bool
	width    int
	height   int
	quitting bool

	// noticeCall is the call the notice is about, "" when it is about none: the notice goes
	// when that call ends (callNotice).
	noticeCall string

	dnd       bool            // do not disturb, as last set or read
	xferNews  map[string]bool // calls whose transfer already reported progress
	announced map[string]bool // incoming calls we already rang the bell for
	ticking   bool            // a timer tick is scheduled

	// DTMF digits go out one command at a time, so they cannot overtake each other.
	dtmfBusy    bool
	dtmfCall    string
	dtmfPending string

	// History reads in flight: only the answer to the latest request of each kind is used,
	// so an older answer that arrives late cannot undo a newer one.
	convGen, threadGen, callsGen int

	// after schedules a timer message; tea.Tick outside tests.
	after func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
}

var _ tea.Model = (*Model)(nil)

// New returns the UI. Run it with tea.NewProgram(ui.New(opts)).Run().
func New(o Options) *Model {
	common.SetFit(true) // until the terminal reports mode 2027 (update.go)
	c := common.NewCommon(styles.New(true, o.NoColor))
	var accounts []string
	if o.Phone != nil {
		accounts = o.Phone.Accounts()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Model{
		opts: o, c: c, phone: o.Phone, ctx: ctx, cancel: cancel,
		status:    statusbar.New(c, o.Version, accounts),
		dialer:    dialer.New(c, accounts),
		calls:     calls.New(c),
		messages:  messages.New(c),
		prompt:    prompt.New(c),
		history:   history.New(c),
		log:       logpane.New(c),
		ladder:    ladder.New(c),
		help:      helpview.New(c),
		confirm:   confirm.New(c),
		transfer:  transfer.New(c),
		announced: map[string]bool{},
		after:     tea.Tick,
		width:     80,
		height:    24,
	}
	m.dialer.SetContacts(o.Contacts)
	if fr := o.FirstRun; fr != nil {
		save := fr.Save
		m.form = firstrun.New(c, fr.ConfigPath, func(a firstrun.Account) error {
			if save == nil {
				return errNoSave
			}
			return save(NewAccount(a))
		})
	}
	m.setFocus(paneCalls)
	m.relayout()
	return m
}

// Init subscribes to the phone and the log, and asks the terminal for its background colour
// (the answer arrives as tea.BackgroundColorMsg and picks light or dark styles).
func (m *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	if m.phone != nil {
		m.events = m.phone.Subscribe(m.ctx)
		cmds = append(cmds, waitEvent(m.events))
	}
	if m.opts.Logs != nil {
		cmds = append(cmds, waitLogs(m.opts.Logs))
	}
	cmds = append(cmds, m.loadHistory(), m.readDND())
	if !m.opts.NoColor {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}
