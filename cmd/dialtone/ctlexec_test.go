package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/cmd/dialtone/control"
	"github.com/dialtone/dialtone/phone"
)

// TestControllerErrors: commands that cannot be carried out get error replies naming why,
// and the ones that need no call work on an idle phone.
func TestControllerErrors(t *testing.T) {
	ph, err := phone.New(phone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	k := &controller{ph: ph}
	ctx := context.Background()
	cases := []struct {
		cmd  control.Command
		want string
	}{
		{control.Command{Cmd: "hangup"}, "no call in progress"},
		{control.Command{Cmd: "answer"}, "no incoming call is ringing"},
		{control.Command{Cmd: "hold", Call: "c9"}, "no such call"},
		{control.Command{Cmd: "dtmf", Call: "c3", Digits: "1"}, "no such call"},
		{control.Command{Cmd: "transfer", Call: "c3", Target: "sip:x@y"}, "no such call"},
		{control.Command{Cmd: "dial", Target: "sip:bob@example.com"}, "dial works only in dialtone serve"},
	}
	for _, tc := range cases {
		rep := k.do(ctx, tc.cmd)
		if rep.OK || !strings.Contains(rep.Error, tc.want) || rep.Event != "reply" || rep.Reply != tc.cmd.Cmd {
			t.Errorf("%s: %+v, want error %q", tc.cmd.Cmd, rep, tc.want)
		}
	}
	if rep := k.do(ctx, control.Command{Cmd: "calls"}); !rep.OK || rep.Calls == nil || len(*rep.Calls) != 0 {
		t.Errorf("calls on an idle phone: %+v", rep)
	}
	on := true
	rep := k.do(ctx, control.Command{Cmd: "dnd", On: &on, Code: 603})
	if !rep.OK || rep.DND == nil || !*rep.DND || rep.Code != 603 {
		t.Errorf("dnd on 603: %+v", rep)
	}
	if on, code := ph.DND(); !on || code != 603 {
		t.Errorf("the phone's DND is %v %d after dnd on 603", on, code)
	}
	// "dnd on" without a code keeps the one set (dnd_code in the config, or an earlier one): it
	// became 486 whatever was configured.
	off := false
	k.do(ctx, control.Command{Cmd: "dnd", On: &off})
	if rep := k.do(ctx, control.Command{Cmd: "dnd", On: &on}); !rep.OK || rep.Code != 603 {
		t.Errorf("dnd off, then on with no code: %+v, want 603 kept", rep)
	}
	var text bytes.Buffer
	printReply(&printer{w: &text}, k.do(ctx, control.Command{Cmd: "dnd"}))
	printReply(&printer{w: &text}, control.Reply{Event: "reply", Reply: "message", Error: "403 Forbidden\x1b]52;c;eA==\x07"})
	if got := text.String(); !strings.Contains(got, "603") || strings.Contains(got, "\x1b") {
		t.Errorf("call --stdin text replies %q: want the dnd state shown and the error cleaned", got)
	}
	if rep := k.do(ctx, control.Command{Cmd: "dnd", Code: 486}); rep.OK || !strings.Contains(rep.Error, "needs") {
		t.Errorf("a dnd code without on: %+v, want an error, not silence", rep)
	}
	stdinK := &controller{ph: ph, only: "c7"}
	if rep := stdinK.do(ctx, control.Command{Cmd: "hold"}); rep.OK || rep.CallID != "c7" {
		t.Errorf("an error reply about call c7: %+v, want its call_id", rep)
	}
	only := &controller{ph: ph, only: "c1"}
	if rep := only.do(ctx, control.Command{Cmd: "mute", Call: "c2"}); rep.OK || !strings.Contains(rep.Error, "controls call c1 only") {
		t.Errorf("--stdin naming another call: %+v", rep)
	}
}

// TestStdinReplies: call --stdin answers every line in order, bad ones with an error, as NDJSON
// with --json, and stops when asked even though its input never ends.
func TestStdinReplies(t *testing.T) {
	ph, err := phone.New(phone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	var buf bytes.Buffer
	out := &printer{w: &buf, json: true}
	e := &env{ctx: context.Background(), stdin: pr}
	stop := stdinFlags{Stdin: true}.readCommands(e, ph, "c1", out)
	input := "\n# a comment\nfly away\nmute\n" + strings.Repeat("x", control.MaxLine+5) + "\ndtmf 1x\n"
	if _, err := io.WriteString(pw, input); err != nil {
		t.Fatal(err)
	}
	want := []struct{ reply, err string }{
		{"fly", `unknown command "fly"`},
		{"mute", "call c1: no such call"},
		{"", "line longer than"},
		{"dtmf", "not a DTMF digit"},
	}
	var lines []string
	for i := 0; i < 100; i++ {
		out.w.(*syncWriter).mu.Lock()
		lines = strings.Split(strings.TrimSpace(buf.String()), "\n")
		out.w.(*syncWriter).mu.Unlock()
		if len(lines) >= len(want) && lines[0] != "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop() // the pipe stays open: stop must not wait for the reader
	if len(lines) != len(want) {
		t.Fatalf("%d reply lines, want %d: %q", len(lines), len(want), lines)
	}
	for i, w := range want {
		var r control.Reply
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatalf("line %d %q: %v", i, lines[i], err)
		}
		if r.Event != "reply" || r.Time == "" || r.OK || r.Reply != w.reply || !strings.Contains(r.Error, w.err) {
			t.Errorf("reply %d: %+v, want %s error %q", i, r, w.reply, w.err)
		}
	}
}
