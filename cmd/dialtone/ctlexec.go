package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dialtone/dialtone/cmd/dialtone/control"
	"github.com/dialtone/dialtone/phone"
)

// ctlMessageTimeout bounds a "message" command: the MESSAGE's transaction, not the script.
const ctlMessageTimeout = 40 * time.Second

// controller carries out control commands on a phone. `call --stdin` and `serve` share it;
// only serve can place and answer calls, because only it knows how to open their audio.
type controller struct {
	ph      *phone.Phone
	only    string // call --stdin: every command acts on this call
	account string // the account dial and message use when the command names none
	// names turns a contact's name into its address for message and transfer, as for dial and
	// as `dialtone message NAME` does (nil: none).
	names *contactNames

	dial   func(account, target string) (string, error) // nil: "dial" is refused
	answer func(id string) error                        // nil: "answer" is refused
}

// do runs one parsed command and says how it went. It never panics on a bad command: every
// failure is an error reply.
func (k *controller) do(ctx context.Context, c control.Command) control.Reply {
	rep, err := k.run(ctx, c)
	if err != nil {
		f := control.Fail(c, time.Now(), err)
		f.CallID = rep.CallID // the call it acted on, when it got that far (the README's promise)
		return f
	}
	return rep
}

func (k *controller) run(ctx context.Context, c control.Command) (control.Reply, error) {
	ok := control.OK(c, time.Now())
	if c.Account == "" {
		c.Account = k.account
	}
	switch c.Cmd {
	case "dial":
		if k.dial == nil {
			return ok, errors.New("dial works only in dialtone serve")
		}
		id, err := k.dial(c.Account, c.Target)
		ok.CallID = id
		return ok, err
	case "calls":
		list := callInfos(k.ph.Calls())
		ok.Calls = &list
		return ok, nil
	case "dnd":
		if c.On == nil && c.Code != 0 {
			return ok, errors.New(`dnd: a code needs "on" (true or false): a code alone changes nothing`)
		}
		return k.dnd(c, ok)
	case "message":
		mctx, cancel := context.WithTimeout(ctx, ctlMessageTimeout)
		defer cancel()
		return ok, k.ph.SendMessage(mctx, c.Account, k.names.target(c.Target), c.Text)
	}
	id, err := k.callFor(c)
	if err != nil {
		return ok, err
	}
	ok.CallID = id
	switch c.Cmd {
	case "answer":
		if k.answer == nil {
			return ok, errors.New("answer works only in dialtone serve")
		}
		return ok, k.answer(id)
	case "reject":
		return ok, k.ph.Reject(id, c.Code)
	case "hangup":
		return ok, k.ph.Hangup(id)
	case "hold":
		return ok, k.ph.Hold(id)
	case "resume":
		return ok, k.ph.Resume(id)
	case "transfer":
		return ok, k.ph.Transfer(id, k.names.target(c.Target))
	case "dtmf":
		return ok, k.ph.SendDTMF(id, c.Digits)
	case "mute", "unmute":
		return ok, k.ph.Mute(id, c.Cmd == "mute")
	}
	return ok, fmt.Errorf("unknown command %q", c.Cmd)
}

// callFor picks the call a command acts on: the one named, else the only call there is (for
// answer and reject: the only one ringing in).
func (k *controller) callFor(c control.Command) (string, error) {
	if k.only != "" {
		if c.Call != "" && c.Call != k.only {
			return "", fmt.Errorf("call %s: this command line controls call %s only", c.Call, k.only)
		}
		return k.only, nil
	}
	if c.Call != "" {
		return c.Call, nil
	}
	var ids []string
	for _, s := range k.ph.Calls() {
		if s.State == phone.CallEnded {
			continue
		}
		if (c.Cmd == "answer" || c.Cmd == "reject") && s.State != phone.CallIncoming {
			continue
		}
		ids = append(ids, s.ID)
	}
	sort.Strings(ids)
	switch len(ids) {
	case 0:
		if c.Cmd == "answer" || c.Cmd == "reject" {
			return "", errors.New("no incoming call is ringing")
		}
		return "", errors.New("no call in progress")
	case 1:
		return ids[0], nil
	}
	return "", fmt.Errorf("%d calls (%s): say which with \"call\"", len(ids), strings.Join(ids, ", "))
}

func (k *controller) dnd(c control.Command, ok control.Reply) (control.Reply, error) {
	if c.On != nil {
		k.ph.SetDND(*c.On, c.Code) // 0: the code configured (dnd_code) or set before stays
	}
	on, code := k.ph.DND()
	ok.DND, ok.Code = &on, code
	return ok, nil
}

// callInfos lists calls for the "calls" reply, oldest first.
func callInfos(calls []phone.CallStatus) []control.CallInfo {
	sort.Slice(calls, func(i, j int) bool { return calls[i].Started.Before(calls[j].Started) })
	out := make([]control.CallInfo, 0, len(calls))
	for _, s := range calls {
		ci := control.CallInfo{CallID: s.ID, State: s.State.String(), Direction: s.Direction.String(),
			Peer: s.Peer, Account: s.Account, Muted: s.Muted, Held: s.Held, RemoteHeld: s.RemoteHeld}
		if !s.Started.IsZero() {
			ci.Since = stamp(s.Started)
		}
		out = append(out, ci)
	}
	return out
}
