package main

import (
	"slices"
	"sync"

	"github.com/dialtone/dialtone/phone"
)

// callDevices holds the open audio of each call a front end placed or answered (the TUI's
// sound devices, serve's files) and closes it when the call ends. A call that goes on as
// another (we were transferred, or an INVITE with Replaces took over) hands its audio to the
// new call: the core moved it there, and the old call's end must not close it under it.
type callDevices struct {
	mu      sync.Mutex
	m       map[string]*callAudio // by call id
	closing sync.WaitGroup        // releases in flight; closeAll waits for them
	// closeErr hears why closing a call's audio failed (a recording cut short by a full
	// disk); nil drops it.
	closeErr func(error)
	// ended are the last calls that ended with no audio filed yet: Dial and Answer return
	// before their call can end, but the end may be followed before the front end files the
	// audio (a call refused at once). Filed after its end, the audio was never closed, and
	// the sound devices stayed open until quit.
	ended []string
}

// maxEnded bounds the ended calls remembered: a late keep comes right after its call's end.
const maxEnded = 64

// close closes ca and says why it failed, if it did.
func (d *callDevices) close(ca *callAudio) {
	if err := ca.Close(); err != nil && d.closeErr != nil {
		d.closeErr(err)
	}
}

func (d *callDevices) keep(id string, ca *callAudio) {
	d.mu.Lock()
	if slices.Contains(d.ended, id) { // the call ended already: its audio is closed, not kept
		d.mu.Unlock()
		d.closing.Add(1)
		go func() {
			defer d.closing.Done()
			d.close(ca)
		}()
		return
	}
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]*callAudio{}
	}
	d.m[id] = ca
}

func (d *callDevices) has(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.m[id]
	return ok
}

// follow closes a finished call's audio and moves a replaced call's; other events pass.
func (d *callDevices) follow(ev phone.Event) {
	switch e := ev.(type) {
	case phone.CallStatus:
		if e.State == phone.CallEnded {
			d.release(e.ID)
		}
	case phone.CallReplaced:
		d.mu.Lock()
		if ca, ok := d.m[e.CallID]; ok {
			delete(d.m, e.CallID)
			d.m[e.NewCallID] = ca
		}
		d.mu.Unlock()
	}
}

// release closes a call's audio in the background: closing a sound device whose server hangs
// takes until audio/portaudio gives up on it (about a second a stream), and follow runs on
// the front end's event path, which must not stall meanwhile (before the close was bounded, a
// hung PulseAudio froze the TUI's events for good at the end of the call).
func (d *callDevices) release(id string) {
	d.mu.Lock()
	ca := d.m[id]
	delete(d.m, id)
	if ca == nil { // its audio may still be on its way to keep
		if len(d.ended) == maxEnded {
			d.ended = d.ended[1:]
		}
		d.ended = append(d.ended, id)
	}
	d.mu.Unlock()
	if ca != nil {
		d.closing.Add(1)
		go func() {
			defer d.closing.Done()
			d.close(ca)
		}()
	}
}

// closeAll closes what is left at shutdown.
func (d *callDevices) closeAll() {
	d.mu.Lock()
	m := d.m
	d.m = nil
	d.mu.Unlock()
	for _, ca := range m {
		d.close(ca)
	}
	d.closing.Wait()
}
