package main

import (
	"fmt"

	"github.com/dialtone/dialtone/phone"
)

// audioLost says that a call's microphone or speaker went away mid-call and that the call
// goes on without it (silence sent, what arrives discarded). One line per device and call:
//
//	{"event":"audio_device_lost","time":"…","call_id":"c1","device":"speaker","reason":"…","error":"…"}
func (p *printer) audioLost(l phone.AudioDeviceLost) {
	r := record{Event: "audio_device_lost", Time: stamp(l.Time), Account: l.Account, CallID: l.CallID,
		Device: l.Device, Reason: audioLostReason(l.Device)}
	if l.Err != nil {
		r.Error = l.Err.Error()
	}
	p.emit(r, fmt.Sprintf("%s %s: warning: %s", l.Time.Format("15:04:05"), l.CallID, audioLostText(l)))
}

// audioLostReason is the event's reason: what happens to the call now.
func audioLostReason(device string) string {
	if device == "microphone" {
		return "the microphone went away; the call goes on sending silence"
	}
	return "the speaker went away; the call goes on, its audio is discarded"
}

// audioLostText is the line a person reads (headless output and the TUI's log).
func audioLostText(l phone.AudioDeviceLost) string {
	s := audioLostReason(l.Device)
	if l.Err != nil {
		s += fmt.Sprintf(" (%v)", l.Err)
	}
	return s + "; hang up and call again to use another device"
}
