package main

import (
	"context"

	"github.com/dialtone/dialtone/phone"
)

// running is a phone started for one command, with its subscription. The phone outlives
// SIGINT: the command decides how to end (hang up, unregister) and then calls finish.
type running struct {
	*phone.Phone
	Events  <-chan phone.Event
	stop    context.CancelFunc
	runErr  chan error
	history *history // nil without history
	closers []func()
}

// startPhone starts a phone for cfg and waits until its SIP stack is up. With history, calls
// and messages are recorded in the history database.
func (e *env) startPhone(cfg phone.Config, history bool) (*running, error) {
	r := &running{runErr: make(chan error, 1)}
	if history {
		hist, closeHist, err := e.openHistoryOrWarn() // history_fallback.go
		if err != nil {
			return nil, err
		}
		if hist != nil { // a nil *history in the interfaces would not be nil
			w := e.watchHistory(hist) // says once when the disk fills up (history_health.go)
			cfg.Calls, cfg.Messages, r.history = w, w, hist
			r.closers = append(r.closers, closeHist)
		}
	}
	ph, err := phone.New(cfg)
	if err != nil {
		r.close()
		return nil, usageErr("%v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	r.Phone, r.stop = ph, stop
	r.Events = ph.Subscribe(context.Background())
	go func() { r.runErr <- ph.Run(ctx) }()
	if err := waitReady(e.ctx, ph, r.runErr); err != nil {
		_ = r.finish(nil)
		return nil, err
	}
	return r, nil
}

// finish stops the phone (calls hang up, accounts unregister), hands every event it still
// publishes to each (nil ignores them: they must be read all the same, or the phone's
// shutdown waits for this subscriber), closes the history and returns Run's error.
func (r *running) finish(each func(phone.Event)) error {
	r.stop()
	for ev := range r.Events {
		if each != nil {
			each(ev)
		}
	}
	err := <-r.runErr
	r.close()
	return err
}

func (r *running) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// startEchoPeer runs the built-in echo test's far end on loopback: a phone with no account
// that answers every call and sends back what it hears. It returns the peer's SIP address
// and the function that stops it.
func (e *env) startEchoPeer(cfg phone.Config) (addr string, stop func(), err error) {
	cfg.Accounts, cfg.ListenAddr, cfg.UserAgent = nil, "127.0.0.1:0", "dialtone-echo"
	cfg.Logger = e.log.With("peer", "echo")
	r, err := e.startPhone(cfg, false)
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() { // ends when the peer's subscription closes, after stop
		defer close(done)
		for ev := range r.Events {
			if s, ok := ev.(phone.CallStatus); ok && s.State == phone.CallIncoming {
				loop := newEchoBuffer(50) // up to 1 s of audio in flight
				_ = r.Answer(s.ID, phone.CallAudio{Source: loop, Sink: loop})
			}
		}
	}()
	return r.SIPAddr(), func() {
		r.stop()
		<-done
		<-r.runErr
	}, nil
}
