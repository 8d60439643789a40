package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dialtone/dialtone/cmd/dialtone/control"

	"github.com/dialtone/dialtone/ui/common"
)

type ctlCmd struct {
	Control string        `help:"Control socket of the dialtone serve to drive (default $$XDG_RUNTIME_DIR/dialtone/control.sock)." placeholder:"PATH" type:"path"`
	Call    string        `help:"The call to act on (default: the only call; for answer and reject, the only one ringing)." placeholder:"ID"`
	Timeout time.Duration `help:"Give up if no reply comes within this time." default:"45s"`
	Command string        `arg:"" help:"dial TARGET, answer, reject [CODE], hangup, hold, resume, transfer TARGET, dtmf DIGITS, mute, unmute, message URI TEXT, calls, dnd [on|off] [CODE], or events (print every event until interrupted)."`
	Args    []string      `arg:"" optional:"" help:"The command's arguments."`
}

// Run sends one command to a running `dialtone serve` and prints the reply, or (events)
// streams its events. Exit 0 when the command succeeded, 1 when serve answered with an
// error, 2 for a command line that is not a command, 4 when no serve listens on the socket.
// The global --account (given once) chooses the account of dial and message.
func (c *ctlCmd) Run(e *env) error {
	path, err := controlPath(c.Control)
	if err != nil {
		return err
	}
	if strings.EqualFold(c.Command, "events") {
		if len(c.Args) > 0 {
			return usageErr("ctl events takes no arguments")
		}
		return c.events(e, path)
	}
	cmd, err := control.FromArgs(c.Command, c.Args) // a quoted contact name stays one target
	if errors.Is(err, control.ErrEmpty) {
		return usageErr("ctl: no command")
	}
	if err != nil {
		return usageErr("ctl: %v", err)
	}
	cmd.Call = c.Call
	if len(e.cli.Account) == 1 {
		cmd.Account = e.cli.Account[0]
	}
	if err := cmd.Validate(); err != nil {
		return usageErr("ctl: %v", err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, c.Timeout)
	defer cancel()
	rep, err := control.Do(ctx, path, cmd)
	if err != nil {
		if errors.Is(err, control.ErrUnreachable) {
			return &exitError{code: exitNetwork, err: err}
		}
		return &exitError{code: exitInternal, err: err}
	}
	if e.cli.JSON {
		_, _ = e.stdout.Write(rep.Marshal())
	} else {
		printHumanReply(e.stdout, rep)
	}
	if !rep.OK {
		return &exitError{code: exitInternal, err: fmt.Errorf("%s: %s", rep.Reply, rep.Error)}
	}
	return nil
}

// printHumanReply prints what a successful reply carries; errors go to stderr via the exit.
func printHumanReply(w io.Writer, rep control.Reply) {
	if !rep.OK {
		return
	}
	switch {
	case rep.Calls != nil:
		for _, ci := range *rep.Calls {
			flags := ""
			if ci.Muted {
				flags += " muted"
			}
			if ci.Held {
				flags += " holding"
			}
			if ci.RemoteHeld {
				flags += " held"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s%s\n", ci.CallID, ci.State, ci.Direction, common.Clean(ci.Peer), flags)
		}
	case rep.DND != nil:
		state := "off"
		if *rep.DND {
			state = "on"
		}
		fmt.Fprintf(w, "dnd %s (new calls get %d)\n", state, rep.Code)
	case rep.Reply == "dial":
		fmt.Fprintln(w, rep.CallID)
	}
}

// events copies serve's NDJSON event stream to stdout until serve closes the connection or
// we are interrupted (exit 0 both ways).
func (c *ctlCmd) events(e *env, path string) error {
	conn, err := control.Dial(e.ctx, path)
	if err != nil {
		return &exitError{code: exitNetwork, err: err}
	}
	defer conn.Close()
	stop := context.AfterFunc(e.ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	r := control.NewLineReader(conn)
	for {
		line, err := r.Next()
		if errors.Is(err, control.ErrLineTooLong) {
			fmt.Fprintf(e.stderr, "dialtone: an event longer than %d bytes was skipped\n", control.MaxLine)
			continue
		}
		if err != nil {
			if e.ctx.Err() != nil || errors.Is(err, io.EOF) {
				return nil
			}
			return &exitError{code: exitNetwork, err: fmt.Errorf("control socket %s: %w", path, err)}
		}
		if _, err := fmt.Fprintf(e.stdout, "%s\n", line); err != nil {
			return nil // stdout closed (a pipe into head): nothing more to do
		}
	}
}
