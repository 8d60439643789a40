package resolve

import (
	"fmt"
	"strings"
	"time"
)

// Trace is every DNS question one Resolve asked and what came back, in order: what `dialtone
// doctor` shows so that a user can see why a server was (or was not) found.
type Trace struct {
	Query   Query
	Servers []string // the DNS servers asked, in order
	Steps   []Step
}

// Step is one question and its answer.
type Step struct {
	Name    string // the name asked, fully qualified
	Type    string // "NAPTR", "SRV", "A", "AAAA"
	Server  string // the server that answered ("" when none did)
	Cached  bool   // answered from the cache (TTLs are what is left of them)
	Rcode   string // "NOERROR", "NXDOMAIN"; "" when no answer came
	Records []Record
	Err     error // no answer at all: timeout, refused, every server failing
	Elapsed time.Duration
}

// Record is one resource record of an answer.
type Record struct {
	Name string
	Type string
	TTL  uint32 // seconds
	Data string // the record's data as in a zone file, e.g. "10 5 5060 sip1.example.com."
}

func (t *Trace) add(s Step) {
	if t == nil {
		return
	}
	t.Steps = append(t.Steps, s)
}

// String is the trace as lines a person can read (and paste).
func (t *Trace) String() string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "locate %s via %s\n", t.Query, strings.Join(t.Servers, ", "))
	for _, s := range t.Steps {
		from := s.Server
		if s.Cached {
			from = "cache"
		}
		switch {
		case s.Err != nil:
			fmt.Fprintf(&b, "  %s %s: %v\n", s.Type, s.Name, s.Err)
		case len(s.Records) == 0:
			fmt.Fprintf(&b, "  %s %s: %s, no records (%s)\n", s.Type, s.Name, s.Rcode, from)
		default:
			fmt.Fprintf(&b, "  %s %s: %s (%s)\n", s.Type, s.Name, s.Rcode, from)
			for _, r := range s.Records {
				fmt.Fprintf(&b, "    %s TTL %d %s %s\n", r.Name, r.TTL, r.Type, r.Data)
			}
		}
	}
	return b.String()
}
