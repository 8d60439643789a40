package ui

import (
	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// audioLost says that a call's microphone or speaker went away mid-call (a headset unplugged,
// the sound server stopped). The call goes on without it, sending silence and discarding what
// arrives; nothing switches devices on its own, so the notice says what the user can do. The
// log pane keeps the backend's own words.
func (m *Model) audioLost(ev phone.AudioDeviceLost) {
	who := "the call"
	for _, c := range m.calls.Calls() {
		if c.Status.ID == ev.CallID {
			who = "the call with " + common.Peer(c.Status.Peer, c.Status.PeerName)
		}
	}
	text := "the " + ev.Device + " went away; " + who + " goes on without it (hang up and call again to use another device)"
	// The log pane has the core's own line with the error (audiolost.go in phone): the
	// notice is this pane's part.
	m.callNotice(ev.CallID, true, text)
}
