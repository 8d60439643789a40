package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// printer writes events for people (short lines) or for programs (NDJSON, one object a line,
// always with "event" and "time"). The JSON field names are a documented interface.
type printer struct {
	w    io.Writer
	json bool
}

// record is one NDJSON line. Optional fields are omitted when empty.
type record struct {
	Event   string   `json:"event"`
	Time    string   `json:"time"`
	Account string   `json:"account,omitempty"`
	AOR     string   `json:"aor,omitempty"`
	Code    int      `json:"code,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Failure string   `json:"failure,omitempty"`
	Error   string   `json:"error,omitempty"`
	Expires *int     `json:"expires,omitempty"`
	Contact string   `json:"contact,omitempty"`
	RetryIn *float64 `json:"retry_in,omitempty"`
}

func (p *printer) emit(r record, human string) {
	if p.json {
		b, err := json.Marshal(r)
		if err != nil { // cannot happen for this struct; say so rather than print nothing
			b = []byte(fmt.Sprintf(`{"event":"error","time":%q,"error":%q}`, r.Time, err.Error()))
		}
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintln(p.w, human)
}

func stamp(t time.Time) string { return t.Format(time.RFC3339) }

// registration prints an account's state change.
func (p *printer) registration(s phone.AccountStatus) {
	r := record{Event: s.State.String(), Time: stamp(s.Time), Account: s.Account, AOR: s.AOR}
	who := fmt.Sprintf("%s %s", s.Time.Format("15:04:05"), s.Account)
	var human string
	switch s.State {
	case phone.Registering:
		human = fmt.Sprintf("%s: registering %s", who, s.AOR)
	case phone.Registered:
		exp := int(s.Expires / time.Second)
		r.Expires, r.Contact, r.Code = &exp, s.Contact, s.Code
		human = fmt.Sprintf("%s: registered %s (expires %ds, contact %s)", who, s.AOR, exp, s.Contact)
	case phone.RegFailed:
		r.Code, r.Reason, r.Failure = s.Code, s.Reason, s.Failure.String()
		if s.Err != nil {
			r.Error = s.Err.Error()
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s: registration failed: %s", who, failureText(s))
		if s.RetryIn > 0 {
			sec := s.RetryIn.Seconds()
			r.RetryIn = &sec
			fmt.Fprintf(&b, "; retrying in %s", s.RetryIn.Round(100*time.Millisecond))
		} else {
			b.WriteString("; not retrying")
		}
		human = b.String()
	case phone.Unregistered:
		if s.Err != nil {
			r.Error = s.Err.Error()
			human = fmt.Sprintf("%s: unregistered (the registrar did not confirm: %v)", who, s.Err)
		} else {
			human = fmt.Sprintf("%s: unregistered", who)
		}
	}
	p.emit(r, human)
}

// failureText explains a failure in one line a person understands.
func failureText(s phone.AccountStatus) string {
	switch s.Failure {
	case phone.FailureAuth:
		return fmt.Sprintf("authentication failed (%d %s): check the user name and password", s.Code, s.Reason)
	case phone.FailureConfig:
		if s.Err != nil {
			return s.Err.Error()
		}
	}
	if s.Err != nil {
		return s.Err.Error()
	}
	if s.Code != 0 {
		return fmt.Sprintf("%d %s", s.Code, s.Reason)
	}
	return s.Reason
}
