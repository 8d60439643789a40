package phone

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Transfer works with calls that already exist: REFER and NOTIFY are in-dialog requests that
// leave a call's own state alone until the BYE that ends it, so they are kept outside the call
// state machine (phone/call). What transfer needs of a call is its SIP dialog: to send REFER
// and NOTIFY with the dialog's CSeq and route, to check an incoming request's CSeq, and the
// dialog's Call-ID and tags for Replaces (RFC 3891).

// dialogRef is what transfer needs of either side's sipgo dialog session.
type dialogRef struct {
	do  func(ctx context.Context, req *sip.Request) (*sip.Response, error)
	ctx context.Context // ends with the dialog
	// cseqMu guards remoteCSeq, the highest CSeq of the far end's REFERs and NOTIFYs taken in
	// this dialog (checkCSeq). Kept here, not in sipgo's session: see checkCSeq.
	cseqMu     sync.Mutex
	remoteCSeq uint32
	// remote is the far end's target (its Contact): the Request-URI of our requests, until
	// c's target is refreshed.
	remote sip.Uri
	c      *call
	// callID and the tags: local is our tag in this dialog, remote the far end's.
	callID, localTag, remoteTag string
	// unwatch stops the cleanup that runs when ctx ends (forget).
	unwatch func() bool
	// refers counts the far end's REFERs we accepted in this dialog: the NOTIFYs of the second
	// and later ones name theirs (referEvent).
	refers atomic.Int32
}

// transferState is the phone's transfer bookkeeping: the dialog of every answered call, and
// the REFERs we sent whose NOTIFYs we are waiting for.
type transferState struct {
	mu      sync.Mutex
	dialogs map[string]*dialogRef // by our call id
	subs    map[string]*referSub  // by our call id: the transfer in progress on that call
	busy    map[string]*successor // by our call id: the REFER from the far end being carried out
	// successors are the new calls of the REFERs being carried out, by the old call's id
	// (handOver).
	successors map[string]*successor
	// late are transfers whose call's dialog ended first, by its dialog id, until their
	// outcome or time is up (finalNotifyGrace): their final NOTIFY may still come.
	late map[string]*referSub
}

// successor is the new call a transfer asked of us places in the old call's place. It is
// filed before our 202, when its id is not known yet (ready closes once it is, or once the
// transfer gave up): a transferor may hang up the moment it has the 202. said: its
// CallReplaced is published (or being published), at most once.
type successor struct {
	newID string
	ready chan struct{}
	said  bool
}

// successorWait bounds how long the old call's end waits for the new call's id (Dial returns
// as soon as the call exists).
const successorWait = 2 * time.Second

// expectSuccessor files s as old's coming successor (before the REFER's 202).
func (x *transferState) expectSuccessor(old string, s *successor) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.successors == nil {
		x.successors = map[string]*successor{}
	}
	x.successors[old] = s
}

// setSuccessor names the call that is to take its old call's place.
func (x *transferState) setSuccessor(s *successor, newID string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if s.newID == "" {
		s.newID = newID
		close(s.ready)
	}
}

// claimSuccessor returns old's successor once, waiting for its id if it is being placed: the
// old call's end announces it (handOver).
func (x *transferState) claimSuccessor(old string) (string, bool) {
	x.mu.Lock()
	s := x.successors[old]
	x.mu.Unlock()
	if s == nil {
		return "", false
	}
	return x.claimOwn(s)
}

// claimOwn returns s's call id once, waiting for it if it is being placed.
func (x *transferState) claimOwn(s *successor) (string, bool) {
	select {
	case <-s.ready:
	case <-time.After(successorWait):
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if s.said || s.newID == "" {
		return "", false
	}
	s.said = true
	return s.newID, true
}

// dropSuccessor forgets s, old's successor (the transfer is over, or never placed its call),
// unless another REFER's has taken its place meanwhile: a transferor may send the next as soon
// as the last one's outcome is known, before this one's bookkeeping is done.
func (x *transferState) dropSuccessor(old string, s *successor) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if s.newID == "" {
		close(s.ready) // nobody is coming: a waiting end goes on (called once per REFER)
	}
	if x.successors[old] == s {
		delete(x.successors, old)
	}
}

// trackDialog remembers an answered call's dialog for transfer; incoming.go and outgoing.go
// call it once the dialog exists. It is forgotten when the dialog ends.
func (p *Phone) trackDialog(c *call, sess any) {
	d := &dialogRef{c: c}
	switch s := sess.(type) {
	case *sipgo.DialogClientSession:
		// We sent the INVITE: the far end's CSeq space is its own and starts wherever it
		// likes, so no request of it is out of order yet (RFC 3261 12.1.2: empty).
		d.do, d.ctx, d.callID = confirmedDo(s, s.Do), s.Context(), string(*s.InviteRequest.CallID())
		if cont := s.InviteResponse.Contact(); cont != nil {
			d.remote = cont.Address
		} else {
			d.remote = s.InviteRequest.Recipient
		}
		d.localTag, _ = s.InviteRequest.From().Params.Get("tag")
		d.remoteTag, _ = s.InviteResponse.To().Params.Get("tag")
	case *sipgo.DialogServerSession:
		d.do, d.ctx, d.callID = confirmedDo(s, s.Do), s.Context(), string(*s.InviteRequest.CallID())
		if cseq := s.InviteRequest.CSeq(); cseq != nil {
			d.remoteCSeq = cseq.SeqNo // the far end's INVITE: its next requests go above it
		}
		if cont := s.InviteRequest.Contact(); cont != nil {
			d.remote = cont.Address
		}
		d.localTag, _ = s.InviteRequest.To().Params.Get("tag") // sipgo's ReadInvite chose it
		d.remoteTag, _ = s.InviteRequest.From().Params.Get("tag")
	default:
		return
	}
	do := d.do
	d.do = func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		var res *sip.Response
		err := c.sendInDialog(ctx, func() (err error) { res, err = do(ctx, req); return err })
		return res, err
	}
	d.remote.Headers = nil
	x := &p.xfer
	x.mu.Lock()
	if x.dialogs == nil {
		x.dialogs = map[string]*dialogRef{}
	}
	x.dialogs[c.id] = d
	id := c.id
	d.unwatch = context.AfterFunc(d.ctx, func() { x.forget(id, d) })
	x.mu.Unlock()
}

// forget drops what transfer keeps of call id: its dialog (d, or whichever is filed when d is
// nil) and a transfer still waiting for NOTIFYs, which waits no more. It runs when the dialog
// ends, and when the call is removed (removeCall): sipgo ends a dialog's context only on a
// BYE answered 200, so a BYE that timed out (the far end gone, a media timeout) kept the
// dialog here, and a pending transfer's timer reported on the ended call 90 s later.
func (x *transferState) forget(id string, d *dialogRef) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if cur := x.dialogs[id]; cur != nil && (d == nil || cur == d) {
		delete(x.dialogs, id)
		if cur.unwatch != nil {
			cur.unwatch()
		}
	}
	if s := x.subs[id]; s != nil {
		delete(x.subs, id)
		if s.timer != nil {
			s.timer.Stop()
		}
		if s.dialogID == "" { // nothing to find it by (a sub in subs is never done: claim takes it out)
			s.done = true
			return
		}
		// Its final NOTIFY may be a moment behind the BYE, or long after it (a target that
		// rings): kept for it as long as it would have been with the call up (onNotify), then
		// given up as before, without a word on the ended call.
		if x.late == nil {
			x.late = map[string]*referSub{}
		}
		x.late[s.dialogID] = s
		s.timer = time.AfterFunc(max(finalNotifyGrace, time.Until(s.until)), func() {
			x.mu.Lock()
			defer x.mu.Unlock()
			if x.late[s.dialogID] == s {
				delete(x.late, s.dialogID)
				s.done = true
			}
		})
	}
}

// lateFor finds the transfer a NOTIFY is for whose call's dialog has ended (forget), by the
// NOTIFY's dialog, or nil. x.mu is held.
func (x *transferState) lateFor(req *sip.Request) *referSub { return byDialog(x.late, req) }

// ackWait bounds how long a REFER or NOTIFY waits for the ACK of the call's 200 OK
// (waitConfirmed).
const ackWait = 2 * time.Second

// dialogState is what waitConfirmed needs of either side's sipgo dialog session.
type dialogState interface {
	LoadState() sip.DialogState
	Context() context.Context
}

// waitConfirmed holds back a REFER or NOTIFY until the ACK of the call's 200 OK has left
// (our call) or arrived (their call), which sipgo reports as the confirmed state: until the
// dialog ends, ctx ends, or ackWait passes once the 200 is out, whichever is first. A call
// counts as answered (dialogOf) a moment before that, and the user or far end may use it:
//   - their call: sipgo's DialogServerSession.WriteResponse stores the 200 in the session
//     (InviteResponse) while Do reads it to build our request (a data race, and a REFER
//     without our tag if it went first); the confirmed state is stored after it.
//   - our call: the far end REFERs us right after its 200, while our call goroutine is still
//     taking the answer in. Our NOTIFY must not go first: sipgo v1.7.3's
//     DialogClientSession.WriteAck gives the ACK the dialog's last CSeq, not the INVITE's
//     (RFC 3261 13.2.2.4), so an ACK built after the NOTIFY carries the NOTIFY's CSeq, and
//     the far end (sipgo's ReadAck in a dialtone) does not take it as the ACK of its 200.
func waitConfirmed(ctx context.Context, s dialogState) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	giveUp := time.NewTimer(ackWait)
	defer giveUp.Stop()
	for s.LoadState() < sip.DialogStateConfirmed {
		select {
		case <-tick.C:
		case <-giveUp.C:
			if s.LoadState() < sip.DialogStateEstablished {
				return errors.New("no 200 OK sent or received in the dialog")
			}
			return nil // no ACK yet (it may still come): go on rather than hold the transfer
		case <-s.Context().Done():
			return fmt.Errorf("dialog ended: %w", context.Cause(s.Context()))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// errCSeqOutOfOrder is a request of the far end whose CSeq is lower than one it sent before
// in the dialog (RFC 3261 12.2.2): answered 500.
var errCSeqOutOfOrder = errors.New("CSeq lower than the far end's last request in the dialog")

// checkCSeq takes the CSeq of a REFER or NOTIFY from the far end (RFC 3261 12.2.2): lower
// than one taken before is out of order; otherwise it becomes the highest taken.
//
// This deliberately does not use sipgo's Dialog.ReadRequest. In sipgo v1.7.3 that moves the
// same counter (remoteCSeqNo) that DialogServerSession.ReadAck compares the ACK's CSeq with,
// for equality. sipgo hands each request to its handler in a goroutine of its own, so when the
// caller's first in-dialog request (our REFER's first NOTIFY, CSeq 2) is taken just before its
// ACK (CSeq 1), ReadAck refused the ACK and every retransmission of it: the dialog never became
// confirmed, the answering goroutine kept waiting for the ACK in WriteResponse (retransmitting
// our 200 for 32 s), talk never started, and a hang-up sent no BYE (TestTransferRefused: 3 in
// 70 runs with -cpu 1, 2 in 5 whole-package runs; TestRequestOvertakesACK forces the order).
// waitConfirmed now keeps our own REFER behind the ACK, but the far end's requests may still
// overtake it. On our outgoing calls ReadRequest also compared the far end's CSeq with our own INVITE's,
// refusing (500) a transferee whose CSeq counts from below ours (TestFarEndCSeqIsItsOwn).
func (d *dialogRef) checkCSeq(req *sip.Request) error {
	cseq := req.CSeq()
	if cseq == nil {
		return errors.New("no CSeq")
	}
	d.cseqMu.Lock()
	defer d.cseqMu.Unlock()
	if cseq.SeqNo < d.remoteCSeq {
		return fmt.Errorf("%w: %d after %d", errCSeqOutOfOrder, cseq.SeqNo, d.remoteCSeq)
	}
	d.remoteCSeq = cseq.SeqNo
	return nil
}

// confirmedDo is a session's Do that waits for the dialog to be confirmed first.
func confirmedDo(s dialogState, do func(context.Context, *sip.Request) (*sip.Response, error)) func(context.Context, *sip.Request) (*sip.Response, error) {
	return func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
		if err := waitConfirmed(ctx, s); err != nil {
			return nil, fmt.Errorf("%s before the ACK: %w", req.Method, err)
		}
		return do(ctx, req)
	}
}

// dialogOf is an answered call's dialog, nil when it has none (ringing, ended). An
// incoming call's dialog is known from its INVITE on, but transfer waits for the answer.
func (p *Phone) dialogOf(id string) *dialogRef {
	p.xfer.mu.Lock()
	d := p.xfer.dialogs[id]
	p.xfer.mu.Unlock()
	if d == nil {
		return nil
	}
	p.mu.Lock()
	c := p.calls[id]
	p.mu.Unlock()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	up := c.answered || c.offered
	c.mu.Unlock()
	if !up || c.ended() {
		return nil
	}
	return d
}

// callByDialog finds the answered call whose dialog has this Call-ID, our tag local and the far end's
// tag remote (how an INVITE with Replaces names the call it replaces).
func (p *Phone) callByDialog(callID, local, remote string) (string, *dialogRef) {
	p.xfer.mu.Lock()
	found := ""
	for id, d := range p.xfer.dialogs {
		if d.callID == callID && d.localTag == local && d.remoteTag == remote {
			found = id
		}
	}
	p.xfer.mu.Unlock()
	if found == "" {
		return "", nil
	}
	if d := p.dialogOf(found); d != nil {
		return found, d
	}
	return "", nil
}

// inDialogRequest is a request of method in dialog d, addressed to its far end; sipgo's
// session fills in From, To, Call-ID, CSeq, Route and Contact when it is sent.
func (p *Phone) inDialogRequest(d *dialogRef, method sip.RequestMethod) *sip.Request {
	req := sip.NewRequest(method, d.target())
	req.AppendHeader(sip.NewHeader("User-Agent", p.userAgent()))
	return req
}

// transferParser is sipgo's parser without its own Refer-To and Referred-By parsers: sipgo
// drops a whole message whose Refer-To it cannot parse, so the sender of a REFER to a garbage
// URI would get no answer at all and retransmit for 32 s. Kept as plain headers, they reach
// onRefer, which answers 400 (parseReferTo).
func transferParser() *sip.Parser {
	m := map[string]sip.HeaderParser{}
	for k, v := range sip.DefaultHeadersParser() {
		if k != "refer-to" && k != "referred-by" {
			m[k] = v
		}
	}
	return sip.NewParser(sip.WithHeadersParsers(m))
}

// target is the far end's current target in d: its Contact, as refreshed by a re-INVITE or
// UPDATE since (dialog_target.go).
func (d *dialogRef) target() sip.Uri {
	if d.c == nil {
		return d.remote
	}
	return d.c.targetOr(d.remote)
}
