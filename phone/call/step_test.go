package call

import (
	"reflect"
	"testing"
)

func out(s State) Machine { m := NewOutgoing(true); m.State = s; return m }
func in(s State) Machine  { m := NewIncoming(); m.State = s; return m }

func ended(m Machine, o Outcome) Machine { m.State, m.Outcome = Ended, o; return m }

func TestStep(t *testing.T) {
	authSent := out(Calling)
	authSent.UserAuthSent = true
	proxyAuthSent := out(Calling)
	proxyAuthSent.ProxyAuthSent = true
	bothSent := proxyAuthSent
	bothSent.UserAuthSent = true
	noAccount := NewOutgoing(false)
	noAccount.State = Calling
	busy := Outcome{Code: 486, Reason: "Busy Here", By: Remote, Failure: FailureBusy}
	cancelled := Outcome{Code: 487, Reason: "cancelled", By: Local, Failure: FailureNoAnswer}
	rejectedHere := Outcome{Code: 486, Reason: "Busy Here", By: Local}
	notAcceptable := Outcome{Code: 488, Reason: "Not Acceptable Here", By: Local, Failure: FailureDeclined}
	srtpRequired := out(Calling)
	srtpRequired.SRTPRequired = true
	noAckAnswer := Outcome{Code: 488, Reason: "Not Acceptable Here (no usable answer in the ACK)", By: Local, Failure: FailureDeclined}
	plainAckAnswer := Outcome{Code: 488, Reason: "Not Acceptable Here (no SRTP in the answer)", By: Local, Failure: FailureInsecure}
	plainAnswer := Outcome{Code: 488, Reason: "Not Acceptable Here (no SRTP in the answer)", By: Local, Failure: FailureInsecure}
	refusedSRTP := Outcome{Code: 488, Reason: "Not Acceptable Here", By: Remote, Failure: FailureInsecure}
	for _, c := range []struct {
		name    string
		from    Machine
		in      Input
		want    Machine
		effects []Effect
	}{
		{"dial", NewOutgoing(true), Dial{}, out(Calling), []Effect{SendInvite{}, Publish{Calling}}},
		{"dial twice", out(Calling), Dial{}, out(Calling), nil},
		{"100 trying", out(Calling), Response{Code: 100}, out(Calling), nil},
		{"180", out(Calling), Response{Code: 180}, out(Ringing), []Effect{Publish{Ringing}}},
		{"183 without SDP rings", out(Calling), Response{Code: 183}, out(Ringing), []Effect{Publish{Ringing}}},
		{"183 with bad SDP rings", out(Calling), Response{Code: 183, HasSDP: true}, out(Ringing), []Effect{Publish{Ringing}}},
		{"183 with SDP plays", out(Ringing), Response{Code: 183, HasSDP: true, SDPOK: true}, out(EarlyMedia), []Effect{StartMedia{Early: true}, Publish{EarlyMedia}}},
		{"180 with SDP plays", out(Calling), Response{Code: 180, HasSDP: true, SDPOK: true}, out(EarlyMedia), []Effect{StartMedia{Early: true}, Publish{EarlyMedia}}},
		{"180 with bad SDP rings", out(Calling), Response{Code: 180, HasSDP: true}, out(Ringing), []Effect{Publish{Ringing}}},
		{"100 with SDP says nothing", out(Calling), Response{Code: 100, HasSDP: true, SDPOK: true}, out(Calling), nil},
		{"183 again", out(EarlyMedia), Response{Code: 183, HasSDP: true, SDPOK: true}, out(EarlyMedia), nil},
		{"180 after early media", out(EarlyMedia), Response{Code: 180}, out(EarlyMedia), nil},
		{"180 twice", out(Ringing), Response{Code: 180}, out(Ringing), nil},
		{"200", out(Ringing), Response{Code: 200, HasSDP: true, SDPOK: true}, out(Answered), []Effect{StartMedia{}, SendAck{}, Publish{Answered}}},
		{"200 from early media", out(EarlyMedia), Response{Code: 200, HasSDP: true, SDPOK: true}, out(Answered), []Effect{StartMedia{}, SendAck{}, Publish{Answered}}},
		{"200 with unusable SDP", out(Calling), Response{Code: 200, HasSDP: true}, ended(out(Calling), notAcceptable), []Effect{SendAck{}, SendBye{}, End{notAcceptable}}},
		{"200 with plain SDP when SRTP is required", srtpRequired, Response{Code: 200, HasSDP: true, Insecure: true, Why: "no SRTP in the answer"}, ended(srtpRequired, plainAnswer), []Effect{SendAck{}, SendBye{}, End{plainAnswer}}},
		{"488 to a required SRTP offer", srtpRequired, Response{Code: 488, Reason: "Not Acceptable Here"}, ended(srtpRequired, refusedSRTP), []Effect{End{refusedSRTP}}},
		{"488 to a plain offer", out(Calling), Response{Code: 488, Reason: "Not Acceptable Here"}, ended(out(Calling), Outcome{Code: 488, Reason: "Not Acceptable Here", By: Remote, Failure: FailureDeclined}), []Effect{End{Outcome{Code: 488, Reason: "Not Acceptable Here", By: Remote, Failure: FailureDeclined}}}},
		{"200 after answer", out(Answered), Response{Code: 200, SDPOK: true}, out(Answered), nil},
		{"401 answered once", out(Calling), Response{Code: 401}, authSent, []Effect{ResendWithAuth{}}},
		{"407 answered once", out(Calling), Response{Code: 407}, proxyAuthSent, []Effect{ResendWithAuth{}}},
		{"401 after the proxy's 407: a second challenge", proxyAuthSent, Response{Code: 401}, bothSent, []Effect{ResendWithAuth{}}},
		{"407 after the far end's 401: a second challenge", authSent, Response{Code: 407}, bothSent, []Effect{ResendWithAuth{}}},
		{"407 again: wrong password", bothSent, Response{Code: 407, Reason: "Proxy Authentication Required"}, ended(bothSent, Outcome{Code: 407, Reason: "Proxy Authentication Required", By: Remote, Failure: FailureAuth}), []Effect{End{Outcome{Code: 407, Reason: "Proxy Authentication Required", By: Remote, Failure: FailureAuth}}}},
		{"401 again: wrong password", authSent, Response{Code: 401, Reason: "Unauthorized"}, ended(authSent, Outcome{Code: 401, Reason: "Unauthorized", By: Remote, Failure: FailureAuth}), []Effect{End{Outcome{Code: 401, Reason: "Unauthorized", By: Remote, Failure: FailureAuth}}}},
		{"redirected: the new target's challenge is answered", authSent, Redirected{}, out(Calling), []Effect{Publish{Calling}}},
		{"redirected: the proxy's stays answered", bothSent, Redirected{}, proxyAuthSent, []Effect{Publish{Calling}}},
		{"redirected while ringing: calling again", out(Ringing), Redirected{}, out(Calling), []Effect{Publish{Calling}}},
		{"redirected during early media: it stops", out(EarlyMedia), Redirected{}, out(Calling), []Effect{StopEarlyMedia{}, Publish{Calling}}},
		{"redirected after the answer: nothing", out(Answered), Redirected{}, out(Answered), nil},
		{"401 again, stale: answered once more", authSent, Response{Code: 401, Stale: true}, staleRetried(authSent), []Effect{ResendWithAuth{}}},
		{"401 stale twice: wrong password", staleRetried(authSent), Response{Code: 401, Reason: "Unauthorized", Stale: true}, ended(staleRetried(authSent), Outcome{Code: 401, Reason: "Unauthorized", By: Remote, Failure: FailureAuth}), []Effect{End{Outcome{Code: 401, Reason: "Unauthorized", By: Remote, Failure: FailureAuth}}}},
		{"401 without an account", noAccount, Response{Code: 401, Reason: "Unauthorized"}, ended(noAccount, Outcome{Code: 401, Reason: "Unauthorized", By: Remote, Failure: FailureAuth}), []Effect{End{Outcome{Code: 401, Reason: "Unauthorized", By: Remote, Failure: FailureAuth}}}},
		{"403 before credentials is a refusal", out(Calling), Response{Code: 403, Reason: "Forbidden"}, ended(out(Calling), Outcome{Code: 403, Reason: "Forbidden", By: Remote, Failure: FailureDeclined}), []Effect{End{Outcome{Code: 403, Reason: "Forbidden", By: Remote, Failure: FailureDeclined}}}},
		{"403 after credentials is auth", authSent, Response{Code: 403, Reason: "Forbidden"}, ended(authSent, Outcome{Code: 403, Reason: "Forbidden", By: Remote, Failure: FailureAuth}), []Effect{End{Outcome{Code: 403, Reason: "Forbidden", By: Remote, Failure: FailureAuth}}}},
		{"486", out(Ringing), Response{Code: 486, Reason: "Busy Here"}, ended(out(Ringing), busy), []Effect{End{busy}}},
		{"password source failed", out(Calling), CredentialsFailed{Code: 407, Reason: "Proxy Authentication Required"}, ended(out(Calling), Outcome{Code: 407, Reason: "Proxy Authentication Required", By: Remote, Failure: FailureConfig}), []Effect{End{Outcome{Code: 407, Reason: "Proxy Authentication Required", By: Remote, Failure: FailureConfig}}}},
		{"transport failure", out(Calling), Failed{Reason: "no response"}, ended(out(Calling), Outcome{Reason: "no response", By: Local, Failure: FailureNetwork}), []Effect{End{Outcome{Reason: "no response", By: Local, Failure: FailureNetwork}}}},
		{"ring timeout", out(Ringing), RingTimeout{}, ended(out(Ringing), Outcome{Code: 487, Reason: "ring timeout", By: Local, Failure: FailureNoAnswer}), []Effect{SendCancel{}, End{Outcome{Code: 487, Reason: "ring timeout", By: Local, Failure: FailureNoAnswer}}}},
		{"ring timeout after answer", out(Answered), RingTimeout{}, out(Answered), nil},
		{"hang up before the INVITE", NewOutgoing(true), Hangup{}, ended(NewOutgoing(true), Outcome{Reason: "cancelled", By: Local, Failure: FailureNoAnswer}), []Effect{End{Outcome{Reason: "cancelled", By: Local, Failure: FailureNoAnswer}}}},
		{"no RTP port before the INVITE", NewOutgoing(true), Failed{Reason: "no RTP port", Failure: FailureNetwork}, ended(NewOutgoing(true), Outcome{Reason: "no RTP port", By: Local, Failure: FailureNetwork}), []Effect{End{Outcome{Reason: "no RTP port", By: Local, Failure: FailureNetwork}}}},
		{"bad SDP offer", NewOutgoing(true), Failed{Reason: "SDP offer", Failure: FailureConfig}, ended(NewOutgoing(true), Outcome{Reason: "SDP offer", By: Local, Failure: FailureConfig}), []Effect{End{Outcome{Reason: "SDP offer", By: Local, Failure: FailureConfig}}}},
		{"failure after answer is not a call failure", out(Answered), Failed{Reason: "late"}, out(Answered), nil},
		{"hang up while ringing", out(Ringing), Hangup{}, ended(out(Ringing), cancelled), []Effect{SendCancel{}, End{cancelled}}},
		{"hang up while answered", out(Answered), Hangup{}, ended(out(Answered), Outcome{Reason: "BYE", By: Local}), []Effect{SendBye{}, End{Outcome{Reason: "BYE", By: Local}}}},
		{"remote BYE", out(Answered), RemoteBye{}, ended(out(Answered), Outcome{Reason: "BYE", By: Remote}), []Effect{End{Outcome{Reason: "BYE", By: Remote}}}},
		{"remote BYE while ringing is not ours", out(Ringing), RemoteBye{}, out(Ringing), nil},
		{"media timeout", out(Answered), MediaTimeout{Reason: "no RTP or RTCP for 30s"}, ended(out(Answered), Outcome{Reason: "no RTP or RTCP for 30s", By: Local, Failure: FailureMedia}), []Effect{SendBye{}, End{Outcome{Reason: "no RTP or RTCP for 30s", By: Local, Failure: FailureMedia}}}},
		{"shutdown while ringing out", out(Calling), Shutdown{}, ended(out(Calling), cancelled), []Effect{SendCancel{}, End{cancelled}}},
		{"shutdown while talking", in(Answered), Shutdown{}, ended(in(Answered), Outcome{Reason: "BYE", By: Local}), []Effect{SendBye{}, End{Outcome{Reason: "BYE", By: Local}}}},
		{"shutdown while ringing in", NewIncoming(), Shutdown{}, ended(NewIncoming(), Outcome{Code: 480, Reason: "Temporarily Unavailable", By: Local}), []Effect{Respond{480, "Temporarily Unavailable"}, End{Outcome{Code: 480, Reason: "Temporarily Unavailable", By: Local}}}},

		{"answer", NewIncoming(), Answer{}, in(Answering), []Effect{PrepareAnswer{}}},
		{"answer twice", in(Answering), Answer{}, in(Answering), nil},
		{"answer ready", in(Answering), AnswerReady{OK: true}, in(Answered), []Effect{StartMedia{}, Publish{Answered}, Respond{200, "OK"}}},
		// Their INVITE had no SDP: our 200 offers, their ACK answers (a delayed offer).
		{"offer ready for the 200", in(Answering), AnswerReady{OK: true, OfferInOK: true}, offerSent(), []Effect{Respond{200, "OK"}}},
		{"the ACK's answer starts the media", offerSent(), AckAnswer{OK: true}, in(Answered), []Effect{StartMedia{}, Publish{Answered}}},
		{"the ACK's answer holds us from the start", offerSent(), AckAnswer{OK: true, RemoteHold: true}, talking(false, Held, Hold{Remote: true}),
			[]Effect{StartMedia{}, Publish{Answered}, Publish{Held}, HoldChanged{Held: true, By: Remote}}},
		{"no usable answer in the ACK ends the call", offerSent(), AckAnswer{}, ended(in(Answered), noAckAnswer), []Effect{SendBye{}, End{noAckAnswer}}},
		{"a plain answer to our SRTP offer ends it as insecure", offerSent(), AckAnswer{Insecure: true, Why: "no SRTP in the answer"}, ended(in(Answered), plainAckAnswer), []Effect{SendBye{}, End{plainAckAnswer}}},
		{"their offer before the ACK's answer", offerSent(), RemoteOffer{}, offerSent(), []Effect{RespondOffer{491, "Request Pending"}}},
		{"our hold before the ACK's answer waits", offerSent(), HoldRequest{Hold: true}, wantsHold(offerSent()), nil},
		{"hang up before the ACK's answer", offerSent(), Hangup{}, ended(offerSent(), Outcome{Reason: "BYE", By: Local}), []Effect{SendBye{}, End{Outcome{Reason: "BYE", By: Local}}}},
		{"no ACK to our offer", offerSent(), AckTimeout{}, ended(offerSent(), Outcome{Code: 408, Reason: "no ACK", By: Local, Failure: FailureNetwork}), []Effect{SendBye{}, End{Outcome{Code: 408, Reason: "no ACK", By: Local, Failure: FailureNetwork}}}},
		{"CANCEL beat our 200", in(Answered), AnswerTooLate{}, ended(in(Answered), Outcome{Code: 487, Reason: "cancelled by caller", By: Remote, Failure: FailureNoAnswer}), []Effect{End{Outcome{Code: 487, Reason: "cancelled by caller", By: Remote, Failure: FailureNoAnswer}}}},
		{"too late is for incoming calls", out(Answered), AnswerTooLate{}, out(Answered), nil},
		{"answer impossible", in(Answering), AnswerReady{}, ended(in(Answering), notAcceptable), []Effect{Respond{488, "Not Acceptable Here"}, End{notAcceptable}}},
		{"no ACK", in(Answered), AckTimeout{}, ended(in(Answered), Outcome{Code: 408, Reason: "no ACK", By: Local, Failure: FailureNetwork}), []Effect{SendBye{}, End{Outcome{Code: 408, Reason: "no ACK", By: Local, Failure: FailureNetwork}}}},
		// Our 200 to their re-INVITE never acknowledged, in a call we placed (RFC 3261 13.3.1.4).
		{"no ACK to a re-INVITE's 200", out(Answered), AckTimeout{}, ended(out(Answered), Outcome{Code: 408, Reason: "no ACK", By: Local, Failure: FailureNetwork}), []Effect{SendBye{}, End{Outcome{Code: 408, Reason: "no ACK", By: Local, Failure: FailureNetwork}}}},
		{"no ACK before the answer", in(Answering), AckTimeout{}, in(Answering), nil},
		{"reject", NewIncoming(), Reject{Code: 603, Reason: "Decline"}, ended(NewIncoming(), Outcome{Code: 603, Reason: "Decline", By: Local}), []Effect{Respond{603, "Decline"}, End{Outcome{Code: 603, Reason: "Decline", By: Local}}}},
		{"refuse", NewIncoming(), Refuse{Code: 500, Reason: "no route", Failure: FailureNetwork}, ended(NewIncoming(), Outcome{Code: 500, Reason: "no route", By: Local, Failure: FailureNetwork}), []Effect{Respond{500, "no route"}, End{Outcome{Code: 500, Reason: "no route", By: Local, Failure: FailureNetwork}}}},
		{"refuse outgoing", out(Calling), Refuse{Code: 500}, out(Calling), nil},
		{"reject after answer", in(Answered), Reject{Code: 486}, in(Answered), nil},
		{"hang up a ringing incoming call", NewIncoming(), Hangup{}, ended(NewIncoming(), rejectedHere), []Effect{Respond{486, "Busy Here"}, End{rejectedHere}}},
		{"caller cancels", NewIncoming(), RemoteCancel{}, ended(NewIncoming(), Outcome{Code: 487, Reason: "cancelled by caller", By: Remote, Failure: FailureNoAnswer}), []Effect{End{Outcome{Code: 487, Reason: "cancelled by caller", By: Remote, Failure: FailureNoAnswer}}}},
		{"caller cancels while we answer", in(Answering), RemoteCancel{}, ended(in(Answering), Outcome{Code: 487, Reason: "cancelled by caller", By: Remote, Failure: FailureNoAnswer}), []Effect{End{Outcome{Code: 487, Reason: "cancelled by caller", By: Remote, Failure: FailureNoAnswer}}}},
		{"CANCEL after answer is too late", in(Answered), RemoteCancel{}, in(Answered), nil},
		{"responses are not for incoming calls", NewIncoming(), Response{Code: 200, SDPOK: true}, NewIncoming(), nil},
		{"ended stays ended", ended(out(Answered), Outcome{Reason: "BYE", By: Remote}), Hangup{}, ended(out(Answered), Outcome{Reason: "BYE", By: Remote}), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, effects := Step(c.from, c.in)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("machine: got %+v, want %+v", got, c.want)
			}
			if !reflect.DeepEqual(effects, c.effects) {
				t.Errorf("effects: got %#v, want %#v", effects, c.effects)
			}
		})
	}
}

// TestEveryStateEndsOnHangup: whatever state a call is in, the user's hang-up or the phone's
// shutdown ends it, so no call can outlive the phone.
func TestEveryStateEndsOnHangup(t *testing.T) {
	for s := Idle; s <= Held; s++ {
		for _, m := range []Machine{out(s), in(s)} {
			if !m.Outgoing && s < Incoming {
				continue // states an incoming call never has
			}
			if m.Outgoing && (s == Incoming || s == Answering) {
				continue
			}
			for _, input := range []Input{Hangup{}, Shutdown{}} {
				got, effects := Step(m, input)
				if got.State != Ended {
					t.Errorf("%v call in %v after %T: %v, want ended", map[bool]string{true: "outgoing", false: "incoming"}[m.Outgoing], s, input, got.State)
				}
				if s != Ended {
					if _, ok := effects[len(effects)-1].(End); !ok {
						t.Errorf("%v after %T: last effect %#v, want End", s, input, effects)
					}
				}
			}
		}
	}
}

// FuzzStep: any sequence of inputs keeps the machine consistent: it never leaves Ended, an End
// effect comes exactly when it reaches Ended, and it ends with the last effect.
func FuzzStep(f *testing.F) {
	f.Add(true, []byte{0, 1, 2, 3})
	f.Add(false, []byte{7, 8, 12})
	f.Add(true, []byte{0, 4, 22, 26, 22, 30, 31, 23, 24, 29})
	f.Fuzz(func(t *testing.T, outgoing bool, seq []byte) {
		inputs := []Input{Dial{}, Response{Code: 100}, Response{Code: 180}, Response{Code: 183, HasSDP: true, SDPOK: true},
			Response{Code: 200, SDPOK: true}, Response{Code: 401}, Response{Code: 486}, Answer{}, AnswerReady{OK: true},
			AnswerReady{}, AnswerReady{OK: true, OfferInOK: true}, AckAnswer{OK: true}, AckAnswer{}, AckAnswer{OK: true, RemoteHold: true}, Reject{Code: 603}, Refuse{Code: 500}, Hangup{}, RemoteCancel{}, RemoteBye{}, MediaTimeout{}, RingTimeout{},
			AckTimeout{}, AnswerTooLate{}, Redirected{}, Failed{}, CredentialsFailed{}, Shutdown{},
			HoldRequest{true}, HoldRequest{false}, OfferResult{Code: 200, OK: true}, OfferResult{Code: 200, OK: true, RemoteHold: true},
			OfferResult{Code: 491}, OfferResult{Code: 488}, OfferResult{Code: 481}, RetryOffer{}, RemoteOffer{},
			OfferAnswered{OK: true}, OfferAnswered{OK: true, RemoteHold: true}, OfferAnswered{}}
		m := NewIncoming()
		if outgoing {
			m = NewOutgoing(true)
		}
		for _, b := range seq {
			was := m.State
			next, effects := Step(m, inputs[int(b)%len(inputs)])
			ends := 0
			for _, e := range effects {
				if _, ok := e.(End); ok {
					ends++
				}
			}
			switch {
			case was == Ended && (next.State != Ended || len(effects) > 0):
				t.Fatalf("left Ended: %v, %v", next.State, effects)
			case was != Ended && next.State == Ended && (ends != 1 || effects[len(effects)-1] != End{next.Outcome}):
				t.Fatalf("reached Ended with effects %#v", effects)
			case next.State != Ended && ends != 0:
				t.Fatalf("End effect without ending: %#v", effects)
			}
			if h := next.Hold; next.State != Ended && (next.State == Holding) != (next.Established() && h.Local) ||
				next.State == Held && (h.Local || !h.Remote) || next.State == Answered && (h.Local || h.Remote) {
				t.Fatalf("state %v does not match hold %+v", next.State, h)
			}
			if next.OfferInOK && next.State != Ended && (next.State != Answered || !next.Hold.AwaitingAck || next.Hold.Pending) {
				t.Fatalf("waiting for the ACK's answer in %v with hold %+v", next.State, next.Hold)
			}
			if h := next.Hold; h.Pending && h.Retrying {
				t.Fatalf("an offer in flight and a retry at once: %+v", h)
			}
			m = next
		}
	})
}

// offerSent is an incoming call whose 200 carried our offer, waiting for the answer in the ACK.
func offerSent() Machine {
	m := talking(false, Answered, Hold{AwaitingAck: true})
	m.OfferInOK = true
	return m
}

// wantsHold is m with the user's hold asked for.
func wantsHold(m Machine) Machine { m.Hold.Want = true; return m }

// staleRetried is m after a stale challenge was answered once more.
func staleRetried(m Machine) Machine {
	m.StaleRetried = true
	return m
}
