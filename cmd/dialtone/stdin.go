package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dialtone/dialtone/cmd/dialtone/control"
	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// stdinFlags is --stdin for call: commands typed or piped while the call runs.
type stdinFlags struct {
	Stdin bool `name:"stdin" help:"Read commands from standard input while the call runs, one a line: dtmf DIGITS, hold, resume, transfer URI, mute, unmute, message URI TEXT, calls, dnd [on|off], hangup. Each is answered with a reply line (an NDJSON {\"event\":\"reply\"} object with --json)."`
}

// syncWriter makes the event printer and the command replies share stdout line by line.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// readCommands runs --stdin for call id until the returned stop is called. It must be called
// before anything else prints with out: it makes out's writer safe for both.
//
// The goroutine reading stdin cannot be interrupted (a read from a terminal or pipe has no
// deadline); it ends at end of input, and stop does not wait for it. The one that runs the
// commands is stopped and waited for by stop.
func (f stdinFlags) readCommands(e *env, ph *phone.Phone, id string, out *printer) (stop func()) {
	if !f.Stdin {
		return func() {}
	}
	out.w = &syncWriter{w: out.w}
	ctx, cancel := context.WithCancel(e.ctx)
	type lineErr struct {
		line string
		err  error
	}
	lines := make(chan lineErr)
	go func() {
		defer close(lines)
		r := control.NewLineReader(e.stdin)
		for {
			b, err := r.Next()
			if err != nil && !errors.Is(err, control.ErrLineTooLong) {
				return // end of input: the call goes on until it ends otherwise
			}
			select {
			case lines <- lineErr{string(b), err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	k := &controller{ph: ph, only: id, names: out.names}
	for _, s := range ph.Calls() {
		if s.ID == id {
			k.account = s.Account // a message goes out through the call's account
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case l, ok := <-lines:
				if !ok {
					return
				}
				c, err := control.ParseLine(l.line)
				if l.err != nil {
					err = l.err
				}
				if errors.Is(err, control.ErrEmpty) {
					continue
				}
				rep := control.Fail(c, time.Now(), err)
				if err == nil {
					rep = k.do(ctx, c)
				}
				printReply(out, rep)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// printReply writes a command's reply: the NDJSON object with --json, one line otherwise.
func printReply(out *printer, rep control.Reply) {
	if out.json {
		_, _ = out.w.Write(rep.Marshal())
		return
	}
	who := time.Now().Format("15:04:05")
	if rep.CallID != "" {
		who += " " + rep.CallID
	}
	what := rep.Reply
	if what == "" {
		what = "command"
	}
	if rep.OK {
		fmt.Fprintf(out.w, "%s: %s: ok\n", who, what)
		printHumanReply(out.w, rep) // what a query answered: the calls, the do-not-disturb state
		return
	}
	// The error can carry the far end's reason phrase, raw from the network.
	fmt.Fprintf(out.w, "%s: %s: error: %s\n", who, what, common.Clean(rep.Error))
}
