package call

// Input is something that happened to a call: the network answered, the user pressed a key,
// a timer ran out. Each is a small value type.
type Input interface{ input() }

// Inputs.
type (
	// Dial starts an outgoing call.
	Dial struct{}
	// Response is a provisional or final response to our INVITE. SDPOK says whether a body
	// was there and usable (for 183 and 2xx; the phone runs the SDP negotiation).
	Response struct {
		Code   int
		Reason string
		HasSDP bool
		SDPOK  bool
		// Insecure: the body was refused because it would not encrypt the media our policy
		// requires encrypted (or encrypts what our policy keeps plain); Reason-like text in Why.
		Insecure bool
		Why      string
		// Stale: a 401 or 407 whose challenge says stale=true (RFC 7616 3.3: the password was
		// right, the nonce old), which is answered once more with the same password.
		Stale bool
	}
	// Failed is a failure on our side before any final response: no route, no RTP port,
	// timeout, refused, DNS. Failure classifies it (NoFailure means FailureNetwork).
	Failed struct {
		Reason  string
		Failure Failure
	}
	// CredentialsFailed means a challenge came but our password source failed.
	CredentialsFailed struct {
		Code   int
		Reason string
	}
	// RingTimeout is our own limit on how long an outgoing call may ring.
	RingTimeout struct{}
	// Redirected is our INVITE sent again to a target a 3xx response named (RFC 3261
	// 8.1.3.4): a server that has not challenged it yet may, so the far end's challenge may
	// be answered again. The proxy's (407) stays answered: the INVITE goes the same way.
	Redirected struct{}
	// Refuse is our own refusal of an incoming call we cannot take (no route back to the
	// caller, an INVITE sipgo cannot make a dialog of).
	Refuse struct {
		Code    int
		Reason  string
		Failure Failure
	}
	// Answer is the user taking an incoming call.
	Answer struct{}
	// AnswerReady says whether media and an SDP answer could be prepared after Answer.
	// OfferInOK: their INVITE had no offer, so what was prepared is our offer, for the 200.
	AnswerReady struct{ OK, OfferInOK bool }
	// AckTimeout is our 200 OK never acknowledged: to their INVITE, or to a re-INVITE.
	AckTimeout struct{}
	// AnswerTooLate is the caller's CANCEL that won the race with our 200: the INVITE
	// transaction was over before the 200 went out, so there is no call to hang up.
	AnswerTooLate struct{}
	// Reject is the user refusing an incoming call with Code (486, 603, ...).
	Reject struct {
		Code   int
		Reason string
	}
	// Hangup is the user ending the call, whatever its state.
	Hangup struct{}
	// RemoteCancel is the caller's CANCEL of an incoming call.
	RemoteCancel struct{}
	// RemoteBye is the far end's BYE.
	RemoteBye struct{}
	// MediaTimeout is an answered call that received no RTP or RTCP for the RTP timeout.
	MediaTimeout struct{ Reason string }
	// Shutdown is the phone stopping.
	Shutdown struct{}
)

func (Dial) input()              {}
func (Response) input()          {}
func (Failed) input()            {}
func (CredentialsFailed) input() {}
func (RingTimeout) input()       {}
func (Redirected) input()        {}
func (Refuse) input()            {}
func (Answer) input()            {}
func (AnswerReady) input()       {}
func (AckTimeout) input()        {}
func (AnswerTooLate) input()     {}
func (Reject) input()            {}
func (Hangup) input()            {}
func (RemoteCancel) input()      {}
func (RemoteBye) input()         {}
func (MediaTimeout) input()      {}
func (Shutdown) input()          {}

// Effect is something the call's owner must do, in the order given.
type Effect interface{ effect() }

// Effects.
type (
	// SendInvite sends the initial INVITE.
	SendInvite struct{}
	// ResendWithAuth answers a digest challenge: the INVITE again, with credentials.
	ResendWithAuth struct{}
	// SendCancel cancels our ringing INVITE.
	SendCancel struct{}
	// SendAck acknowledges a 2xx.
	SendAck struct{}
	// SendBye ends an established dialog.
	SendBye struct{}
	// Respond sends a response to the incoming INVITE.
	Respond struct {
		Code   int
		Reason string
	}
	// PrepareAnswer opens the media and negotiates the SDP answer; its result comes back as
	// AnswerReady.
	PrepareAnswer struct{}
	// StartMedia starts the RTP session; Early plays the far end's early media without
	// sending.
	StartMedia struct{ Early bool }
	// StopEarlyMedia stops playing the early media of a target that redirected the call.
	StopEarlyMedia struct{}
	// Publish tells subscribers the call's new state.
	Publish struct{ State State }
	// End closes the call with its outcome (publish, record in history, free resources).
	End struct{ Outcome Outcome }
)

func (SendInvite) effect()     {}
func (ResendWithAuth) effect() {}
func (SendCancel) effect()     {}
func (SendAck) effect()        {}
func (SendBye) effect()        {}
func (Respond) effect()        {}
func (PrepareAnswer) effect()  {}
func (StartMedia) effect()     {}
func (StopEarlyMedia) effect() {}
func (Publish) effect()        {}
func (End) effect()            {}

// Step is the whole life of a call: from m, after in, the call is in the returned machine and
// its owner must carry out the effects. An input that does not apply in m's state (a late
// provisional response, a second hang-up) changes nothing and asks for nothing.
func Step(m Machine, in Input) (Machine, []Effect) {
	if m.State == Ended {
		return m, nil
	}
	switch in := in.(type) {
	case Dial:
		if m.State == Idle && m.Outgoing {
			return m.to(Calling), []Effect{SendInvite{}, Publish{Calling}}
		}
	case Response:
		return m.onResponse(in)
	case Failed:
		if m.Outgoing && (m.State == Idle || m.Ringing()) {
			f := in.Failure
			if f == NoFailure {
				f = FailureNetwork
			}
			return m.end(Outcome{Reason: in.Reason, By: Local, Failure: f})
		}
	case CredentialsFailed:
		if m.Outgoing && m.Ringing() {
			return m.end(Outcome{Code: in.Code, Reason: in.Reason, By: Remote, Failure: FailureConfig})
		}
	case Redirected:
		if !m.Outgoing || !m.Ringing() || m.State == Idle {
			return m, nil
		}
		// The first target's ringing and early media are over: the new one rings afresh.
		var fx []Effect
		if m.State == EarlyMedia {
			fx = append(fx, StopEarlyMedia{})
		}
		m.UserAuthSent, m.StaleRetried = false, false
		return m.to(Calling), append(fx, Publish{Calling})
	case RingTimeout:
		if m.Outgoing && m.Ringing() {
			return m.end(Outcome{Code: 487, Reason: "ring timeout", By: Local, Failure: FailureNoAnswer}, SendCancel{})
		}
	case Answer:
		if m.State == Incoming {
			return m.to(Answering), []Effect{PrepareAnswer{}}
		}
	case AnswerReady:
		if m.State == Answering && in.OK && in.OfferInOK {
			// Answered on the wire; the media and the "answered" event wait for the answer
			// in the ACK, which no offer of either side may cross (RFC 3264 §4).
			m.OfferInOK, m.Hold.AwaitingAck = true, true
			return m.to(Answered), []Effect{Respond{200, "OK"}}
		}
		if m.State == Answering && in.OK {
			// Published before the 200 goes out: the 200 waits for the ACK, and the user
			// should see the call answered the moment they answered it.
			return m.to(Answered), []Effect{StartMedia{}, Publish{Answered}, Respond{200, "OK"}}
		}
		if m.State == Answering {
			return m.end(Outcome{Code: 488, Reason: "Not Acceptable Here", By: Local, Failure: FailureDeclined}, Respond{488, "Not Acceptable Here"})
		}
	case AnswerTooLate:
		if !m.Outgoing && m.State == Answered {
			return m.end(Outcome{Code: 487, Reason: "cancelled by caller", By: Remote, Failure: FailureNoAnswer})
		}
	case AckTimeout: // our 200 to their INVITE, or to a re-INVITE in a call either side made
		if m.Established() {
			return m.end(Outcome{Code: 408, Reason: "no ACK", By: Local, Failure: FailureNetwork}, SendBye{})
		}
	case Refuse:
		if m.State == Incoming {
			return m.end(Outcome{Code: in.Code, Reason: in.Reason, By: Local, Failure: in.Failure}, Respond{in.Code, in.Reason})
		}
	case Reject:
		if m.State == Incoming {
			return m.end(Outcome{Code: in.Code, Reason: in.Reason, By: Local}, Respond{in.Code, in.Reason})
		}
	case Hangup:
		return m.hangup(Outcome{Code: 487, Reason: "cancelled", By: Local, Failure: FailureNoAnswer})
	case HoldRequest, OfferResult, RetryOffer, RemoteOffer, OfferAnswered, AckAnswer:
		return m.stepHold(in)
	case Shutdown:
		if m.State == Incoming || m.State == Answering {
			return m.end(Outcome{Code: 480, Reason: "Temporarily Unavailable", By: Local}, Respond{480, "Temporarily Unavailable"})
		}
		return m.hangup(Outcome{Code: 487, Reason: "cancelled", By: Local, Failure: FailureNoAnswer})
	case RemoteCancel:
		if !m.Outgoing && m.Ringing() {
			return m.end(Outcome{Code: 487, Reason: "cancelled by caller", By: Remote, Failure: FailureNoAnswer})
		}
	case RemoteBye:
		if m.Established() {
			return m.end(Outcome{Reason: "BYE", By: Remote})
		}
	case MediaTimeout:
		if m.Established() {
			return m.end(Outcome{Reason: in.Reason, By: Local, Failure: FailureMedia}, SendBye{})
		}
	}
	return m, nil
}

// onResponse follows our INVITE's responses.
func (m Machine) onResponse(r Response) (Machine, []Effect) {
	if !m.Outgoing || !m.Ringing() {
		return m, nil // a retransmitted 2xx after answer is the transaction layer's business
	}
	switch {
	case r.Code < 180:
		return m, nil // 100 Trying, or another provisional that says nothing
	case r.Code < 200 && r.HasSDP && r.SDPOK:
		// 183, or a 180 with SDP: some carriers and gateways play their ringback in it (RFC
		// 3960's gateway model), and we make no ringback of our own that it would replace.
		if m.State == EarlyMedia {
			return m, nil
		}
		return m.to(EarlyMedia), []Effect{StartMedia{Early: true}, Publish{EarlyMedia}}
	case r.Code < 200:
		if m.State != Calling {
			return m, nil // ringing already, or early media playing: a 180 now changes nothing
		}
		return m.to(Ringing), []Effect{Publish{Ringing}}
	case r.Code < 300:
		if !r.SDPOK {
			// An answer we cannot use: acknowledge, then hang up (RFC 3261 13.2.2.4).
			o := Outcome{Code: 488, Reason: "Not Acceptable Here", By: Local, Failure: FailureDeclined}
			if r.Insecure {
				o.Reason, o.Failure = "Not Acceptable Here ("+r.Why+")", FailureInsecure
			}
			return m.end(o, SendAck{}, SendBye{})
		}
		return m.to(Answered), []Effect{StartMedia{}, SendAck{}, Publish{Answered}}
	case r.Code == 401 && m.CanAuth && !m.UserAuthSent:
		m.UserAuthSent = true
		return m, []Effect{ResendWithAuth{}}
	case r.Code == 407 && m.CanAuth && !m.ProxyAuthSent:
		m.ProxyAuthSent = true
		return m, []Effect{ResendWithAuth{}}
	case (r.Code == 401 || r.Code == 407) && m.CanAuth && r.Stale && !m.StaleRetried:
		m.StaleRetried = true
		return m, []Effect{ResendWithAuth{}}
	}
	f := FailureFor(r.Code)
	switch {
	case r.Code == 403 && !m.AuthSent():
		f = FailureDeclined // forbidden without credentials: a policy, not a wrong password
	case m.SRTPRequired && (r.Code == 488 || r.Code == 606 || r.Code == 415):
		f = FailureInsecure // it could not take our RTP/SAVP offer: it would not encrypt
	}
	return m.end(Outcome{Code: r.Code, Reason: r.Reason, By: Remote, Failure: f})
}

// hangup ends the call from our side in whatever way its state needs.
func (m Machine) hangup(ringing Outcome) (Machine, []Effect) {
	switch {
	case m.State == Idle: // nothing sent yet: nothing to cancel, and no response code
		return m.end(Outcome{Reason: ringing.Reason, By: Local, Failure: ringing.Failure})
	case m.Outgoing && m.Ringing():
		return m.end(ringing, SendCancel{})
	case m.State == Incoming || m.State == Answering:
		return m.end(Outcome{Code: 486, Reason: "Busy Here", By: Local}, Respond{486, "Busy Here"})
	case m.Established():
		return m.end(Outcome{Reason: "BYE", By: Local}, SendBye{})
	}
	return m, nil
}

func (m Machine) to(s State) Machine { m.State = s; return m }

// end moves to Ended after the given effects, and says so last.
func (m Machine) end(o Outcome, before ...Effect) (Machine, []Effect) {
	m.State, m.Outcome = Ended, o
	return m, append(before, End{o})
}

// FailureFor classifies a final response to an INVITE.
func FailureFor(code int) Failure {
	switch code {
	case 486, 600:
		return FailureBusy
	case 408, 480, 487:
		return FailureNoAnswer
	case 404, 484, 604:
		return FailureNotFound
	case 401, 407, 403:
		return FailureAuth
	}
	if code >= 300 {
		return FailureDeclined
	}
	return NoFailure
}
