package ui_test

import (
	"context"
	"log"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui"
)

// phoneAdapter is the caller's side of ui.Phone over *phone.Phone (it lives in
// cmd/dialtone, which may touch audio): it adds the audio and dial options the core's Dial
// and Answer take, and runs the echo test. Compiling it here keeps ui.Phone and the core in
// step.
type phoneAdapter struct {
	p     *phone.Phone
	wait  time.Duration                 // how long SendMessage waits for the far end
	audio func() phone.CallAudio        // opens the sound devices for one call
	echo  func() (id string, err error) // starts the built-in echo peer and dials it
	opts  phone.DialOptions             // ring timeout, ...
}

func (a phoneAdapter) Subscribe(ctx context.Context) <-chan phone.Event { return a.p.Subscribe(ctx) }

func (a phoneAdapter) Dial(account, target string) (string, error) {
	if target == "echo" {
		return a.echo()
	}
	return a.p.Dial(account, target, a.audio(), a.opts)
}

func (a phoneAdapter) Answer(id string) error                  { return a.p.Answer(id, a.audio()) }
func (a phoneAdapter) Reject(id string, code int) error        { return a.p.Reject(id, code) }
func (a phoneAdapter) Hangup(id string) error                  { return a.p.Hangup(id) }
func (a phoneAdapter) Mute(id string, muted bool) error        { return a.p.Mute(id, muted) }
func (a phoneAdapter) SendDTMF(id string, digits string) error { return a.p.SendDTMF(id, digits) }
func (a phoneAdapter) Accounts() []string                      { return a.p.AccountNames() }
func (a phoneAdapter) Transfer(id, target string) error        { return a.p.Transfer(id, target) }
func (a phoneAdapter) Hold(id string) error                    { return a.p.Hold(id) }
func (a phoneAdapter) Resume(id string) error                  { return a.p.Resume(id) }
func (a phoneAdapter) DND() bool                               { on, _ := a.p.DND(); return on }

// SetDND keeps the configured refusal code.
func (a phoneAdapter) SetDND(on bool) error {
	_, code := a.p.DND()
	a.p.SetDND(on, code)
	return nil
}
func (a phoneAdapter) TransferTo(id, otherID string) error { return a.p.TransferTo(id, otherID) }

// SendMessage blocks until the far end answers (the UI calls it from a tea.Cmd); the timeout
// bounds the wait when it never does.
func (a phoneAdapter) SendMessage(account, target, text string) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.wait)
	defer cancel()
	return a.p.SendMessage(ctx, account, target, text)
}

var _ ui.Phone = phoneAdapter{}

// Example wires the UI to a phone: run the phone, run the program, and when the program
// returns cancel the phone's context, which hangs up, unregisters and closes the sockets.
func Example() {
	p, err := phone.New(phone.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	logs := make(chan ui.LogLine, 1024) // fed by a slog.Handler and the SIP tracer; never block on it
	m := ui.New(ui.Options{
		Phone:   phoneAdapter{p: p, wait: 40 * time.Second, audio: func() phone.CallAudio { return phone.CallAudio{} }},
		Logs:    logs,
		Version: "v0.3.0",
	})
	if _, err := tea.NewProgram(m).Run(); err != nil { // Run restores the terminal
		log.Print(err)
	}
	stop()
	if err := <-done; err != nil {
		log.Print(err)
	}
}
