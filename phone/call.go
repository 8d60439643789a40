package phone

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/dialtone/dialtone/audio"
	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// CallAudio is where a call's audio comes from and goes to. A nil Source sends silence;
// a nil Sink discards what arrives. The phone closes neither: the front end owns them.
type CallAudio struct {
	Source audio.Source
	Sink   audio.Sink
}

// DialOptions tune one outgoing call.
type DialOptions struct {
	// RingTimeout cancels the call (CANCEL) if nobody answers in time; 0 means 60 s.
	RingTimeout time.Duration
}

// call is one call's shared state. Its goroutine (runOutgoing or runIncoming) owns the SIP
// dialog and the media session; other goroutines talk to it through the channels.
type call struct {
	id      string
	account *account // nil for direct calls
	dir     Direction
	// request identifies an incoming call's INVITE across the paths it may come by: its
	// Call-ID, From tag and CSeq (mergeKey); "" for calls we place.
	request string

	answerCh chan CallAudio // incoming: the user answered
	rejectCh chan int       // incoming: the user rejected with this code
	hangupCh chan struct{}  // closed by Hangup
	hangOnce sync.Once
	holdCh   chan bool         // answered: the user asks for hold (true) or resume (hold.go)
	offerCh  chan *remoteOffer // answered: the far end's re-INVITE or UPDATE with SDP, for talk
	// requests is held while one of our requests in the dialog is under way (sendInDialog).
	requests chan struct{}
	// ackAnswers carries the SDP answer in the ACK of a re-INVITE we gave an offer (noteAck,
	// reinvite_ok.go; read by hold_ack.go).
	ackAnswers chan ackAnswer

	mu        sync.Mutex
	ringStop  context.CancelFunc // outgoing: cancels the INVITE while it rings
	media     *media.Session
	addr      mediaAddr      // the media address our SDP gives, and how we learnt it
	remoteSDP netip.AddrPort // where the far end's SDP says its media is
	params    media.Params   // the media negotiated last (before hold silences it)
	local     sdp.Local      // our side of the session, for answering re-INVITEs
	contact   sip.Uri
	target    sip.Uri        // the far end's Contact from its latest target refresh (dialog_target.go)
	okWait    *okAwaitingAck // our 200 to a re-INVITE, retransmitted until its ACK (reinvite_ok.go)
	source    audio.Source
	sink      audio.Sink
	dialogID  string
	early     earlyDialogs // outgoing: the dialogs its 1xx made, for call pickup (pickup.go)
	readBye   func(*sip.Request, sip.ServerTransaction) error
	readAck   func(*sip.Request, sip.ServerTransaction) error
	answered  bool
	// offered: our 200 carries our offer (a delayed offer, incoming_delayed.go): the dialog
	// is up for requests in it (a REFER that overtakes the ACK waits for it), while the call
	// counts as answered (DTMF, mute) only with the ACK's answer.
	offered bool
	// dialledName is the display name of status.Dialled (redirect.go), for the history.
	dialledName string
	info        dtmfInfo          // digits going as SIP INFO (info_send.go)
	talking     bool              // talk runs and takes offers from offerCh
	machine     lifecycle.Machine // where the call is in its life (phone/call decides)
	status      CallStatus
	rating      callRating // the E-model over the call's statistics (callquality.go)
	done        chan struct{}
}

func newCall(id string, acc *account, dir Direction) *call {
	return &call{
		id: id, account: acc, dir: dir, machine: newMachine(dir, acc != nil),
		answerCh: make(chan CallAudio, 1), rejectCh: make(chan int, 1),
		hangupCh: make(chan struct{}), done: make(chan struct{}),
		holdCh: make(chan bool, 8), offerCh: make(chan *remoteOffer),
		requests: make(chan struct{}, 1), ackAnswers: make(chan ackAnswer, 1),
	}
}

// sendInDialog runs send, one of our requests in the call's dialog, after any other of ours
// has finished (ctx bounds the wait). sipgo numbers a request from the dialog's last CSeq as
// it is written, and an ACK takes that number too: a REFER or NOTIFY sent while our
// re-INVITE waited for its 200 gave the re-INVITE's ACK the REFER's CSeq, the far end never
// took it for the ACK, retransmitted its 200 for 32 s and then hung up (RFC 3261 13.3.1.4).
// A BYE does not wait: it ends the dialog whatever is under way.
func (c *call) sendInDialog(ctx context.Context, send func() error) error {
	select {
	case c.requests <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("call %s: waiting for our request under way in the dialog: %w", c.id, ctx.Err())
	}
	defer func() { <-c.requests }()
	return send()
}

func (c *call) accountName() string {
	if c.account == nil {
		return ""
	}
	return c.account.Name
}

// hungUp says whether the user (or the phone) has asked c to end.
func (c *call) hungUp() bool {
	select {
	case <-c.hangupCh:
		return true
	default:
		return false
	}
}

// hangup asks the call to end, whatever its state. Safe to call many times.
func (c *call) hangup() {
	c.hangOnce.Do(func() { close(c.hangupCh) })
	c.mu.Lock()
	stop := c.ringStop
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// ErrNoSuchCall means the call id is unknown (never existed, or already ended).
var ErrNoSuchCall = errors.New("no such call")

// ErrNotRunning means a command came before Run started the phone, or after it returned.
var ErrNotRunning = errors.New("phone is not running")

func (p *Phone) lookupCall(id string) (*call, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.calls[id]
	if !ok {
		return nil, fmt.Errorf("call %s: %w", id, ErrNoSuchCall)
	}
	if c.ended() { // kept only until its history is written: nothing can be done with it
		return nil, fmt.Errorf("call %s has ended: %w", id, ErrNoSuchCall)
	}
	return c, nil
}

// Answer answers an incoming call that is ringing.
func (p *Phone) Answer(id string, a CallAudio) error {
	c, err := p.lookupCall(id)
	if err != nil {
		return err
	}
	if c.dir != Incoming {
		return fmt.Errorf("call %s: only incoming calls can be answered", id)
	}
	c.mu.Lock()
	ringing := c.machine.State == lifecycle.Incoming && len(c.answerCh) == 0
	c.mu.Unlock()
	if ringing && !p.cfg.Parallel {
		p.holdOthers(id) // call waiting: the call we talk on goes on hold first
	}
	select {
	case c.answerCh <- a:
		return nil
	default:
		return fmt.Errorf("call %s: already answered or rejected", id)
	}
}

// Reject refuses an incoming call that is ringing with a final response code (486 Busy Here,
// 603 Decline, ...); 0 means 486.
func (p *Phone) Reject(id string, code int) error {
	if code == 0 {
		code = 486
	}
	if code < 400 || code > 699 {
		return fmt.Errorf("reject code %d: must be 400-699", code)
	}
	c, err := p.lookupCall(id)
	if err != nil {
		return err
	}
	if c.dir != Incoming {
		return fmt.Errorf("call %s: only incoming calls can be rejected; hang up instead", id)
	}
	select {
	case c.rejectCh <- code:
		return nil
	default:
		return fmt.Errorf("call %s: already answered or rejected", id)
	}
}

// Hangup ends a call: CANCEL while an outgoing call rings, 486 for a ringing incoming call,
// BYE once answered.
func (p *Phone) Hangup(id string) error {
	c, err := p.lookupCall(id)
	if err != nil {
		return err
	}
	c.hangup()
	return nil
}

// SendDTMF sends digits (0-9 * # A-D; ',' pauses 500 ms) as RFC 4733 events on an answered
// call, or as SIP INFO when the far end negotiated no telephone-event (info_send.go). It
// returns at once: the digits go out one by one (media.DTMFDuration each, media.DTMFGap apart).
func (p *Phone) SendDTMF(id string, digits string) error {
	c, err := p.lookupCall(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	ms := c.media
	answered := c.answered
	c.mu.Unlock()
	if ms == nil || !answered {
		return fmt.Errorf("call %s: not answered yet", id)
	}
	if c.onHold() {
		return fmt.Errorf("call %s: on hold: no audio, so no DTMF either", id)
	}
	c.mu.Lock()
	// No telephone-event negotiated: as SIP INFO (info_send.go); also while INFO digits are
	// still going (a re-INVITE that added telephone-event must not let these overtake them).
	byInfo := c.params.DTMFPT < 0 || c.info.sending || len(c.info.digits) > 0
	c.mu.Unlock()
	if byInfo {
		return p.queueDTMFInfo(c, digits)
	}
	if err := ms.SendDTMFString(digits); err != nil { // all or nothing: a typo sends no digit
		return fmt.Errorf("call %s: %w", id, err)
	}
	return nil
}

// Mute stops (or resumes) sending the microphone on an answered call; silence is sent meanwhile.
func (p *Phone) Mute(id string, muted bool) error {
	c, err := p.lookupCall(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	ms, answered := c.media, c.answered
	c.mu.Unlock()
	if ms == nil || !answered {
		return fmt.Errorf("call %s: not answered yet", id)
	}
	ms.SetMuted(muted)
	if s := p.update(c, func(s *CallStatus) { s.Muted = muted }); s.State == CallEnded {
		return fmt.Errorf("call %s has ended: %w", id, ErrNoSuchCall)
	}
	return nil
}

// Calls returns the calls in progress.
func (p *Phone) Calls() []CallStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]CallStatus, 0, len(p.calls))
	for _, c := range p.calls {
		c.mu.Lock()
		out = append(out, c.status)
		c.mu.Unlock()
	}
	return out
}

// newCallID numbers calls c1, c2, ... for the life of the phone.
func (p *Phone) newCallID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.callSeq++
	return "c" + strconv.Itoa(p.callSeq)
}

// errMerged is addCall's refusal of an INVITE that is a copy of one a call already has.
var errMerged = errors.New("merged request")

// addCall registers a call; it fails when the phone is at its maximum of calls or stopping,
// and with errMerged when c's INVITE is one a call in progress has already (c.request): the
// same request come by another path, which RFC 3261 §8.2.2.2 answers 482.
// Run waits for every registered call (callWG) before it closes the SIP stack. Calls that
// have ended do not count, though they stay registered until their history is written: a
// caller who calls again at once was told busy under --max-calls 1. Nor does leaving, the
// call a new one replaces (RFC 3891), which ends as it is answered.
func (p *Phone) addCall(c, leaving *call) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stk == nil {
		return errNoRoom
	}
	up := 0
	for _, o := range p.calls {
		if c.request != "" && o.request == c.request && !o.ended() {
			return errMerged
		}
		if o != leaving && !o.ended() {
			up++
		}
	}
	if up >= p.maxCalls() {
		return errNoRoom
	}
	p.calls[c.id] = c
	p.callWG.Add(1)
	return nil
}

// errNoRoom is addCall's refusal at the maximum of calls, or while the phone stops.
var errNoRoom = errors.New("no room for another call")

// mergeKey is what tells a request from a copy of it that came by another path (RFC 3261
// §8.2.2.2): its Call-ID, From tag and CSeq.
func mergeKey(req *sip.Request) string {
	var tag string
	if from := req.From(); from != nil {
		tag, _ = from.Params.Get("tag")
	}
	var seq uint32
	if cs := req.CSeq(); cs != nil {
		seq = cs.SeqNo
	}
	return fmt.Sprintf("%s\x00%s\x00%d", req.CallID().Value(), tag, seq)
}

func (p *Phone) maxCalls() int {
	if p.cfg.MaxCalls > 0 {
		return p.cfg.MaxCalls
	}
	return 4
}

// removeCall forgets a call after its final event.
func (p *Phone) removeCall(c *call) {
	p.mu.Lock()
	delete(p.calls, c.id)
	if c.dialogID != "" {
		delete(p.dialogs, c.dialogID)
	}
	p.mu.Unlock()
	p.xfer.forget(c.id, nil)
	close(c.done)
	p.callWG.Done()
}

// update changes a call's status and publishes it. The change and the publish are one step
// under the phone's lock (taken before the call's, as Calls does): the talk loop and the
// user's goroutine (Mute) both update, and a snapshot taken by one could go out after the
// other's newer one, an "answered" after "ended" leaving the TUI a call that never goes.
// Nothing changes after the end: a late Mute would have published a second "ended".
func (p *Phone) update(c *call, f func(s *CallStatus)) CallStatus {
	p.mu.Lock()
	c.mu.Lock()
	if c.status.State == CallEnded {
		s := c.status
		c.mu.Unlock()
		p.mu.Unlock()
		return s
	}
	f(&c.status)
	c.status.Time = p.clock.Now()
	s := c.status
	c.mu.Unlock()
	p.bus.publish(s)
	p.mu.Unlock()
	c.rating.observe(s) // a hold marks the quality window (callquality.go)
	p.log.Info("call", "id", s.ID, "state", s.State.String(), "peer", s.Peer, "code", s.Code, "reason", s.Reason)
	return s
}

// end publishes the final state of a call and records it in the history.
func (p *Phone) end(c *call, code int, reason, by string, failure Failure, err error) {
	p.handOver(c) // a transfer's new call takes the place of this one: said before its end
	now := p.clock.Now()
	s := p.update(c, func(s *CallStatus) {
		s.State, s.Code, s.Reason, s.By, s.Failure, s.Err, s.Ended = CallEnded, code, reason, by, failure, err, now
		s.Quality = c.rating.summary()
	})
	if p.cfg.Calls != nil {
		c.mu.Lock()
		if s.Dialled != "" { // redirected: the history keeps what was dialled, for a redial
			s.Peer, s.PeerName = s.Dialled, c.dialledName
		}
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if err := p.cfg.Calls.SaveCall(ctx, s); err != nil {
			// Info: the store's owner says once that the history cannot be written (a full
			// disk would otherwise print a line per call).
			p.log.Info("history: call not recorded", "call", s.ID, "err", err)
		}
		cancel()
	}
}

// publishStats reports a call's media statistics.
func (p *Phone) publishStats(c *call, ms *media.Session, final bool) {
	st := ms.Stats()
	sec, _ := ms.SRTPStats()
	r, mos := c.rateStats(ms, st)
	p.mu.Lock()
	p.bus.publish(MediaStats{Time: p.clock.Now(), CallID: c.id, Account: c.accountName(), Final: final, Stats: StreamStats{
		PacketsSent: st.PacketsSent, PacketsReceived: st.PacketsReceived, Lost: st.Lost, NeverArrived: st.NeverArrived, Late: st.Late,
		Duplicate: st.Duplicate, Concealed: st.Concealed, Dropped: st.Dropped, Jitter: st.Jitter, RTT: st.RTT,
		SRTPAuthFailed: sec.AuthFailed, SRTPReplayed: sec.Replayed, MOS: mos, R: r,
	}})
	p.mu.Unlock()
}
