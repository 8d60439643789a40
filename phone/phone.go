// Package phone is dialtone's user agent core: accounts, registration, and (later) calls and
// messages. It knows nothing about terminals or sound cards; front ends drive it through its
// methods and learn what happened from Subscribe.
package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emiago/sipgo"

	"github.com/dialtone/dialtone/phone/sdp"
)

// Phone is one user agent with its accounts. Create it with New, start it with Run.
type Phone struct {
	cfg      Config
	log      *slog.Logger
	clock    Clock
	resolver resolver
	accounts []*account
	bus      *bus

	wires    map[string]*sipRegistrar // per account, made by Run
	tlsNames tlsNames                 // which names each TLS target was found under (tlsnames.go)

	// startMu makes starting an account one step with Run's start and end: AddAccount holds
	// it from reading stk to its registration loop being counted in regWG, Run while it starts
	// the first accounts and publishes stk, and while it takes stk away before regWG.Wait.
	// Without it an account added as Run started was never started, and one added as Run
	// ended added to regWG during its Wait.
	startMu  sync.Mutex
	mu       sync.Mutex
	statuses []AccountStatus // index-aligned with accounts
	running  bool
	stk      *stack           // set while Run runs
	calls    map[string]*call // by our call id
	dialogs  map[string]*call // by SIP dialog id
	callSeq  int
	callWG   sync.WaitGroup // one per call goroutine
	regWG    sync.WaitGroup // one per registration loop
	runCtx   context.Context
	recent   recentMessages // incoming MESSAGE keys, when no store keeps them
	msgLimit messageLimit   // how many incoming MESSAGEs are taken (message_limit.go)
	ready    chan struct{}  // closed once Run has the SIP stack up
	flows    flowTracker    // pongs on TCP/TLS connections (flow.go)
	dnd      dndState       // do-not-disturb (dnd.go)
	xfer     transferState  // REFER/NOTIFY bookkeeping (transfer_dialog.go)
	// voicemail is each account's mailbox as its server last reported it, and mwiBudgets how
	// many more changes of it each account may show now (mwi.go).
	voicemail  map[string]Voicemail
	mwiBudgets map[string]*tokenBucket
}

// Option customises a Phone; tests use them to inject time and name resolution.
type Option func(*Phone) error

// WithClock makes every timed component use c.
func WithClock(c Clock) Option {
	return func(p *Phone) error { p.clock = c; return nil }
}

// New checks cfg and prepares a phone. It does no I/O.
func New(cfg Config, opts ...Option) (*Phone, error) {
	p := &Phone{cfg: cfg, log: cfg.Logger, clock: realClock{}, bus: newBus(),
		calls: map[string]*call{}, dialogs: map[string]*call{}, wires: map[string]*sipRegistrar{},
		ready: make(chan struct{})}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler) // a TextHandler on io.Discard formatted every line
	}
	if cfg.Ptime != 0 {
		if err := sdp.CheckPtime(cfg.Ptime); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, a := range cfg.Accounts {
		pa, err := parseAccount(a)
		if err != nil {
			return nil, err
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("account name %q is used twice", a.Name)
		}
		seen[a.Name] = true
		p.accounts = append(p.accounts, pa)
		p.statuses = append(p.statuses, AccountStatus{Account: a.Name, AOR: pa.aor.Addr(), State: Unregistered})
	}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	if err := p.defaultResolver(); err != nil { // after the options: WithResolver, WithClock
		return nil, err
	}
	p.resolver = namingResolver{resolver: p.resolver, names: &p.tlsNames}
	if cfg.DNDCode >= 400 && cfg.DNDCode <= 699 {
		p.dnd.store(false, cfg.DNDCode)
	}
	return p, nil
}

// Subscribe returns a channel that first carries a Snapshot, then every change. It closes
// when ctx ends or Run returns. Events are never dropped, however slow the reader.
func (p *Phone) Subscribe(ctx context.Context) <-chan Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bus.subscribe(ctx, p.snapshotLocked())
}

// Snapshot returns the current state.
func (p *Phone) Snapshot() Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snapshotLocked()
}

func (p *Phone) snapshotLocked() Snapshot {
	on, code := p.dnd.load()
	var vm []Voicemail
	for _, st := range p.statuses { // in the accounts' order
		if v, ok := p.voicemail[st.Account]; ok {
			vm = append(vm, v)
		}
	}
	return Snapshot{Time: p.clock.Now(), Accounts: append([]AccountStatus(nil), p.statuses...), DND: on, DNDCode: code, Voicemail: vm}
}

// setStatus records and publishes a registration change. Publishing under the lock keeps
// every subscriber's order equal to the order of the changes.
func (p *Phone) setStatus(i int, s AccountStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.statuses[i] = s
	p.bus.publish(s)
	attrs := []any{"account", s.Account, "state", s.State.String()}
	if s.Code != 0 {
		attrs = append(attrs, "code", s.Code)
	}
	if s.Reason != "" {
		attrs = append(attrs, "reason", s.Reason)
	}
	p.log.Info("registration", attrs...)
}

// Run starts the phone's transports and registrations and blocks until ctx ends; then it
// unregisters every account (bounded in time), closes its sockets and ends all
// subscriptions. A phone runs once.
func (p *Phone) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("phone: Run called twice")
	}
	p.running = true
	p.mu.Unlock()
	defer p.bus.close()

	stack, err := p.startStack(ctx)
	if err != nil {
		return err
	}
	defer stack.close()

	p.startMu.Lock()
	for i, acc := range p.accountList() {
		if err := p.startAccount(ctx, stack, i, acc); err != nil {
			p.startMu.Unlock()
			return err
		}
	}
	p.mu.Lock()
	p.stk, p.runCtx = stack, ctx
	p.mu.Unlock()
	p.startMu.Unlock()
	close(p.ready)
	<-ctx.Done()
	// Calls end first (BYE, CANCEL, or a final response to a ringing call), while the
	// registrations and sockets they need are still up.
	p.startMu.Lock()
	p.mu.Lock()
	p.stk = nil
	for _, c := range p.calls {
		c.hangup()
	}
	p.mu.Unlock()
	p.startMu.Unlock()
	p.callWG.Wait()
	p.regWG.Wait()
	return nil
}

// startAccount gives account i its wire and, if it registers, its registration loop (owned
// by regWG: Run waits for it).
func (p *Phone) startAccount(ctx context.Context, stack *stack, i int, acc *account) error {
	opts := []sipgo.ClientOption{sipgo.WithClientLogger(stack.sipLog)}
	var udp *net.UDPAddr
	if acc.Transport == UDP {
		opts = append(opts, sipgo.WithClientNAT())
		udp = stack.udpAddr
	}
	client, err := sipgo.NewClient(stack.ua, opts...)
	if err != nil {
		return fmt.Errorf("account %s: sip client: %w", acc.Name, err)
	}
	wire := newSIPRegistrar(acc, client, stack.ua.TransportLayer(), p.resolver, udp, p.userAgent(), p.log)
	if udp != nil {
		wire.udp6Listen = stack.udp6Addr
	}
	p.mu.Lock()
	p.wires[acc.Name] = wire
	p.mu.Unlock()
	if !acc.Register {
		return nil
	}
	lost := make(chan flowLoss, 1)
	loop := &regLoop{
		account: acc.Name, aor: acc.aor.Addr(), expires: acc.Expires, wire: wire, clock: p.clock,
		backoff: newBackoff(2*time.Second, 5*time.Minute),
		publish: func(s AccountStatus) { p.setStatus(i, s) }, lost: lost,
	}
	p.regWG.Go(func() { loop.run(ctx) })
	p.startKeepAlive(ctx, stack, i, acc, wire, lost)
	return nil
}

// AddAccount adds an account to a phone, before or while it runs (the TUI's first-run form
// does this); a running phone starts registering it at once.
func (p *Phone) AddAccount(a Account) error {
	pa, err := parseAccount(a)
	if err != nil {
		return err
	}
	p.startMu.Lock()
	defer p.startMu.Unlock()
	p.mu.Lock()
	for _, x := range p.accounts {
		if x.Name == a.Name {
			p.mu.Unlock()
			return fmt.Errorf("account name %q is used twice", a.Name)
		}
	}
	i := len(p.accounts)
	p.accounts = append(p.accounts, pa)
	st := AccountStatus{Time: p.clock.Now(), Account: a.Name, AOR: pa.aor.Addr(), State: Unregistered}
	p.statuses = append(p.statuses, st)
	stk, ctx := p.stk, p.runCtx
	p.bus.publish(st)
	p.mu.Unlock()
	if stk == nil {
		return nil // Run starts it
	}
	return p.startAccount(ctx, stk, i, pa)
}

// accountList is a copy of the accounts, safe to range over while AddAccount runs.
func (p *Phone) accountList() []*account {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*account(nil), p.accounts...)
}

// errAccountStarting is what a call or message through an account gets in the moment between
// AddAccount filing the account and starting its SIP side (a nil wire).
var errAccountStarting = errors.New("the account is still starting: try again")

// wire is an account's SIP side; nil for an account AddAccount has filed but not started yet,
// which the sipRegistrar methods used on calls and messages answer with errAccountStarting.
func (p *Phone) wire(name string) *sipRegistrar {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wires[name]
}

// Ready is closed once Run has started the SIP stack: commands such as Dial work from then on.
func (p *Phone) Ready() <-chan struct{} { return p.ready }

// SIPAddr is the local UDP SIP address (host:port) while the phone runs, "" otherwise.
func (p *Phone) SIPAddr() string {
	stk := p.runningStack()
	if stk == nil {
		return ""
	}
	return stk.udpAddr.String()
}

// runningStack is the SIP stack while Run runs, nil otherwise.
func (p *Phone) runningStack() *stack {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stk
}

func (p *Phone) userAgent() string {
	if p.cfg.UserAgent != "" {
		return p.cfg.UserAgent
	}
	return "dialtone"
}

// AccountNames are the accounts' names in configuration order.
func (p *Phone) AccountNames() []string {
	var names []string
	for _, a := range p.accountList() {
		names = append(names, a.Name)
	}
	return names
}
