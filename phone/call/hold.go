package call

import "time"

// Hold and resume (RFC 3264 8.4, RFC 6337 5.3) on an answered call. Either side changes the
// session with a new offer in the dialog (a re-INVITE, or an UPDATE from the far end); only
// one offer may be outstanding at a time, so two offers that cross (glare) are refused with
// 491 and the loser retries after a random delay (RFC 3261 14.1).
//
// The user's wish (Want) is kept apart from what the last completed offer/answer settled
// (Local), so a hold asked for while an offer is in flight is not lost: once the dialog is
// free again the machine offers whatever is still missing.

// Hold is the hold side of a call's machine.
type Hold struct {
	Want   bool // the user asked for hold, and not for resume since
	Local  bool // the far end knows we hold it: our sendonly/inactive offer or answer went through
	Remote bool // the far end holds us: its last offer or answer refuses to receive
	// Pending: our re-INVITE is in flight; Offered is what it asks (hold or resume) and OfferDir
	// the direction it offers.
	Pending  bool
	Offered  bool
	OfferDir Direction
	// Retrying: our re-INVITE met 491 and waits for its retry timer; Retries counts them.
	Retrying bool
	Retries  uint8
	// Answering: the far end's offer is being answered, with our hold as Answered.
	Answering bool
	Answered  bool
	// AwaitingAck: our offer went in our 200 to their re-INVITE without SDP, and its answer
	// comes in their ACK: no new offer of ours, nor of theirs, until then (RFC 3264 §4).
	AwaitingAck bool
}

// Direction is an SDP direction attribute (RFC 3264 5.1) of our offer; the values are
// phone/sdp's.
type Direction uint8

const (
	SendRecv Direction = 0
	SendOnly Direction = 1
	RecvOnly Direction = 2
	Inactive Direction = 3
)

func (d Direction) sends() bool { return d == SendRecv || d == SendOnly }

// maxGlareRetries bounds how often one hold or resume is retried after 491.
const maxGlareRetries = 5

// Inputs of hold and resume.
type (
	// HoldRequest is the user asking for hold (true) or resume (false).
	HoldRequest struct{ Hold bool }
	// OfferResult is the final response to our re-INVITE. OK says a 2xx carried an answer we
	// can use; RemoteHold that the answer refuses to receive. Code 0 means no response came
	// (transaction timeout, transport error) and counts as 408.
	OfferResult struct {
		Code       int
		Reason     string
		OK         bool
		RemoteHold bool
	}
	// RetryOffer is the glare timer running out.
	RetryOffer struct{}
	// RemoteOffer is the far end's offer in the dialog (re-INVITE or UPDATE with SDP).
	RemoteOffer struct{}
	// OfferAnswered says whether the far end's offer could be answered (AnswerOffer) and
	// whether it holds us (a=sendonly, a=inactive or c=0.0.0.0). InAck: their re-INVITE had
	// no SDP, so our 200 carries an offer, whose answer comes in the ACK (AckAnswer).
	OfferAnswered struct {
		OK         bool
		RemoteHold bool
		InAck      bool
	}
	// AckAnswer is the far end's answer, in its ACK, to the offer we made in our 200 to its
	// re-INVITE without SDP (RFC 3261 14.2): OK when usable, RemoteHold when it holds us (a
	// CUCM-style hold). Our offer repeated our hold, so only theirs can change. An ACK without
	// an answer, or a 200 that could not be sent, comes as an unusable one; no ACK within 64*T1
	// is AckTimeout, which ends the call. To the offer in our 200 to their first INVITE
	// (Machine.OfferInOK) it starts the media, or, unusable, ends the call: Insecure and Why
	// as in Response.
	AckAnswer struct {
		OK         bool
		RemoteHold bool
		Insecure   bool
		Why        string
	}
)

func (AckAnswer) input()     {}
func (HoldRequest) input()   {}
func (OfferResult) input()   {}
func (RetryOffer) input()    {}
func (RemoteOffer) input()   {}
func (OfferAnswered) input() {}

// Effects of hold and resume.
type (
	// SendReinvite offers the session again with direction Dir and our SDP version bumped;
	// the final response comes back as OfferResult.
	SendReinvite struct{ Dir Direction }
	// RetryOfferAfter starts the glare timer: a random delay in [Min, Max], then RetryOffer.
	RetryOfferAfter struct{ Min, Max time.Duration }
	// AnswerOffer negotiates an answer to the far end's offer, holding it if Hold (our side
	// sendonly); the result comes back as OfferAnswered.
	AnswerOffer struct{ Hold bool }
	// RespondOffer sends the final response to the far end's offer: 200 with the answer,
	// 488, 491, or 500 with Retry-After.
	RespondOffer struct {
		Code   int
		Reason string
	}
	// UpdateMedia applies the negotiated media; Silent sends and plays nothing (we hold).
	UpdateMedia struct{ Silent bool }
	// HoldChanged tells subscribers that a side put the call on hold or took it off.
	HoldChanged struct {
		Held bool
		By   By
	}
	// HoldFailed says our hold or resume did not go through; the call stays as it was.
	HoldFailed struct {
		Code   int
		Reason string
	}
)

func (SendReinvite) effect()    {}
func (RetryOfferAfter) effect() {}
func (AnswerOffer) effect()     {}
func (RespondOffer) effect()    {}
func (UpdateMedia) effect()     {}
func (HoldChanged) effect()     {}
func (HoldFailed) effect()      {}

// offerDir is what we offer to hold (sendonly; inactive when the far end holds us already)
// or resume (sendrecv: the answer then says whether the far end still holds us).
func offerDir(hold, remote bool) Direction {
	switch {
	case hold && remote:
		return Inactive
	case hold:
		return SendOnly
	}
	return SendRecv
}

// stepHold handles the inputs of hold and resume.
func (m Machine) stepHold(in Input) (Machine, []Effect) {
	if !m.Established() {
		if _, ok := in.(RemoteOffer); ok && m.State != Ended {
			// An offer before the call is set up (before our 200 was acknowledged): not now.
			return m, []Effect{RespondOffer{491, "Request Pending"}}
		}
		return m, nil
	}
	h := &m.Hold
	switch in := in.(type) {
	case HoldRequest:
		h.Want = in.Hold
		return m.reconcile(nil)
	case RetryOffer:
		if !h.Retrying {
			return m, nil
		}
		h.Retrying = false
		return m.reconcile(nil)
	case OfferResult:
		if !h.Pending {
			return m, nil
		}
		h.Pending = false
		return m.offerResult(in)
	case RemoteOffer:
		switch {
		case h.Pending, h.AwaitingAck:
			return m, []Effect{RespondOffer{491, "Request Pending"}} // glare: ours goes first
		case h.Answering:
			// A second offer before we answered the first (RFC 3261 14.2).
			return m, []Effect{RespondOffer{500, "Server Internal Error"}}
		}
		// Answer with what the user wants now: a hold asked for but not yet offered goes
		// through in this answer, and saves a re-INVITE.
		h.Answering, h.Answered = true, h.Want
		return m, []Effect{AnswerOffer{Hold: h.Want}}
	case OfferAnswered:
		if !h.Answering {
			return m, nil
		}
		h.Answering = false
		if !in.OK {
			return m.reconcile([]Effect{RespondOffer{488, "Not Acceptable Here"}})
		}
		fx := []Effect{RespondOffer{200, "OK"}, UpdateMedia{Silent: h.Answered}}
		h.AwaitingAck = in.InAck
		return m.settle(h.Answered, in.RemoteHold, fx)
	case AckAnswer:
		if m.OfferInOK {
			return m.firstAnswer(in)
		}
		if !h.AwaitingAck {
			return m, nil // a late or repeated one
		}
		h.AwaitingAck = false
		if !in.OK {
			return m.reconcile(nil) // unusable: the session stays as it was
		}
		return m.settle(h.Local, in.RemoteHold, []Effect{UpdateMedia{Silent: h.Local}})
	}
	return m, nil
}

// firstAnswer takes the answer, in their ACK, to the offer in our 200 to their INVITE: the
// media starts and the call is published answered, or, with no usable answer, the call ends
// with a BYE as an unusable answer to our INVITE's offer does (RFC 3261 13.2.2.4).
func (m Machine) firstAnswer(in AckAnswer) (Machine, []Effect) {
	m.OfferInOK, m.Hold.AwaitingAck = false, false
	if !in.OK {
		o := Outcome{Code: 488, Reason: "Not Acceptable Here (no usable answer in the ACK)", By: Local, Failure: FailureDeclined}
		if in.Insecure {
			o.Reason, o.Failure = "Not Acceptable Here ("+in.Why+")", FailureInsecure
		}
		return m.end(o, SendBye{})
	}
	// Not settle: nothing here may offer (reconcile's re-INVITE), as the call's talk loop,
	// which sends them, starts next; a hold the user asks for goes to that loop too.
	fx := []Effect{StartMedia{}, Publish{Answered}}
	if in.RemoteHold { // a third party's "black hole" answer (RFC 3725), or a held start
		m.Hold.Remote, m.State = true, Held
		fx = append(fx, Publish{Held}, HoldChanged{Held: true, By: Remote})
	}
	return m, fx
}

// offerResult follows the final response to our re-INVITE.
func (m Machine) offerResult(r OfferResult) (Machine, []Effect) {
	h := &m.Hold
	switch {
	case r.Code >= 200 && r.Code < 300 && r.OK:
		h.Retries = 0
		remote := h.Remote
		if h.OfferDir.sends() {
			remote = r.RemoteHold // an offer that does not send cannot learn whether they would receive
		}
		return m.settle(h.Offered, remote, []Effect{UpdateMedia{Silent: h.Offered}})
	case r.Code == 491 && h.Retries < maxGlareRetries:
		h.Retrying = true
		h.Retries++
		// RFC 3261 14.1: the owner of the Call-ID (who sent the first INVITE) waits longer.
		if m.Outgoing {
			return m, []Effect{RetryOfferAfter{2100 * time.Millisecond, 4 * time.Second}}
		}
		return m, []Effect{RetryOfferAfter{0, 2 * time.Second}}
	case r.Code == 0 || r.Code == 408 || r.Code == 481:
		// The dialog is gone or the far end does not answer (RFC 3261 12.2.1.2).
		reason := r.Reason
		if reason == "" {
			reason = "no response to re-INVITE"
		}
		code := r.Code
		if code == 0 {
			code = 408
		}
		return m.end(Outcome{Code: code, Reason: reason, By: Local, Failure: FailureNetwork}, SendBye{})
	}
	// Refused (488, 500, ...), an unusable answer, or glare without end: the session stays as
	// it was and so does the user's wish, or the machine would offer it again and again.
	h.Want, h.Retries = h.Local, 0
	code, reason := r.Code, r.Reason
	if r.Code >= 200 && r.Code < 300 {
		code, reason = 488, "the answer to our re-INVITE is unusable"
	}
	return m, []Effect{HoldFailed{code, reason}}
}

// settle records a completed offer/answer: our hold and theirs, the state they make, and the
// events for what changed; then offers what the user still wants.
func (m Machine) settle(local, remote bool, fx []Effect) (Machine, []Effect) {
	h := &m.Hold
	var changes []Effect
	if local != h.Local {
		h.Local = local
		changes = append(changes, HoldChanged{Held: local, By: Local})
	}
	if remote != h.Remote {
		h.Remote = remote
		changes = append(changes, HoldChanged{Held: remote, By: Remote})
	}
	if len(changes) > 0 {
		switch {
		case h.Local:
			m.State = Holding
		case h.Remote:
			m.State = Held
		default:
			m.State = Answered
		}
		// The state first: whoever hears of the hold and then asks for the call's status
		// must find it already held.
		fx = append(append(fx, Publish{m.State}), changes...)
	}
	return m.reconcile(fx)
}

// reconcile sends our offer when the user wants another hold state than the settled one and
// the dialog is free for it.
func (m Machine) reconcile(fx []Effect) (Machine, []Effect) {
	h := &m.Hold
	if h.Want == h.Local || h.Pending || h.Retrying || h.Answering || h.AwaitingAck {
		return m, fx
	}
	h.Pending, h.Offered, h.OfferDir = true, h.Want, offerDir(h.Want, h.Remote)
	return m, append(fx, SendReinvite{Dir: h.OfferDir})
}
