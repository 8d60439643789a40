package call

import (
	"reflect"
	"testing"
	"time"
)

// talking is an answered call (outgoing: we own the Call-ID) with hold state h.
func talking(outgoing bool, s State, h Hold) Machine {
	m := NewIncoming()
	if outgoing {
		m = NewOutgoing(true)
	}
	m.State, m.Hold = s, h
	return m
}

func TestStepHold(t *testing.T) {
	o := func(s State, h Hold) Machine { return talking(true, s, h) }
	i := func(s State, h Hold) Machine { return talking(false, s, h) }
	holding := Hold{Want: true, Local: true}
	held := Hold{Remote: true}
	for _, c := range []struct {
		name    string
		from    Machine
		in      Input
		want    Machine
		effects []Effect
	}{
		// Our hold and resume.
		{"hold sends sendonly", o(Answered, Hold{}), HoldRequest{true}, o(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), []Effect{SendReinvite{SendOnly}}},
		{"hold while held sends inactive", o(Held, held), HoldRequest{true}, o(Held, Hold{Want: true, Remote: true, Pending: true, Offered: true, OfferDir: Inactive}), []Effect{SendReinvite{Inactive}}},
		{"hold twice sends once", o(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), HoldRequest{true}, o(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), nil},
		{"hold when holding does nothing", o(Holding, holding), HoldRequest{true}, o(Holding, holding), nil},
		{"hold answered", o(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), OfferResult{Code: 200, OK: true},
			o(Holding, Hold{Want: true, Local: true, Offered: true, OfferDir: SendOnly}), []Effect{UpdateMedia{Silent: true}, Publish{Holding}, HoldChanged{true, Local}}},
		{"hold answered while they hold us keeps their hold", o(Held, Hold{Want: true, Remote: true, Pending: true, Offered: true, OfferDir: Inactive}), OfferResult{Code: 200, OK: true},
			o(Holding, Hold{Want: true, Local: true, Remote: true, Offered: true, OfferDir: Inactive}), []Effect{UpdateMedia{Silent: true}, Publish{Holding}, HoldChanged{true, Local}}},
		{"resume sends sendrecv", o(Holding, holding), HoldRequest{false}, o(Holding, Hold{Local: true, Pending: true, OfferDir: SendRecv}), []Effect{SendReinvite{SendRecv}}},
		{"resume answered", o(Holding, Hold{Local: true, Pending: true, OfferDir: SendRecv}), OfferResult{Code: 200, OK: true},
			o(Answered, Hold{OfferDir: SendRecv}), []Effect{UpdateMedia{}, Publish{Answered}, HoldChanged{false, Local}}},
		{"resume answered sendonly: they hold us", o(Holding, Hold{Local: true, Pending: true, OfferDir: SendRecv}), OfferResult{Code: 200, OK: true, RemoteHold: true},
			o(Held, Hold{Remote: true, OfferDir: SendRecv}), []Effect{UpdateMedia{}, Publish{Held}, HoldChanged{false, Local}, HoldChanged{true, Remote}}},
		{"resume while held, the answer frees us", o(Holding, Hold{Local: true, Remote: true, Pending: true, OfferDir: SendRecv}), OfferResult{Code: 200, OK: true},
			o(Answered, Hold{OfferDir: SendRecv}), []Effect{UpdateMedia{}, Publish{Answered}, HoldChanged{false, Local}, HoldChanged{false, Remote}}},
		{"resume asked while hold in flight waits", o(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), HoldRequest{false},
			o(Answered, Hold{Pending: true, Offered: true, OfferDir: SendOnly}), nil},
		{"then the hold's answer brings the resume", o(Answered, Hold{Pending: true, Offered: true, OfferDir: SendOnly}), OfferResult{Code: 200, OK: true},
			o(Holding, Hold{Local: true, Pending: true, OfferDir: SendRecv}), []Effect{UpdateMedia{Silent: true}, Publish{Holding}, HoldChanged{true, Local}, SendReinvite{SendRecv}}},
		{"hold before answer does nothing", NewIncoming(), HoldRequest{true}, NewIncoming(), nil},
		{"hold after the end does nothing", ended(o(Answered, Hold{}), Outcome{Reason: "BYE", By: Remote}), HoldRequest{true}, ended(o(Answered, Hold{}), Outcome{Reason: "BYE", By: Remote}), nil},
		{"late result does nothing", o(Answered, Hold{}), OfferResult{Code: 200, OK: true}, o(Answered, Hold{}), nil},

		// The answer in the ACK of our offer (their re-INVITE without SDP): a CUCM-style hold.
		{"their offerless re-INVITE gets our offer", i(Answered, Hold{Answering: true}), OfferAnswered{OK: true, InAck: true},
			i(Answered, Hold{AwaitingAck: true}), []Effect{RespondOffer{200, "OK"}, UpdateMedia{}}},
		{"ACK answer holds us", i(Answered, Hold{AwaitingAck: true}), AckAnswer{OK: true, RemoteHold: true},
			i(Held, Hold{Remote: true}), []Effect{UpdateMedia{}, Publish{Held}, HoldChanged{true, Remote}}},
		{"ACK answer frees us", i(Held, Hold{Remote: true, AwaitingAck: true}), AckAnswer{OK: true},
			i(Answered, Hold{}), []Effect{UpdateMedia{}, Publish{Answered}, HoldChanged{false, Remote}}},
		{"ACK answer while we hold keeps ours", i(Holding, Hold{Want: true, Local: true, AwaitingAck: true}), AckAnswer{OK: true},
			i(Holding, holding), []Effect{UpdateMedia{Silent: true}}},
		{"unusable ACK answer changes nothing", i(Answered, Hold{AwaitingAck: true}), AckAnswer{}, i(Answered, Hold{}), nil},
		{"an ACK answer nobody waits for does nothing", i(Answered, Hold{}), AckAnswer{OK: true, RemoteHold: true}, i(Answered, Hold{}), nil},
		// RFC 3264 §4: no new offer before the answer to ours.
		{"a hold asked before the ACK waits for it", i(Answered, Hold{AwaitingAck: true}), HoldRequest{true},
			i(Answered, Hold{Want: true, AwaitingAck: true}), nil},
		{"and goes out with the ACK's answer", i(Answered, Hold{Want: true, AwaitingAck: true}), AckAnswer{OK: true},
			i(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), []Effect{UpdateMedia{}, SendReinvite{SendOnly}}},
		{"or with an ACK that has none", i(Answered, Hold{Want: true, AwaitingAck: true}), AckAnswer{},
			i(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), []Effect{SendReinvite{SendOnly}}},
		{"their offer before the ACK", i(Answered, Hold{AwaitingAck: true}), RemoteOffer{},
			i(Answered, Hold{AwaitingAck: true}), []Effect{RespondOffer{491, "Request Pending"}}},

		// Glare: 491 and the RFC 3261 14.1 delays.
		{"491 to the Call-ID's owner", o(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), OfferResult{Code: 491},
			o(Answered, Hold{Want: true, Offered: true, OfferDir: SendOnly, Retrying: true, Retries: 1}), []Effect{RetryOfferAfter{2100 * time.Millisecond, 4 * time.Second}}},
		{"491 to the callee", i(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), OfferResult{Code: 491},
			i(Answered, Hold{Want: true, Offered: true, OfferDir: SendOnly, Retrying: true, Retries: 1}), []Effect{RetryOfferAfter{0, 2 * time.Second}}},
		{"retry", o(Answered, Hold{Want: true, Retrying: true, Retries: 1}), RetryOffer{},
			o(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly, Retries: 1}), []Effect{SendReinvite{SendOnly}}},
		{"retry no longer needed", o(Answered, Hold{Retrying: true, Retries: 1}), RetryOffer{}, o(Answered, Hold{Retries: 1}), nil},
		{"491 too often gives up", o(Answered, Hold{Want: true, Pending: true, Offered: true, Retries: maxGlareRetries}), OfferResult{Code: 491, Reason: "Request Pending"},
			o(Answered, Hold{Offered: true}), []Effect{HoldFailed{491, "Request Pending"}}},
		{"their offer while ours is pending gets 491", o(Answered, Hold{Want: true, Pending: true, Offered: true}), RemoteOffer{},
			o(Answered, Hold{Want: true, Pending: true, Offered: true}), []Effect{RespondOffer{491, "Request Pending"}}},
		{"their offer while we wait to retry is answered with our hold", o(Answered, Hold{Want: true, Retrying: true, Retries: 1}), RemoteOffer{},
			o(Answered, Hold{Want: true, Retrying: true, Retries: 1, Answering: true, Answered: true}), []Effect{AnswerOffer{Hold: true}}},
		{"that answer holds them, and the retry finds nothing to do", o(Answered, Hold{Want: true, Retrying: true, Retries: 1, Answering: true, Answered: true}), OfferAnswered{OK: true},
			o(Holding, Hold{Want: true, Local: true, Retrying: true, Retries: 1, Answered: true}), []Effect{RespondOffer{200, "OK"}, UpdateMedia{Silent: true}, Publish{Holding}, HoldChanged{true, Local}}},

		// Failures of our offer.
		{"488 to hold: the call stays", o(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), OfferResult{Code: 488, Reason: "Not Acceptable Here"},
			o(Answered, Hold{Offered: true, OfferDir: SendOnly}), []Effect{HoldFailed{488, "Not Acceptable Here"}}},
		{"unusable answer", o(Answered, Hold{Want: true, Pending: true, Offered: true}), OfferResult{Code: 200},
			o(Answered, Hold{Offered: true}), []Effect{HoldFailed{488, "the answer to our re-INVITE is unusable"}}},
		{"481 ends the call", o(Answered, Hold{Want: true, Pending: true, Offered: true}), OfferResult{Code: 481, Reason: "Call/Transaction Does Not Exist"},
			ended(o(Answered, Hold{Want: true, Offered: true}), Outcome{Code: 481, Reason: "Call/Transaction Does Not Exist", By: Local, Failure: FailureNetwork}),
			[]Effect{SendBye{}, End{Outcome{Code: 481, Reason: "Call/Transaction Does Not Exist", By: Local, Failure: FailureNetwork}}}},
		{"no response ends the call", o(Answered, Hold{Want: true, Pending: true, Offered: true}), OfferResult{},
			ended(o(Answered, Hold{Want: true, Offered: true}), Outcome{Code: 408, Reason: "no response to re-INVITE", By: Local, Failure: FailureNetwork}),
			[]Effect{SendBye{}, End{Outcome{Code: 408, Reason: "no response to re-INVITE", By: Local, Failure: FailureNetwork}}}},

		// The far end's offers.
		{"their offer", i(Answered, Hold{}), RemoteOffer{}, i(Answered, Hold{Answering: true}), []Effect{AnswerOffer{}}},
		{"their offer while we hold", i(Holding, holding), RemoteOffer{}, i(Holding, Hold{Want: true, Local: true, Answering: true, Answered: true}), []Effect{AnswerOffer{Hold: true}}},
		{"they hold us", i(Answered, Hold{Answering: true}), OfferAnswered{OK: true, RemoteHold: true},
			i(Held, held), []Effect{RespondOffer{200, "OK"}, UpdateMedia{}, Publish{Held}, HoldChanged{true, Remote}}},
		{"they resume", i(Held, Hold{Remote: true, Answering: true}), OfferAnswered{OK: true},
			i(Answered, Hold{}), []Effect{RespondOffer{200, "OK"}, UpdateMedia{}, Publish{Answered}, HoldChanged{false, Remote}}},
		{"they hold us while we hold them", i(Holding, Hold{Want: true, Local: true, Answering: true, Answered: true}), OfferAnswered{OK: true, RemoteHold: true},
			i(Holding, Hold{Want: true, Local: true, Remote: true, Answered: true}), []Effect{RespondOffer{200, "OK"}, UpdateMedia{Silent: true}, Publish{Holding}, HoldChanged{true, Remote}}},
		{"an offer that changes nothing", i(Answered, Hold{Answering: true}), OfferAnswered{OK: true}, i(Answered, Hold{}), []Effect{RespondOffer{200, "OK"}, UpdateMedia{}}},
		{"bad offer: 488, the call goes on", i(Held, Hold{Remote: true, Answering: true}), OfferAnswered{}, i(Held, held), []Effect{RespondOffer{488, "Not Acceptable Here"}}},
		{"a hold asked while answering waits for the answer", i(Answered, Hold{Answering: true}), HoldRequest{true}, i(Answered, Hold{Want: true, Answering: true}), nil},
		{"and goes out after it", i(Answered, Hold{Want: true, Answering: true}), OfferAnswered{OK: true},
			i(Answered, Hold{Want: true, Pending: true, Offered: true, OfferDir: SendOnly}), []Effect{RespondOffer{200, "OK"}, UpdateMedia{}, SendReinvite{SendOnly}}},
		{"a second offer before we answered the first", i(Answered, Hold{Answering: true}), RemoteOffer{}, i(Answered, Hold{Answering: true}), []Effect{RespondOffer{500, "Server Internal Error"}}},
		{"an offer before the ACK", in(Answering), RemoteOffer{}, in(Answering), []Effect{RespondOffer{491, "Request Pending"}}},
		{"a late answer does nothing", i(Answered, Hold{}), OfferAnswered{OK: true, RemoteHold: true}, i(Answered, Hold{}), nil},

		// Ending a call on hold.
		{"hang up while holding", o(Holding, holding), Hangup{}, ended(o(Holding, holding), Outcome{Reason: "BYE", By: Local}), []Effect{SendBye{}, End{Outcome{Reason: "BYE", By: Local}}}},
		{"BYE while held", i(Held, held), RemoteBye{}, ended(i(Held, held), Outcome{Reason: "BYE", By: Remote}), []Effect{End{Outcome{Reason: "BYE", By: Remote}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, effects := Step(c.from, c.in)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("machine:\n got %+v\nwant %+v", got, c.want)
			}
			if !reflect.DeepEqual(effects, c.effects) {
				t.Errorf("effects:\n got %#v\nwant %#v", effects, c.effects)
			}
		})
	}
}

// TestOfferDirections: what we offer for each combination of our wish and their hold
// (RFC 3264 8.4: sendonly to hold, inactive when we are held already, sendrecv to resume).
func TestOfferDirections(t *testing.T) {
	for _, c := range []struct {
		hold, remote bool
		want         Direction
	}{{false, false, SendRecv}, {true, false, SendOnly}, {true, true, Inactive}, {false, true, SendRecv}} {
		if got := offerDir(c.hold, c.remote); got != c.want {
			t.Errorf("hold %v, held %v: offer %v, want %v", c.hold, c.remote, got, c.want)
		}
	}
}
