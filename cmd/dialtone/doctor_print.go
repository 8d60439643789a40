package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone/diag"
)

// doctorDoc is `dialtone doctor --json`: one JSON document on one line, so that it is also
// a valid NDJSON stream of one "doctor" event, like every other command's output.
type doctorDoc struct {
	Event    string        `json:"event"` // "doctor"
	Time     string        `json:"time"`
	Version  string        `json:"version"`
	Commit   string        `json:"commit,omitempty"`
	Account  string        `json:"account"`
	AOR      string        `json:"aor"`
	Result   string        `json:"result"` // the worst status: ok, warn, fail (skipped counts as ok)
	ExitCode int           `json:"exit_code"`
	Failure  string        `json:"failure,omitempty"` // the first failed check's class
	Checks   []*diag.Check `json:"checks"`
}

func doctorResult(rep *diag.Report) string {
	if w := rep.Worst(); w != diag.Skipped {
		return w.String()
	}
	return "ok"
}

func writeDoctor(w io.Writer, asJSON bool, rep *diag.Report, started time.Time, code int) error {
	if asJSON {
		doc := doctorDoc{Event: "doctor", Time: stamp(started), Version: version, Commit: commit,
			Account: rep.Account, AOR: rep.AOR, Result: doctorResult(rep), ExitCode: code, Checks: rep.Checks}
		if f := rep.WorstFailure(); rep.Worst() == diag.Fail {
			doc.Failure = f.String()
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b strings.Builder
	v := version
	if commit != "" {
		v += " (" + shortCommit(commit) + ")"
	}
	fmt.Fprintf(&b, "dialtone doctor — dialtone %s — %s\n", v, stamp(started))
	fmt.Fprintf(&b, "account %s (%s)\n", rep.Account, rep.AOR)
	for i, c := range rep.Checks {
		fmt.Fprintf(&b, "\n%d. [%s] %s: %s\n", i+1, strings.ToUpper(c.Status.String()), c.Name, c.Title)
		for _, f := range c.Facts {
			writeFact(&b, f)
		}
		if c.Verdict != "" && c.Status == diag.Skipped {
			fmt.Fprintf(&b, "   why:     %s\n", c.Verdict)
		} else if c.Verdict != "" {
			fmt.Fprintf(&b, "   verdict: %s\n", c.Verdict)
		}
		if c.Fix != "" {
			fmt.Fprintf(&b, "   fix:     %s\n", c.Fix)
		}
		if c.Note != "" {
			fmt.Fprintf(&b, "   note:    %s\n", c.Note)
		}
	}
	n := rep.Counts()
	fmt.Fprintf(&b, "\nresult: %s (exit %d): %d ok, %d warning(s), %d failed, %d skipped\n",
		doctorResult(rep), code, n[diag.OK], n[diag.Warn], n[diag.Fail], n[diag.Skipped])
	_, err := io.WriteString(w, b.String())
	return err
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// rowOrder puts the telling keys of a table row first.
var rowOrder = []string{"target", "answer", "rtt_ms", "server", "seen_as", "found_by",
	"subject", "issuer", "names", "not_before", "not_after"}

func writeFact(b *strings.Builder, f diag.Fact) {
	const indent = "   "
	switch v := f.Value.(type) {
	case []string:
		if len(v) == 0 {
			fmt.Fprintf(b, "%s%-16s (none)\n", indent, f.Key)
			return
		}
		fmt.Fprintf(b, "%s%s:\n", indent, f.Key)
		for _, s := range v {
			fmt.Fprintf(b, "%s  - %s\n", indent, s)
		}
	case []diag.Record:
		if len(v) == 0 {
			fmt.Fprintf(b, "%s%-16s (none)\n", indent, f.Key)
			return
		}
		fmt.Fprintf(b, "%s%s:\n", indent, f.Key)
		for _, r := range v {
			ttl := "ttl ?"
			if r.TTL >= 0 {
				ttl = fmt.Sprintf("ttl %d", r.TTL)
			}
			fmt.Fprintf(b, "%s  - %-5s %s %s (%s)\n", indent, r.Type, r.Name, r.Value, ttl)
		}
	case []map[string]any:
		fmt.Fprintf(b, "%s%s:\n", indent, f.Key)
		for _, row := range v {
			fmt.Fprintf(b, "%s  - %s\n", indent, rowText(row))
		}
	default:
		fmt.Fprintf(b, "%s%-16s %v\n", indent, f.Key, v)
	}
}

func rowText(row map[string]any) string {
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ia, ib := slices.Index(rowOrder, a), slices.Index(rowOrder, b)
		if ia < 0 {
			ia = len(rowOrder)
		}
		if ib < 0 {
			ib = len(rowOrder)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		val := row[k]
		if s, ok := val.([]string); ok {
			val = strings.Join(s, ", ")
		}
		if k == "target" {
			parts = append(parts, fmt.Sprint(val))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, val))
	}
	return strings.Join(parts, "  ")
}
