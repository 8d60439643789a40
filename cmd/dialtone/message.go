package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
)

type messageCmd struct {
	Target  string        `arg:"" help:"Who to send to: sip:user@host[:port], user@host, tel:NUMBER, a contact's name, or a user (completed with the account's domain)."`
	Text    string        `arg:"" help:"The text; - reads it from standard input."`
	Timeout time.Duration `help:"Give up if the far end has not answered within this time." default:"40s"`
}

// Run sends one instant message (SIP MESSAGE, text/plain UTF-8). Exit 0 on 2xx, 13 not
// found, 3 authentication failed, 4 network failure, 5 any other refusal.
func (c *messageCmd) Run(e *env) error {
	text := c.Text
	if text == "-" {
		// One byte more than a message and its newline: enough to tell a text too long, which is
		// said as such (cut at the limit, it could end inside a character: "not valid UTF-8").
		b, err := readAllCtx(e.ctx, io.LimitReader(e.stdin, phone.MaxMessageBytes+2))
		if e.ctx.Err() != nil {
			return &exitError{code: exitNetwork, err: errors.New("message: interrupted before it was sent")}
		}
		if err != nil {
			return usageErr("reading the text from standard input: %v", err)
		}
		text = strings.TrimSuffix(string(b), "\n")
		if len(text) > phone.MaxMessageBytes {
			return usageErr("the text on standard input is over %d bytes: at most that fits in one SIP MESSAGE", phone.MaxMessageBytes)
		}
	}
	if text == "" {
		return usageErr("the message is empty")
	}
	cfg, err := e.phoneConfig()
	if err != nil {
		return err
	}
	for i := range cfg.Accounts {
		cfg.Accounts[i].Register = false // sending needs no registration
	}
	account := ""
	if len(cfg.Accounts) > 0 {
		account = cfg.Accounts[0].Name
	}
	r, err := e.startPhone(cfg, true)
	if err != nil {
		if e.ctx.Err() != nil {
			// Interrupted while starting: not sent, as when interrupted while sending (4);
			// startPhone's own answer to a signal is exit 0, which here would say delivered.
			return &exitError{code: exitNetwork, err: errors.New("message: interrupted before it was sent")}
		}
		return err
	}
	out := &printer{w: e.stdout, json: e.cli.JSON, names: e.loadContactNames()}
	ctx, cancel := context.WithTimeout(e.ctx, c.Timeout)
	sendErr := r.SendMessage(ctx, account, out.names.target(c.Target), text)
	cancel()
	rerr := r.finish(func(ev phone.Event) {
		if m, ok := ev.(phone.Message); ok && m.Direction == phone.Outgoing {
			out.message(m)
		}
	})
	if rerr != nil && sendErr == nil {
		sendErr = rerr
	}
	if sendErr == nil {
		return nil
	}
	var pe *phone.Error
	if errors.As(sendErr, &pe) {
		return &exitError{code: exitCodeForMessage(pe.Failure), err: sendErr}
	}
	return &exitError{code: exitNetwork, err: fmt.Errorf("message: %w", sendErr)}
}

// exitCodeForMessage: a message has no busy or no-answer; any refusal but "not found" and
// authentication is a refusal (5).
func exitCodeForMessage(f phone.Failure) int {
	switch f {
	case phone.FailureNotFound, phone.FailureAuth, phone.FailureNetwork, phone.FailureConfig:
		return exitCodeFor(f)
	}
	return exitRefused
}
