package ui

import (
	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// holdChanged says when the far end puts us on hold or takes us off: the calls pane shows it
// too, but a notice is what catches the eye. Our own hold and resume are the command results'.
func (m *Model) holdChanged(ev phone.HoldChanged) {
	if ev.By != "remote" {
		return
	}
	who := "the far end"
	for _, c := range m.calls.Calls() {
		if c.Status.ID == ev.CallID {
			who = common.Peer(c.Status.Peer, c.Status.PeerName)
		}
	}
	if ev.Held {
		m.callNotice(ev.CallID, true, who+" put the call on hold")
	} else {
		m.callNotice(ev.CallID, true, who+" took the call off hold")
	}
}
