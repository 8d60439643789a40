package phone

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Flow recovery for TCP and TLS registrations, RFC 5626 "lite": no Outbound extension (no
// reg-id, no instance id, which many registrars do not support), only its keep-alive and the
// rule that a dead flow is replaced at once. Over TCP and TLS our binding is reachable only
// through the connection we registered on: once it dies (the registrar restarted, a NAT or
// firewall forgot it, the network changed), incoming calls stop arriving, and without this
// nobody would notice until the next refresh, up to half an hour later.

// pongTimeout is how long a keep-alive ping waits for its pong before the flow counts as dead
// (RFC 5626 section 4.4.1: 10 s).
const pongTimeout = 10 * time.Second

// flowPoll is how often the keeper checks that the registration's connection is still open
// where nothing tells it (keepers in tests, systems without flowWatcher): sipgo drops a
// connection from its pool as soon as a read fails (FIN, RST, reset by a firewall), so this
// bounds how late a closed flow is noticed.
const flowPoll = time.Second

// flowFallback is how often an event-driven keeper looks anyway, in case a close went
// unseen (sipgo closing a connection on its own, after a framing error): an idle account
// then wakes for its pings and this, not every second.
const flowFallback = 30 * time.Second

// flowIO is what the keeper needs from the transport; sipFlows is the real one.
type flowIO interface {
	// alive reports whether the transport still holds the connection with that local address.
	alive(flow string) bool
	// ping sends a CRLFCRLF keep-alive on the connection; the wait ends when the connection
	// next delivers data: the CRLF pong, or anything else the registrar sends.
	ping(flow string) (*pongWait, error)
	// drop closes a connection that stopped answering, so the next REGISTER opens a new one.
	drop(flow string)
}

// flowWatcher is what a flowIO may do besides: tell the moment a connection is closed or
// broken, so the keeper need not look every flowPoll (flow_watch_linux.go).
type flowWatcher interface {
	// watch returns a channel closed when the connection with local address flow is hung up
	// or fails, and what stops watching (it must be called).
	watch(flow string) (hungUp <-chan struct{}, stop func(), err error)
}

// flowKeeper watches the connection of one account's TCP or TLS registration.
type flowKeeper struct {
	account     string
	clock       Clock
	every       time.Duration // ping interval; 0 only watches for the connection closing
	pongTimeout time.Duration
	poll        time.Duration // the longest it sleeps
	io          flowIO
	current     func() string // the connection the account is registered on, "" when none
	// changed, when not nil, wakes the keeper when the registration may have moved (its
	// events are the phone's; the keeper ignores all but its account's) and makes it
	// event-driven: it sleeps until the next ping or pong deadline, a close its flowWatcher
	// sees, or poll, instead of looking every poll.
	changed <-chan Event
	lost    func(flowLoss)
	log     *slog.Logger
}

// pongWait is a ping's wait for the connection's next read. pong says, once done is closed,
// whether that read was a pong (a CRLF) rather than other traffic: either shows the
// connection alive, but only a pong shows that the registrar answers pings.
type pongWait struct {
	done chan struct{}
	pong bool
}

// run watches until ctx ends. Each flow is reported lost at most once. A missing pong counts
// only on a flow that has answered a ping with a pong before: a registrar that answers none
// but sends a request or response in a ping's wait (a refresh's 200, a qualify OPTIONS) is
// not taken for one that does, whose next silence would drop a healthy connection.
func (k *flowKeeper) run(ctx context.Context) {
	var (
		watched  = k.current()   // the flow the state below belongs to
		lastPing = k.clock.Now() // when the last ping went out (or watching began)
		pingAt   time.Time       // when the unanswered ping went out
		pong     *pongWait       // the unanswered ping's wait; nil when none is awaited
		answers  bool            // the flow has answered a ping: silence now means it died
		told     bool            // the log said this flow's registrar does not answer
		given    string          // the flow last reported lost
		w        flowWatch       // the close watch on the watched flow, event-driven only
		now      time.Time       // when the keeper woke
		mark     = markNow()     // the clocks asleep reads, at the last wake
	)
	defer w.stop()
	for {
		if k.changed != nil && watched != given && !w.on(watched) {
			w.start(k.io, watched, k.log)
		}
		d := k.sleep(k.clock.Now(), pong != nil, pingAt, lastPing)
		if k.changed != nil && watched != "" && watched != given && !w.on(watched) {
			d = min(d, flowPoll) // a flow the watch could not take (gone already?) is looked at as before
		}
		t := k.clock.NewTimer(d)
		hungUp := false
		var pongNow <-chan struct{} // an event-driven keeper takes the pong as it comes
		if k.changed != nil && pong != nil {
			pongNow = pong.done
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		case ev, ok := <-k.changed:
			t.Stop()
			if !ok {
				k.changed = nil // the phone is stopping; look every poll until ctx ends
			} else if s, mine := ev.(AccountStatus); !mine || s.Account != k.account {
				continue
			}
		case <-w.hungUp:
			t.Stop()
			hungUp = true
		case <-pongNow:
			t.Stop()
		}
		now = k.clock.Now()
		prevMark := mark
		mark = markNow()
		flow := k.current()
		if flow != watched {
			watched, lastPing, pong, answers, told = flow, now, nil, false, false
			w.stop()
			hungUp = false
		}
		if flow == "" || flow == given {
			w.stop()
			continue
		}
		reportLoss := func(l flowLoss) {
			given, pong = flow, nil
			w.stop()
			k.log.Info("registration's connection lost; registering again on a new one", "account", k.account, "flow", flow, "reason", l.reason)
			k.lost(l)
		}
		report := func(reason string) { reportLoss(flowLoss{flow: flow, reason: reason}) }
		if hungUp {
			k.awaitClose(flow)
		}
		if !k.io.alive(flow) {
			report("the connection to the registrar was closed")
			continue
		}
		if slept := asleep(prevMark, mark); slept >= sleptMin {
			// The binding may have lapsed meanwhile (keepalive.go), and the connection with
			// it: a new one, registered at once.
			k.io.drop(flow)
			reportLoss(flowLoss{flow: flow, reason: "the computer was asleep for " + slept.Round(time.Second).String(), slept: true})
			continue
		}
		if hungUp {
			// Hung up, yet sipgo still holds it (a half-closed socket it has not read the
			// end of): retire it ourselves so the next REGISTER opens a new one.
			k.io.drop(flow)
			report("the connection to the registrar was closed")
			continue
		}
		if pong != nil {
			select {
			case <-pong.done:
				k.log.Debug("keep-alive answered", "account", k.account, "flow", flow, "pong", pong.pong)
				answers = answers || pong.pong
				pong = nil
			default:
				switch {
				case now.Sub(pingAt) < k.pongTimeout:
				case answers:
					k.io.drop(flow)
					report(fmt.Sprintf("the registrar did not answer a keep-alive within %s", k.pongTimeout))
					continue
				default:
					// Not every registrar answers pings (the pong is RFC 5626's, and not
					// all implement it): one that never did is not taken for dead, or the
					// registration would flap. The pings still hold NAT state open, and a
					// closed connection is still noticed.
					if !told {
						k.log.Info("the registrar does not answer keep-alive pings; only a closed connection will be noticed",
							"account", k.account, "flow", flow)
						told = true
					}
					pong = nil
				}
			}
		}
		if pong == nil && k.every > 0 && now.Sub(lastPing) >= k.every {
			ch, err := k.io.ping(flow)
			if err != nil {
				k.io.drop(flow)
				report(fmt.Sprintf("a keep-alive could not be sent: %v", err))
				continue
			}
			pong, pingAt, lastPing = ch, now, now
		}
	}
}

// flowOf is the connection a Contact of ours names: its host:port, which over TCP and TLS is
// the local address of the connection we registered on. "" when the Contact does not parse.
func flowOf(contact string) string {
	if contact == "" {
		return ""
	}
	var u sip.Uri
	if err := sip.ParseUri(contact, &u); err != nil || u.Host == "" || u.Port == 0 {
		return ""
	}
	hp := net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(u.Port))
	if _, _, err := net.SplitHostPort(hp); err != nil {
		return "" // a host with stray brackets ("[0[0]"): not an address (FuzzFlowOf)
	}
	return hp
}

// flowTracker learns, from sipgo's read path, when each stream connection delivers data: a
// pong is otherwise invisible, because sipgo swallows bare CRLFs between messages.
type flowTracker struct {
	mu      sync.Mutex
	waiters map[string]*pongWait // by the connection's local address
}

// readFilter is a sip.TransportReadFilter: it sees every read before sipgo parses it, and
// passes the data on unchanged.
func (f *flowTracker) readFilter(props sip.TransportReadProps, data []byte) ([]byte, error) {
	if !sip.IsReliable(props.Transport) {
		if !looksLikeSIP(data) {
			return nil, nil // see looksLikeSIP
		}
		return data, nil
	}
	if props.LocalAddr == nil {
		return data, nil
	}
	key := props.LocalAddr.String()
	f.mu.Lock()
	if w, ok := f.waiters[key]; ok {
		w.pong = bytes.HasPrefix(data, crlf) // RFC 5626 §4.4.1; sipgo reads a pong on its own
		close(w.done)
		delete(f.waiters, key)
	}
	f.mu.Unlock()
	return data, nil
}

var crlf = []byte("\r\n")

// expect returns the wait for the next read on the connection with local address flow.
func (f *flowTracker) expect(flow string) *pongWait {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waiters == nil {
		f.waiters = map[string]*pongWait{}
	}
	w, ok := f.waiters[flow]
	if !ok {
		w = &pongWait{done: make(chan struct{})}
		f.waiters[flow] = w
	}
	return w
}

// forget drops the waiter of a connection that is gone.
func (f *flowTracker) forget(flow string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.waiters, flow)
}

// sipFlows is flowIO over sipgo's connection pool (keyed by local as well as remote address).
type sipFlows struct {
	tp      *sip.TransportLayer
	network string // "tcp" or "tls"
	tracker *flowTracker
}

func (s sipFlows) alive(flow string) bool {
	c, err := s.tp.GetConnection(s.network, flow)
	if err != nil {
		s.tracker.forget(flow)
		return false
	}
	c.TryClose() // GetConnection took a reference
	return true
}

var crlfPing = []byte("\r\n\r\n")

func (s sipFlows) ping(flow string) (*pongWait, error) {
	c, err := s.tp.GetConnection(s.network, flow)
	if err != nil {
		return nil, fmt.Errorf("keep-alive on %s: %w", flow, err)
	}
	defer c.TryClose()
	w, ok := c.(io.Writer)
	if !ok {
		return nil, fmt.Errorf("keep-alive on %s: the %s connection cannot be written to", flow, s.network)
	}
	pong := s.tracker.expect(flow) // before writing: the pong may beat Write's return
	// One Write: Go serialises writes on a socket (and tls.Conn on a record), so the ping
	// never lands inside a SIP message sipgo is writing at the same moment.
	if _, err := w.Write(crlfPing); err != nil {
		s.tracker.forget(flow)
		return nil, fmt.Errorf("keep-alive on %s: %w", flow, err)
	}
	return pong, nil
}

// drop retires a connection that stopped answering: out of sipgo's pool first, so that the
// REGISTER that follows opens a new one, then the reading side of its socket is shut. sipgo's
// reader sees an end of stream and closes the connection as if the far end had, releasing
// every reference. (Closing it from here would race with the reader's own close and make
// sipgo warn about its reference counts.)
func (s sipFlows) drop(flow string) {
	s.tracker.forget(flow)
	pool := s.tp.Pool(s.network)
	if pool == nil {
		return
	}
	c := pool.Get(flow)
	if c == nil {
		return
	}
	keys := []string{flow}
	tc, isTCP := c.(*sip.TCPConnection)
	if isTCP {
		// Requests find a connection by its remote address: that key must go too, if it is ours.
		remote := tc.RemoteAddr().String()
		if same := pool.Get(remote); same != nil {
			if same == c {
				keys = append(keys, remote)
			}
			same.TryClose()
		}
	}
	pool.DeleteMultiple(keys)
	c.TryClose()
	if !isTCP {
		c.Close()
		return
	}
	sock := tc.Conn
	if t, ok := sock.(*tls.Conn); ok {
		sock = t.NetConn()
	}
	if r, ok := sock.(interface{ CloseRead() error }); ok && r.CloseRead() == nil {
		return
	}
	tc.Conn.Close()
}

// keepFlow starts the keeper of account i's TCP or TLS registration (owned by regWG).
func (p *Phone) keepFlow(ctx context.Context, stack *stack, i int, acc *account, lost chan<- flowLoss) {
	io := sipFlows{tp: stack.ua.TransportLayer(), network: acc.Transport.String(), tracker: &p.flows}
	var changed <-chan Event
	poll := flowPoll
	if canWatchFlows {
		// Event-driven: woken by registration changes and by the connection's own hang-up,
		// so an idle TCP account sleeps between pings (it woke ~5 times a second polling).
		p.mu.Lock()
		changed = p.bus.subscribe(ctx, p.snapshotLocked())
		p.mu.Unlock()
		poll = flowFallback
	}
	k := &flowKeeper{
		account: acc.Name, clock: p.clock, every: p.keepAliveEvery(), pongTimeout: pongTimeout, poll: poll,
		io: io, changed: changed,
		current: func() string {
			p.mu.Lock()
			defer p.mu.Unlock()
			if st := p.statuses[i]; st.State == Registered {
				return flowOf(st.Contact)
			}
			return ""
		},
		lost: func(l flowLoss) {
			select {
			case lost <- l:
			default: // one report is waiting already; the loop needs no second
			}
		},
		log: p.log,
	}
	p.regWG.Go(func() { k.run(ctx) })
}

// looksLikeSIP tells a SIP datagram (a request starts with an upper-case method, a response
// with "SIP/2.0"), or a CRLF keep-alive, from everything else that reaches a UDP SIP port: a
// late STUN answer to our own start-up query, RTP or a scanner's junk. sipgo would log each of
// those at error level on the user's terminal, and add its sender to its connection pool.
func looksLikeSIP(data []byte) bool {
	for len(data) > 0 && (data[0] == '\r' || data[0] == '\n') {
		data = data[1:]
	}
	return len(data) == 0 || data[0] >= 'A' && data[0] <= 'Z'
}
