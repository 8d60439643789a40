package diag

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/resolve"
)

// RFC3263 resolves with phone/resolve (NAPTR, SRV, A/AAAA, with TTLs), one question per
// transport with that transport fixed, as the phone asks for an account's transport. Every
// DNS question asked becomes a Record, also the empty and failed ones: "no _sip._tcp record"
// is often the finding.
type RFC3263 struct{ R *resolve.Resolver }

// Resolve implements Resolver.
func (x RFC3263) Resolve(ctx context.Context, host string, port int, transports []phone.Transport) (*Answer, error) {
	ans := &Answer{}
	if s := x.R.Servers(); len(s) > 0 {
		ans.Notes = append(ans.Notes, "asked "+strings.Join(s, ", "))
	}
	seen := map[string]bool{}
	var errs []error
	for _, t := range transports {
		tctx, cancel := context.WithTimeout(ctx, dnsPerTransport)
		ts, tr, err := x.R.Resolve(tctx, resolve.Query{Host: host, Port: port, Transport: resolve.Transport(t.String())})
		cancel()
		if tr != nil {
			for _, st := range tr.Steps {
				for _, r := range stepRecords(st) {
					k := r.Type + " " + r.Name + " " + r.Value
					if !seen[k] {
						seen[k] = true
						ans.Records = append(ans.Records, r)
					}
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t, err))
			continue
		}
		n := 0
		for _, rt := range ts {
			if n == maxTargetsPerTransport {
				break
			}
			if rt.Transport != resolve.Transport(t.String()) {
				continue
			}
			ans.Targets = append(ans.Targets, Target{Transport: t, Host: host, Name: strings.TrimSuffix(rt.Host, "."), Addr: rt.Addr, From: rt.Source})
			n++
		}
	}
	if len(ans.Targets) == 0 {
		return ans, errors.Join(errs...)
	}
	return ans, nil
}

// stepRecords turns one DNS question of the trace into report records.
func stepRecords(st resolve.Step) []Record {
	name := strings.TrimSuffix(st.Name, ".")
	switch {
	case st.Err != nil:
		var lines []string // one line per server and attempt; say each thing once
		for _, l := range strings.Split(st.Err.Error(), "\n") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
				lines = append(lines, l)
			}
		}
		return []Record{{Type: st.Type, Name: name, TTL: -1, Value: "no answer: " + strings.Join(lines, "; ")}}
	case len(st.Records) == 0:
		return []Record{{Type: st.Type, Name: name, TTL: -1, Value: orNone(st.Rcode, "no answer") + ", no records"}}
	}
	out := make([]Record, 0, len(st.Records))
	for _, r := range st.Records {
		out = append(out, Record{Type: r.Type, Name: strings.TrimSuffix(r.Name, "."), TTL: int(r.TTL), Value: r.Data})
	}
	return out
}
