package calls

import "github.com/dialtone/dialtone/phone"

// Holding reports whether we put the call on hold: the core says so in the call's status,
// and a successful Hold command says so until the next status arrives.
func (c *Call) Holding() bool { return c.held }

// RemoteHolding reports whether the far end holds us.
func (c *Call) RemoteHolding() bool { return statusRemoteHeld(c.Status) }

// statusHolding is what the core's status says about our hold.
func statusHolding(s phone.CallStatus) bool { return s.Held || s.State == phone.CallHolding }

// statusRemoteHeld is what the core's status says about the far end's hold.
func statusRemoteHeld(s phone.CallStatus) bool { return s.RemoteHeld || s.State == phone.CallHeld }
