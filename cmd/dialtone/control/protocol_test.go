package control

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line    string
		want    Command
		wantErr string
	}{
		{line: `{"cmd":"dial","target":"sip:bob@example.com","account":"work","id":7}`,
			want: Command{ID: json.RawMessage("7"), Cmd: "dial", Target: "sip:bob@example.com", Account: "work"}},
		{line: `  {"cmd":"DTMF","digits":"12#*","call":"c2","id":"x"}  `,
			want: Command{ID: json.RawMessage(`"x"`), Cmd: "dtmf", Digits: "12#*", Call: "c2"}},
		{line: `{"cmd":"dnd","on":false}`, want: Command{Cmd: "dnd", On: ptr(false)}},
		{line: `{"cmd":"message","target":"bob","text":"two\nlines"}`, want: Command{Cmd: "message", Target: "bob", Text: "two\nlines"}},
		{line: `{"cmd":"reject","code":603}`, want: Command{Cmd: "reject", Code: 603}},
		{line: `garbage`, wantErr: "not a command object"},
		{line: `{"cmd":"fly"}`, wantErr: `unknown command "fly"`},
		{line: `{"target":"x"}`, wantErr: `missing "cmd"`},
		{line: `{"cmd":"dial"}`, wantErr: "dial needs a target"},
		{line: `{"cmd":"dtmf","digits":"12x"}`, wantErr: "not a DTMF digit"},
		{line: `{"cmd":"reject","code":200}`, wantErr: "must be 400-699"},
		{line: `{"cmd":"hangup","id":{"a":1}}`, wantErr: "id must be a string or a number"},
		{line: `{"cmd":"hangup","colour":"red"}`, wantErr: "unknown field"},
		{line: `{"cmd":"hold"}{"cmd":"resume"}`, wantErr: "more than one JSON value"},
		{line: `{"cmd":"transfer","target":"a\r\nb"}`, wantErr: "control characters"},
		{line: `{"cmd":"message","target":"bob"}`, wantErr: "needs a target and a text"},
	}
	for _, tt := range tests {
		got, err := ParseCommand([]byte(tt.line))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(tt.want)
		if string(gb) != string(wb) {
			t.Errorf("%s:\n got %s\nwant %s", tt.line, gb, wb)
		}
	}
	if _, err := ParseCommand([]byte("   ")); !errors.Is(err, ErrEmpty) {
		t.Errorf("blank line: %v, want ErrEmpty", err)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line    string
		want    Command
		wantErr string
	}{
		{line: "dtmf 12#", want: Command{Cmd: "dtmf", Digits: "12#"}},
		{line: "dtmf 1 2 #", want: Command{Cmd: "dtmf", Digits: "12#"}},
		{line: "HOLD", want: Command{Cmd: "hold"}},
		{line: "resume", want: Command{Cmd: "resume"}},
		{line: "transfer sip:x@y", want: Command{Cmd: "transfer", Target: "sip:x@y"}},
		{line: "hangup\r", want: Command{Cmd: "hangup"}},
		{line: "mute", want: Command{Cmd: "mute"}},
		{line: "unmute", want: Command{Cmd: "unmute"}},
		{line: "message sip:bob@example.com  see you  at 5", want: Command{Cmd: "message", Target: "sip:bob@example.com", Text: "see you  at 5"}},
		{line: "dnd on 603", want: Command{Cmd: "dnd", On: ptr(true), Code: 603}},
		{line: "dnd", want: Command{Cmd: "dnd"}},
		{line: "reject 486", want: Command{Cmd: "reject", Code: 486}},
		{line: "dial bob", want: Command{Cmd: "dial", Target: "bob"}},
		{line: "calls", want: Command{Cmd: "calls"}},
		{line: "hold now", wantErr: `unexpected "now"`},
		{line: "transfer", wantErr: "needs a target"},
		{line: "transfer a b", wantErr: `unexpected "b"`},
		{line: "dtmf", wantErr: "needs digits"},
		{line: "dtmf 12z", wantErr: "not a DTMF digit"},
		{line: "message bob", wantErr: "needs a target and a text"},
		{line: "reject busy", wantErr: "not a SIP code"},
		{line: "dnd maybe", wantErr: "want on or off"},
		{line: "jump", wantErr: `unknown command "jump"`},
		{line: "dial \xff", wantErr: "not valid UTF-8"},
	}
	for _, tt := range tests {
		got, err := ParseLine(tt.line)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.line, err)
			continue
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(tt.want)
		if string(gb) != string(wb) {
			t.Errorf("%q:\n got %s\nwant %s", tt.line, gb, wb)
		}
	}
	for _, blank := range []string{"", "   ", "# a comment"} {
		if _, err := ParseLine(blank); !errors.Is(err, ErrEmpty) {
			t.Errorf("%q: %v, want ErrEmpty", blank, err)
		}
	}
}

// TestReplyShape: replies keep the NDJSON rule (event and time) and echo the id verbatim.
func TestReplyShape(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := Command{ID: json.RawMessage(`"abc"`), Cmd: "hangup"}
	var m map[string]any
	if err := json.Unmarshal(Fail(c, now, errors.New("call c9: no such call")).Marshal(), &m); err != nil {
		t.Fatal(err)
	}
	if m["event"] != "reply" || m["time"] != "2026-01-02T03:04:05Z" || m["reply"] != "hangup" || m["id"] != "abc" || m["ok"] != false || m["error"] != "call c9: no such call" {
		t.Errorf("error reply: %v", m)
	}
	ok := OK(Command{ID: json.RawMessage("42"), Cmd: "dial"}, now)
	ok.CallID = "c3"
	r, err := ParseReply(ok.Marshal())
	if err != nil || !r.OK || string(r.ID) != "42" || r.CallID != "c3" || r.Error != "" {
		t.Errorf("ok reply round trip: %+v %v", r, err)
	}
	if _, err := ParseReply([]byte(`{"event":"answered","time":"x"}`)); err == nil {
		t.Error("an event parsed as a reply")
	}
}

// FuzzParseCommand: any input gives a command or an error, never a panic; a valid command
// survives a round trip through Marshal; a reply to it is one valid JSON line.
func FuzzParseCommand(f *testing.F) {
	f.Add([]byte(`{"cmd":"dial","target":"sip:bob@example.com"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := ParseCommand(line)
		rep := Fail(c, time.Unix(0, 0), err)
		if err == nil {
			rep = OK(c, time.Unix(0, 0))
		}
		out := rep.Marshal()
		if !json.Valid(out) || strings.Count(string(out), "\n") != 1 {
			t.Fatalf("reply %q is not one JSON line", out)
		}
		if err != nil {
			return
		}
		b, merr := c.Marshal()
		if merr != nil {
			t.Fatalf("marshal %+v: %v", c, merr)
		}
		again, err := ParseCommand(b)
		if err != nil {
			t.Fatalf("round trip of %q: %v", b, err)
		}
		if b2, _ := again.Marshal(); string(b2) != string(b) {
			t.Fatalf("round trip changed %q to %q", b, b2)
		}
	})
}

// FuzzParseLine: the text form never panics and what it accepts is a valid command that
// survives the JSON form too (dialtone ctl sends ParseLine's result over the socket).
func FuzzParseLine(f *testing.F) {
	f.Add("dtmf 12#")
	f.Fuzz(func(t *testing.T, line string) {
		c, err := ParseLine(line)
		if err != nil {
			return
		}
		b, err := c.Marshal()
		if err != nil {
			t.Fatalf("marshal %+v: %v", c, err)
		}
		if _, err := ParseCommand(b); err != nil {
			t.Fatalf("%q parsed, but its JSON %q does not: %v", line, b, err)
		}
	})
}

// TestFromArgs: arguments the shell split stay whole (`dialtone ctl dial "Bob Smith"`), and
// the rest reads as ParseLine does.
func TestFromArgs(t *testing.T) {
	tests := []struct {
		word    string
		args    []string
		want    Command
		wantErr string
	}{
		{word: "dial", args: []string{"Bob Smith"}, want: Command{Cmd: "dial", Target: "Bob Smith"}},
		{word: "TRANSFER", args: []string{"Front Desk"}, want: Command{Cmd: "transfer", Target: "Front Desk"}},
		{word: "message", args: []string{"Bob Smith", "see you", "at 5"}, want: Command{Cmd: "message", Target: "Bob Smith", Text: "see you at 5"}},
		{word: "dtmf", args: []string{"1", "2#"}, want: Command{Cmd: "dtmf", Digits: "12#"}},
		{word: "dnd", args: []string{"on", "603"}, want: Command{Cmd: "dnd", On: ptr(true), Code: 603}},
		{word: "dial", args: []string{"Bob", "Smith"}, wantErr: `unexpected "Smith"`},
		{word: "dial", args: []string{" bob "}, want: Command{Cmd: "dial", Target: "bob"}},
		// A quoted argument list reads as before: the arguments joined, then split.
		{word: "dtmf", args: []string{"1 2#"}, want: Command{Cmd: "dtmf", Digits: "12#"}},
		{word: "message", args: []string{"bob hello there"}, want: Command{Cmd: "message", Target: "bob", Text: "hello there"}},
		{word: "dnd", args: []string{"on 603"}, want: Command{Cmd: "dnd", On: ptr(true), Code: 603}},
		{word: "message", args: []string{"Bob"}, wantErr: "text"},
		{word: "dial", args: []string{"\xff"}, wantErr: "UTF-8"},
		{word: "dial", args: []string{strings.Repeat("x", MaxLine)}, wantErr: "longer than"},
		{word: "", wantErr: "empty command"},
	}
	for _, tc := range tests {
		got, err := FromArgs(tc.word, tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("FromArgs(%q, %q) error %v, want %q", tc.word, tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FromArgs(%q, %q) = %+v, %v; want %+v", tc.word, tc.args, got, err, tc.want)
		}
	}
}

// TestRefusedCommandKeepsItsID: a command refused for an unknown field or a wrong type still has
// its id echoed, so the client can tell which of its commands it was; an id that does not read
// as one is not.
func TestRefusedCommandKeepsItsID(t *testing.T) {
	c, err := ParseCommand([]byte(`{"id":42,"cmd":"hold","colour":"blue"}`))
	if err == nil || string(c.ID) != "42" {
		t.Fatalf("an unknown field: id %s, err %v; want the error with id 42", c.ID, err)
	}
	c, err = ParseCommand([]byte(`{"id":{"x":1},"cmd":"hold","colour":"blue"}`))
	if err == nil || c.ID != nil {
		t.Fatalf("an id that is an object: id %s, err %v; want no id echoed", c.ID, err)
	}
}

// TestRefusedCommandNamesItself: the reply to a command refused for an unknown field still
// names the command (it came back with an empty "reply").
func TestRefusedCommandNamesItself(t *testing.T) {
	c, err := ParseCommand([]byte(`{"id":1,"cmd":"HOLD","colour":"blue"}`))
	if err == nil || c.Cmd != "hold" {
		t.Fatalf("cmd %q, err %v; want hold and an error", c.Cmd, err)
	}
}
