package phone

import (
	"time"

	"github.com/dialtone/dialtone/phone/media"
)

// AudioDeviceLost says that a call's microphone or speaker went away mid-call (its Source or
// Sink returned audio.ErrDeviceLost: a headset unplugged, the sound server stopped). The call
// goes on: silence is sent in place of the microphone and what arrives is discarded, so the far
// end still hears a live line and the user can hang up, or call again with another device.
// Nothing switches to another device on its own. Published once per device and call.
type AudioDeviceLost struct {
	Time    time.Time
	CallID  string
	Account string
	Device  string // "microphone" (the call's audio source) or "speaker" (its sink)
	Err     error  // what the audio backend said
}

// EventTime implements Event.
func (e AudioDeviceLost) EventTime() time.Time { return e.Time }

// publishDeviceLost turns a media session's loss report into events.
func (p *Phone) publishDeviceLost(c *call, ev media.Event) {
	for _, l := range []struct {
		device string
		err    error
	}{{"microphone", ev.SourceLost}, {"speaker", ev.SinkLost}} {
		if l.err == nil {
			continue
		}
		p.log.Warn("sound device lost mid-call; the call goes on without it", "call", c.id, "device", l.device, "err", l.err)
		p.publish(AudioDeviceLost{Time: p.clock.Now(), CallID: c.id, Account: c.accountName(), Device: l.device, Err: l.err})
	}
}
