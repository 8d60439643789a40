// Package diag checks an account's whole path to its provider (configuration, DNS, each SIP
// transport, the TLS chain, the NAT in between, a REGISTER round trip) and says for every
// finding what it means and how to fix it, in words a user can paste into a support ticket.
// It knows nothing of terminals: the CLI prints its Report.
package diag

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/dialtone/dialtone/phone"
)

// Status is a check's outcome, ordered from best to worst (Skipped sorts below Warn: a check
// that could not run is not itself a problem; the check that stopped it says why).
type Status int

const (
	OK Status = iota
	Skipped
	Warn
	Fail
)

var statusNames = [...]string{"ok", "skipped", "warn", "fail"}

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "unknown"
	}
	return statusNames[s]
}

// MarshalText makes a Status a JSON string.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Fact is one thing a check found, in the order it is worth reading.
type Fact struct {
	Key   string
	Value any
}

// Facts keep their order in text and become one JSON object.
type Facts []Fact

// MarshalJSON writes the facts as an object in their own order.
func (fs Facts) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, fmt.Errorf("fact %s: %w", f.Key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Check is one finding. Every check that is not OK has a Verdict (what is wrong, in plain
// words) and, where the user can do something, a Fix. Note is an aside on an OK check.
type Check struct {
	Name    string        `json:"name"`  // config, dns, transport-udp, transport-tcp, transport-tls, tls, nat, register
	Title   string        `json:"title"` // a line for people
	Status  Status        `json:"status"`
	Facts   Facts         `json:"facts"`
	Verdict string        `json:"verdict,omitempty"`
	Fix     string        `json:"fix,omitempty"`
	Note    string        `json:"note,omitempty"`
	Failure phone.Failure `json:"-"` // the class of a Fail, for the exit code
}

func (c *Check) add(key string, value any) { c.Facts = append(c.Facts, Fact{key, value}) }

func (c *Check) fail(f phone.Failure, verdict, fix string) {
	c.Status, c.Failure, c.Verdict, c.Fix = Fail, f, verdict, fix
}

func (c *Check) warn(verdict, fix string) {
	if c.Status < Warn {
		c.Status = Warn
	}
	c.Verdict, c.Fix = verdict, fix
}

func (c *Check) skip(why string) { c.Status, c.Verdict = Skipped, why }

// Report is the whole diagnosis of one account.
type Report struct {
	Account string   `json:"account"`
	AOR     string   `json:"aor"`
	Checks  []*Check `json:"checks"`
}

// Worst is the worst status of all checks.
func (r *Report) Worst() Status {
	w := OK
	for _, c := range r.Checks {
		w = max(w, c.Status)
	}
	return w
}

// WorstFailure is the failure class that decides the exit code: the first failed check's.
// The checks run in the order in which they depend on each other (no name, no address; no
// address, no REGISTER), so the first failure is the cause and later ones its echoes.
func (r *Report) WorstFailure() phone.Failure {
	for _, c := range r.Checks {
		if c.Status == Fail {
			if c.Failure == phone.NoFailure {
				return phone.FailureNetwork
			}
			return c.Failure
		}
	}
	return phone.NoFailure
}

// Counts says how many checks ended in each status.
func (r *Report) Counts() map[Status]int {
	m := map[Status]int{}
	for _, c := range r.Checks {
		m[c.Status]++
	}
	return m
}
