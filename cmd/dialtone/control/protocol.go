// Package control is the wire format of dialtone's script interface: the NDJSON commands and
// replies of the control socket (`dialtone serve`, `dialtone ctl`) and the one-line text
// commands of `dialtone call --stdin`. It knows nothing of SIP or of the phone: it parses,
// validates and serialises, and (server.go) carries lines between a unix socket and a handler.
// It lives under cmd/dialtone because sockets, stdin and their framing are front-end concerns;
// the phone core only offers the methods the commands call.
package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLine is the longest line accepted either way (a command with a message's text, an event
// carrying one): a 4096-byte text of '<' or control characters is six times that in JSON's
// \u escapes, with room for the rest.
const MaxLine = 64 * 1024

// maxID bounds the echoed "id", so a client cannot make every reply huge.
const maxID = 256

// Command is one parsed command. Fields a command does not use are empty.
type Command struct {
	// ID is echoed verbatim in the reply: any JSON string or number the client chooses.
	ID      json.RawMessage `json:"id,omitempty"`
	Cmd     string          `json:"cmd"`
	Call    string          `json:"call,omitempty"`    // dialtone's call id ("c1"); "" = the only call
	Target  string          `json:"target,omitempty"`  // dial, transfer, message
	Account string          `json:"account,omitempty"` // dial, message: which account ("" = the first)
	Digits  string          `json:"digits,omitempty"`  // dtmf
	Text    string          `json:"text,omitempty"`    // message
	Code    int             `json:"code,omitempty"`    // reject, dnd: the SIP status to answer with
	On      *bool           `json:"on,omitempty"`      // dnd: switch on or off; absent asks
}

// Commands lists every command with the fields it needs, for errors and help.
var Commands = map[string]string{
	"dial":     "target [account]",
	"answer":   "[call]",
	"reject":   "[call] [code]",
	"hangup":   "[call]",
	"hold":     "[call]",
	"resume":   "[call]",
	"transfer": "target [call]",
	"dtmf":     "digits [call]",
	"mute":     "[call]",
	"unmute":   "[call]",
	"message":  "target text [account]",
	"calls":    "",
	"dnd":      "[on] [code]",
}

// ErrEmpty is an empty or blank line: not an error worth a reply on stdin.
var ErrEmpty = errors.New("empty command")

// ParseCommand parses one NDJSON command line of the control socket.
func ParseCommand(line []byte) (Command, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Command{}, ErrEmpty
	}
	if len(line) > MaxLine {
		return Command{}, fmt.Errorf("command longer than %d bytes", MaxLine)
	}
	var c Command
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// An unknown field or a wrong type elsewhere: the id, if it reads, is echoed so that
		// the client can tell which command was refused; one that does not read is not.
		var head struct {
			ID  json.RawMessage `json:"id"`
			Cmd string          `json:"cmd"`
		}
		c = Command{}
		if json.Unmarshal(line, &head) == nil {
			if len(head.ID) > 0 && checkID(head.ID) == nil {
				c.ID = head.ID
			}
			if _, known := Commands[strings.ToLower(head.Cmd)]; known {
				c.Cmd = strings.ToLower(head.Cmd) // the reply names the command refused
			}
		}
		return c, fmt.Errorf("not a command object: %v", err)
	}
	if dec.More() {
		return Command{ID: c.ID}, errors.New("more than one JSON value on the line")
	}
	if err := checkID(c.ID); err != nil {
		return Command{}, err
	}
	c.Cmd = strings.ToLower(c.Cmd)
	return c, c.Validate()
}

// checkID accepts a JSON string or number of bounded size as a command id.
func checkID(id json.RawMessage) error {
	if len(id) == 0 {
		return nil
	}
	if len(id) > maxID {
		return fmt.Errorf("id longer than %d bytes", maxID)
	}
	switch id[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return nil
	}
	if string(id) == "null" {
		return nil
	}
	return errors.New("id must be a string or a number")
}

// Validate checks that the command exists and has what it needs.
func (c Command) Validate() error {
	if c.Cmd == "" {
		return errors.New(`missing "cmd"`)
	}
	if _, ok := Commands[c.Cmd]; !ok {
		return fmt.Errorf("unknown command %q (known: %s)", c.Cmd, strings.Join(Names(), ", "))
	}
	for name, v := range map[string]string{"call": c.Call, "target": c.Target, "account": c.Account, "digits": c.Digits} {
		if strings.ContainsAny(v, "\r\n\x00") || !utf8.ValidString(v) {
			return fmt.Errorf("%s: control characters or invalid UTF-8", name)
		}
	}
	switch c.Cmd {
	case "dial", "transfer":
		if strings.TrimSpace(c.Target) == "" {
			return fmt.Errorf("%s needs a target", c.Cmd)
		}
	case "dtmf":
		if c.Digits == "" {
			return errors.New("dtmf needs digits")
		}
		for _, d := range c.Digits {
			if !strings.ContainsRune("0123456789*#ABCDabcd", d) {
				return fmt.Errorf("dtmf: %q is not a DTMF digit (0-9 * # A-D)", d)
			}
		}
	case "message":
		if strings.TrimSpace(c.Target) == "" || c.Text == "" {
			return errors.New("message needs a target and a text")
		}
		if !utf8.ValidString(c.Text) {
			return errors.New("message: the text is not valid UTF-8")
		}
	case "reject":
		if c.Code != 0 && (c.Code < 400 || c.Code > 699) {
			return fmt.Errorf("reject code %d: must be 400-699", c.Code)
		}
	case "dnd":
		if c.Code != 0 && (c.Code < 400 || c.Code > 699) {
			return fmt.Errorf("dnd code %d: must be 400-699 (486 busy, 603 decline)", c.Code)
		}
	}
	return nil
}

// Names lists the commands in a stable order.
func Names() []string {
	return []string{"dial", "answer", "reject", "hangup", "hold", "resume", "transfer", "dtmf", "mute", "unmute", "message", "calls", "dnd"}
}

// ParseLine parses the text form used by `call --stdin` and serve's socket: a command word
// and its arguments separated by blanks, e.g. "dtmf 12#", "transfer sip:x@y",
// "message sip:bob@example.com see you at 5", "dnd on 603", "reject 603".
func ParseLine(line string) (Command, error) {
	if len(line) > MaxLine {
		return Command{}, fmt.Errorf("command longer than %d bytes", MaxLine)
	}
	if !utf8.ValidString(line) {
		return Command{}, errors.New("the line is not valid UTF-8")
	}
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return Command{}, ErrEmpty
	}
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	return parse(word, strings.Fields(rest), rest)
}

// FromArgs is ParseLine for arguments a shell has split already (`dialtone ctl dial "Bob
// Smith"`). A dial or transfer target given as one argument stays whole, blanks and all (a
// contact's name), and so does a message's target followed by its text as other arguments;
// everything else reads as the arguments joined by blanks, as before ("dtmf '1 2#'",
// "message 'bob hello there'", "dnd 'on 603'").
func FromArgs(word string, args []string) (Command, error) {
	joined := strings.Join(append([]string{word}, args...), " ")
	w := strings.ToLower(strings.TrimSpace(word))
	switch {
	case (w == "dial" || w == "transfer") && len(args) == 1,
		w == "message" && len(args) >= 2:
		if len(joined) > MaxLine {
			return Command{}, fmt.Errorf("command longer than %d bytes", MaxLine)
		}
		if !utf8.ValidString(joined) {
			return Command{}, errors.New("the command is not valid UTF-8")
		}
		target := strings.TrimSpace(args[0])
		if target == "" {
			return Command{Cmd: w}, fmt.Errorf("%s needs a target (usage: %s %s)", w, w, usage(w))
		}
		c := Command{Cmd: w, Target: target}
		if w == "message" {
			c.Text = strings.TrimSpace(strings.Join(args[1:], " "))
		}
		return c, c.Validate()
	}
	return ParseLine(joined)
}

// parse reads a command word and its arguments; rest is the arguments as one text (a
// message's target and text come from it).
func parse(word string, args []string, rest string) (Command, error) {
	c := Command{Cmd: strings.ToLower(word)}
	if _, ok := Commands[c.Cmd]; !ok {
		return c, fmt.Errorf("unknown command %q (known: %s)", word, strings.Join(Names(), ", "))
	}
	want := func(n int) error {
		if len(args) > n {
			return fmt.Errorf("%s: unexpected %q (usage: %s %s)", c.Cmd, strings.Join(args[n:], " "), c.Cmd, usage(c.Cmd))
		}
		return nil
	}
	var err error
	switch c.Cmd {
	case "dial", "transfer":
		if len(args) == 0 {
			return c, fmt.Errorf("%s needs a target (usage: %s TARGET)", c.Cmd, c.Cmd)
		}
		c.Target, err = args[0], want(1)
	case "dtmf":
		if len(args) == 0 {
			return c, errors.New("dtmf needs digits (usage: dtmf 12#)")
		}
		c.Digits, err = strings.Join(args, ""), nil // "dtmf 1 2 #" is "12#"
	case "message":
		target, text, _ := strings.Cut(rest, " ")
		c.Target, c.Text = target, strings.TrimSpace(text)
	case "reject":
		if len(args) > 0 {
			c.Code, err = strconv.Atoi(args[0])
			if err != nil {
				return c, fmt.Errorf("reject: %q is not a SIP code", args[0])
			}
		}
		if err == nil {
			err = want(1)
		}
	case "dnd":
		if len(args) > 0 {
			switch strings.ToLower(args[0]) {
			case "on":
				c.On = ptr(true)
			case "off":
				c.On = ptr(false)
			default:
				return c, fmt.Errorf("dnd: %q: want on or off", args[0])
			}
		}
		if len(args) > 1 {
			c.Code, err = strconv.Atoi(args[1])
			if err != nil {
				return c, fmt.Errorf("dnd: %q is not a SIP code", args[1])
			}
		}
		if err == nil {
			err = want(2)
		}
	default:
		err = want(0)
	}
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

func usage(cmd string) string {
	switch cmd {
	case "dial", "transfer":
		return "TARGET"
	case "dtmf":
		return "DIGITS"
	case "message":
		return "URI TEXT"
	case "reject":
		return "[CODE]"
	case "dnd":
		return "[on|off] [CODE]"
	}
	return "(no arguments)"
}

func ptr[T any](v T) *T { return &v }

// Marshal serialises a command as one NDJSON line (with its newline).
func (c Command) Marshal() ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("command %s: %w", c.Cmd, err)
	}
	return append(b, '\n'), nil
}

// CallInfo is one call in the reply to "calls".
type CallInfo struct {
	CallID     string `json:"call_id"`
	State      string `json:"state"`
	Direction  string `json:"direction"`
	Peer       string `json:"peer"`
	Account    string `json:"account,omitempty"`
	Muted      bool   `json:"muted,omitempty"`
	Held       bool   `json:"held,omitempty"`        // we hold the call
	RemoteHeld bool   `json:"remote_held,omitempty"` // the far end holds us
	Since      string `json:"since,omitempty"`
}

// Reply answers one command. Like every event it has "event" ("reply") and "time", so a
// reader of the mixed stream of a control connection tells replies from events by "event"
// alone; "reply" names the command answered and "id" echoes the command's id.
type Reply struct {
	Event  string          `json:"event"`
	Time   string          `json:"time"`
	Reply  string          `json:"reply"`
	ID     json.RawMessage `json:"id,omitempty"`
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	CallID string          `json:"call_id,omitempty"` // dial: the new call; others: the call acted on
	Calls  *[]CallInfo     `json:"calls,omitempty"`   // calls
	DND    *bool           `json:"dnd,omitempty"`     // dnd
	Code   int             `json:"code,omitempty"`    // dnd: the status new calls get
}

// OK builds a successful reply to c.
func OK(c Command, now time.Time) Reply {
	return Reply{Event: "reply", Time: now.Format(time.RFC3339), Reply: c.Cmd, ID: c.ID, OK: true}
}

// Fail builds an error reply to c (c may be the zero Command when the line was unreadable).
func Fail(c Command, now time.Time, err error) Reply {
	r := Reply{Event: "reply", Time: now.Format(time.RFC3339), Reply: c.Cmd, ID: c.ID, Error: "error"}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// Marshal serialises a reply as one NDJSON line (with its newline).
func (r Reply) Marshal() []byte {
	b, err := json.Marshal(r)
	if err != nil { // only an invalid raw id could fail; drop it rather than lose the reply
		r.ID = nil
		b, _ = json.Marshal(r)
	}
	return append(b, '\n')
}

// ParseReply reads a reply line (for the client).
func ParseReply(line []byte) (Reply, error) {
	var r Reply
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("reply: %w", err)
	}
	if r.Event != "reply" {
		return r, fmt.Errorf("not a reply: event %q", r.Event)
	}
	return r, nil
}
