package phone

import (
	lifecycle "github.com/dialtone/dialtone/phone/call"
)

// The call goroutines (runOutgoing, onInvite, talk) turn what happens into phone/call inputs
// and carry out the effects the state machine returns; the decisions (which response ends a
// call, whether a hang-up is a CANCEL, a 486 or a BYE) live in phone/call, table-tested.

// advance feeds the call's state machine one input and returns the effects to carry out.
func (c *call) advance(in lifecycle.Input) []lifecycle.Effect {
	c.mu.Lock()
	defer c.mu.Unlock()
	var fx []lifecycle.Effect
	c.machine, fx = lifecycle.Step(c.machine, in)
	return fx
}

// ended reports whether the state machine has ended the call.
func (c *call) ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.machine.State == lifecycle.Ended
}

// newMachine is the state machine a new call starts in.
func newMachine(dir Direction, canAuth bool) lifecycle.Machine {
	if dir == Incoming {
		return lifecycle.NewIncoming()
	}
	return lifecycle.NewOutgoing(canAuth)
}

// endAs carries out an End effect: the final event and the history record.
func (p *Phone) endAs(c *call, o lifecycle.Outcome, err error) {
	p.end(c, o.Code, o.Reason, string(o.By), Failure(o.Failure), err)
}

// publishState carries out a Publish effect; more fills in what the new state knows (the
// codec and answer time of an answered call).
func (p *Phone) publishState(c *call, s lifecycle.State, more func(*CallStatus)) {
	p.update(c, func(st *CallStatus) {
		// Under c.mu: the machine's hold, as the effects being carried out left it.
		st.State, st.Held, st.RemoteHeld = callState(s), c.machine.Hold.Local, c.machine.Hold.Remote
		if more != nil {
			more(st)
		}
	})
}

// callState is the published state for a machine state.
func callState(s lifecycle.State) CallState {
	switch s {
	case lifecycle.Ringing:
		return CallRinging
	case lifecycle.EarlyMedia:
		return CallEarlyMedia
	case lifecycle.Incoming, lifecycle.Answering:
		return CallIncoming // answering is internal: the user sees the call ringing until answered
	case lifecycle.Answered:
		return CallAnswered
	case lifecycle.Ended:
		return CallEnded
	case lifecycle.Holding:
		return CallHolding
	case lifecycle.Held:
		return CallHeld
	}
	return CallCalling
}
