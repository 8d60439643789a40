package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/config"
	"github.com/dialtone/dialtone/phone/srtp"
	"github.com/dialtone/dialtone/ui"
	"github.com/dialtone/dialtone/ui/common"
)

// tuiCmd is `dialtone` with no command: the full-screen softphone.
type tuiCmd struct{}

// Run opens the TUI over a running phone. Nothing writes to the terminal behind its back:
// logs and the SIP trace go to the log pane (and to --log-file / --sip-trace if given).
func (tuiCmd) Run(e *env) error {
	if !isTerminal(e.stdin) || !isTerminal(e.stdout) {
		return usageErr("the full-screen interface needs a terminal; for scripts use a command (dialtone --help lists them)")
	}
	logs := make(chan ui.LogLine, 512)
	e.routeLogsToPane(logs)
	f, err := e.loadConfig()
	if err != nil {
		return err
	}
	cfg, err := e.phoneConfig()
	if err != nil {
		return err
	}
	r, err := e.startPhone(cfg, true)
	if err != nil {
		return err
	}
	ph := r.Phone
	go func() { // the UI subscribes on its own; this subscription only has to be emptied
		for range r.Events { // ends when finish stops the phone
		}
	}()
	e.noDeviceHint = fmt.Sprintf("to call without sound, set backend = \"null\" under [audio] in %s; `dialtone devices` lists the devices", f.Path)
	adapter := &tuiPhone{e: e, ph: ph}
	adapter.audio.closeErr = func(err error) { e.log.Warn("call audio", "err", err) } // the log pane
	defer adapter.close()
	names := e.loadContactNames() // tui_contacts.go
	opts := ui.Options{Phone: withContacts(adapter, names), Logs: logs, NoColor: os.Getenv("NO_COLOR") != "", Version: version,
		Contacts: names.uiContacts(), ContactsNow: names.uiContacts}
	if r.history != nil { // nil when the data directory cannot be written (history_fallback.go)
		opts.History = withContactHistory(uiHistory{r.history.s}, names)
	}
	if len(cfg.Accounts) == 0 && e.cli.AOR == "" {
		opts.FirstRun = &ui.FirstRunOptions{ConfigPath: f.Path, Save: func(a ui.NewAccount) error {
			return e.saveFirstAccount(f.Path, a, ph)
		}}
	}
	uiCtx, uiStop := context.WithCancel(context.WithoutCancel(e.ctx))
	adapter.ctx = uiCtx
	// The Bubble Tea we build with (third_party/bubbletea, a replace in go.mod) flushes a frame
	// only when the view changed, at most tuiFPS a second: an idle TUI does not wake at all,
	// and a keystroke after a pause is drawn at once (docs/BENCHMARKS.md "Idle").
	prog := tea.NewProgram(ui.New(opts), tea.WithInput(e.stdin), tea.WithOutput(e.stdout), tea.WithFPS(tuiFPS))
	go func() { // SIGINT/SIGTERM: leave the TUI cleanly, as q would
		select {
		case <-e.ctx.Done():
			prog.Quit()
		case <-uiCtx.Done():
		}
	}()
	_, err = prog.Run()
	common.SetFit(false)                                  // what is printed after the TUI is plain lines again (ui/common)
	uiStop()                                              // ends the UI's subscription so the phone's shutdown is not held up by it
	if rerr := r.finish(nil); rerr != nil && err == nil { // hangs up, unregisters
		err = rerr
	}
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// tuiPhone adapts *phone.Phone to ui.Phone: it opens the sound devices for each call, closes
// them when the call ends, and runs the echo peer for the "echo" target.
type tuiPhone struct {
	e   *env
	ph  *phone.Phone
	ctx context.Context

	mu       sync.Mutex
	audio    callDevices
	echoStop func()
	echoAddr string
	waiting  callWaiting // the call-waiting beep; its states are the event loop's alone
}

func (t *tuiPhone) Subscribe(ctx context.Context) <-chan phone.Event {
	ctx, cancel := context.WithCancel(ctx)
	go func() { // the UI's context may outlive the program; ours ends with it
		select {
		case <-t.ctx.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	in := t.ph.Subscribe(ctx)
	out := make(chan phone.Event)
	go func() {
		defer close(out)
		for ev := range in {
			if s, ok := ev.(phone.CallStatus); ok {
				t.waiting.update(s)
			}
			t.audio.follow(ev)
			select {
			case out <- ev:
			case <-ctx.Done():
				for range in { // keep draining so the phone never waits on us
				}
				return
			}
		}
	}()
	return out
}

func (t *tuiPhone) Dial(account, target string) (string, error) {
	if strings.TrimSpace(target) == "echo" || isEchoPeer(account, target) { // the history's echo test too
		addr, err := t.echoPeer()
		if err != nil {
			return "", err
		}
		account, target = "", "sip:echo@"+addr
	} else if account == "" {
		if names := t.ph.AccountNames(); len(names) > 0 {
			account = names[0]
		}
	}
	ca, err := t.e.openAudio(audioFlags{}, "")
	if err != nil {
		return "", err
	}
	t.waiting.wrap(ca)
	id, err := t.ph.Dial(account, target, ca.CallAudio, phone.DialOptions{})
	if err != nil {
		ca.Close()
		return "", err
	}
	t.audio.keep(id, ca)
	return id, nil
}

func (t *tuiPhone) Answer(id string) error {
	ca, err := t.e.openAudio(audioFlags{}, "")
	if err != nil {
		return err
	}
	t.waiting.wrap(ca)
	if err := t.ph.Answer(id, ca.CallAudio); err != nil {
		ca.Close()
		return err
	}
	t.audio.keep(id, ca)
	return nil
}

func (t *tuiPhone) Reject(id string, code int) error        { return t.ph.Reject(id, code) }
func (t *tuiPhone) Hangup(id string) error                  { return t.ph.Hangup(id) }
func (t *tuiPhone) Mute(id string, muted bool) error        { return t.ph.Mute(id, muted) }
func (t *tuiPhone) SendDTMF(id string, digits string) error { return t.ph.SendDTMF(id, digits) }
func (t *tuiPhone) Accounts() []string                      { return t.ph.AccountNames() }

// echoPeer starts the in-process echo peer on first use.
func (t *tuiPhone) echoPeer() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.echoAddr != "" {
		return t.echoAddr, nil
	}
	addr, stop, err := t.e.startEchoPeer(phone.Config{})
	if err != nil {
		return "", err
	}
	t.echoAddr, t.echoStop = addr, stop
	return addr, nil
}

func (t *tuiPhone) close() {
	t.mu.Lock()
	stop := t.echoStop
	t.mu.Unlock()
	if stop != nil {
		stop()
	}
	t.audio.closeAll()
}

// saveFirstAccount writes the first-run form's account into a new config file (0600) and
// adds it to the running phone. A typed password goes into its own 0600 file beside the
// config, never into the config itself.
func (e *env) saveFirstAccount(path string, a ui.NewAccount, ph *phone.Phone) error {
	configSaved := false
	acc := config.Account{Name: a.Name, AOR: a.AOR, AuthUser: a.AuthUser, Registrar: a.Registrar,
		Transport: a.Transport, PasswordEnv: a.PasswordEnv, PasswordCmd: a.PasswordCmd}
	if a.PasswordPlain != "" {
		// The name becomes a file name beside the config: "../x" must not put a password
		// anywhere else.
		if a.Name == "" || a.Name != filepath.Base(a.Name) || strings.HasPrefix(a.Name, ".") {
			return fmt.Errorf("account name %q: use letters, digits, - and _ (it names the password file)", a.Name)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		pwFile := filepath.Join(filepath.Dir(path), a.Name+".password")
		if err := os.WriteFile(pwFile, []byte(a.PasswordPlain+"\n"), 0o600); err != nil {
			return fmt.Errorf("password file: %w", err)
		}
		acc.PasswordFile = pwFile
		defer func() {
			if !configSaved { // the account was not saved: its password must not stay behind
				_ = os.Remove(pwFile)
			}
		}()
	}
	f, err := config.Load(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f = &config.File{Path: path}
	case err != nil:
		return err
	}
	f.Accounts = append(f.Accounts, acc)
	if err := config.Save(path, f); err != nil {
		return err
	}
	configSaved = true
	// Save validated a copy; this one gets its defaults too (transport from the registrar,
	// expires 600: it registered every 60 s for want of them).
	saved := f.Accounts[len(f.Accounts)-1]
	if err := saved.Validate(); err != nil {
		return err
	}
	t, err := phone.ParseTransport(saved.Transport)
	if err != nil {
		return err
	}
	pa := phone.Account{Name: saved.Name, AOR: saved.AOR, AuthUser: saved.AuthUser, Registrar: saved.Registrar,
		Transport: t, Expires: time.Duration(saved.Expires) * time.Second, Register: true}
	if saved.HasPassword() {
		pa.Password = saved.Password
	}
	return ph.AddAccount(pa)
}

// routeLogsToPane sends the process's logs (sipgo's included) and the SIP trace to the TUI's
// log pane, and also to --log-file / --sip-trace when given.
func (e *env) routeLogsToPane(logs chan<- ui.LogLine) {
	pane := &paneHandler{logs: logs, level: e.paneLevel()}
	var h slog.Handler = pane
	if e.cli.LogFile != "" {
		h = multiHandler{pane, e.log.Handler()}
	}
	e.log = slog.New(masked(h)) // logmask.go
	// sipgo logs through it too, its records cut and limited (lognoise.go).
	setSIPLogger(e.log)
	var file *sipTracer
	if e.cli.SIPTrace != "" {
		file = e.tracer
	}
	e.traceTo(e.withPcap(&paneTracer{logs: logs, file: file})) // pcap.go, trace_frame.go
}

// paneLevel is the least level the log pane shows: --log-level, else info (what a user watching
// the pane wants; debug floods it).
func (e *env) paneLevel() slog.Level {
	level := slog.LevelInfo
	if e.cli.LogLevel != "" {
		_ = level.UnmarshalText([]byte(e.cli.LogLevel)) // checked by the flag's enum and setupLogging
	}
	return level
}

// paneHandler is a slog.Handler that feeds the log pane. It never blocks: when the pane is
// behind, lines are dropped (the log file, if any, still has them).
type paneHandler struct {
	logs  chan<- ui.LogLine
	level slog.Level
	attrs []slog.Attr
}

func (h *paneHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *paneHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	select {
	case h.logs <- ui.LogLine{Time: r.Time, Level: r.Level.String(), Text: b.String()}:
	default:
	}
	return nil
}

func (h *paneHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *paneHandler) WithGroup(string) slog.Handler { return h }

// multiHandler sends records to several handlers.
type multiHandler []slog.Handler

func (m multiHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range m {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (m multiHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range m {
		if h.Enabled(ctx, r.Level) {
			_ = h.Handle(ctx, r.Clone())
		}
	}
	return nil
}

func (m multiHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (m multiHandler) WithGroup(name string) slog.Handler {
	out := make(multiHandler, len(m))
	for i, h := range m {
		out[i] = h.WithGroup(name)
	}
	return out
}

// paneTracer shows SIP messages in the log pane and, with --sip-trace, writes them to the file.
// The pane, and the SIP ladder built from it, get them in causal order as the file and a
// --pcap capture do (pcap_order.go): sipgo reports what it sent after the write, and a loaded
// machine showed the 200 to our BYE above the BYE.
type paneTracer struct {
	logs  chan<- ui.LogLine
	file  *sipTracer
	order sipOrder
}

func (t *paneTracer) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	t.order.received(msg, func(at time.Time, m []byte) { t.send(at, "recv", transport, raddr, laddr, m) })
	if t.file != nil {
		t.file.SIPTraceRead(transport, laddr, raddr, msg)
	}
}

func (t *paneTracer) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	t.order.sent(msg, func(at time.Time, m []byte) { t.send(at, "send", transport, laddr, raddr, m) })
	if t.file != nil {
		t.file.SIPTraceWrite(transport, laddr, raddr, msg)
	}
}

func (t *paneTracer) send(at time.Time, dir, transport, from, to string, msg []byte) {
	text := fmt.Sprintf("%s %s %s -> %s\n%s", dir, transport, from, to, strings.TrimRight(string(srtp.MaskCryptoLines(msg)), "\r\n"))
	select {
	case t.logs <- ui.LogLine{Time: at, Level: "SIP", Text: text, SIP: true}:
	default:
	}
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(file.Fd())
}

// tuiFPS caps the TUI's frame rate. It costs nothing while nothing changes (see where the
// program starts); 60 (Bubble Tea's default) draws keystrokes typed less than a frame apart
// within 17 ms.
const tuiFPS = 60
