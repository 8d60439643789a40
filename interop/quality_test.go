package interop

import (
	"testing"
	"time"
)

// TestCallQualityInHistory: a real call (the built-in echo peer, audio through the whole media
// path) prints the core's MOS in its stats events and its quality summary on hangup, and
// `history --json` lists the call with that summary.
func TestCallQualityInHistory(t *testing.T) {
	dir := t.TempDir()
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", "echo", "--audio", "null", "--duration", "3s", "--json", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("echo exit %d\n%s", code, p.transcript())
	}
	var final, hangup event
	for _, e := range evs {
		switch {
		case e.name() == "stats" && e["final"] == true:
			final = e
		case e.name() == "hangup":
			hangup = e
		}
	}
	if final == nil || hangup == nil {
		t.Fatalf("no final stats or hangup event\n%s", p.transcript())
	}
	// Loopback loses nothing: the estimate is the codec's best, above 4 for every codec.
	if m := final.num("mos"); m < 4 || m > 4.5 {
		t.Errorf("final stats mos %v, want 4..4.5: %v", final["mos"], final)
	}
	if hangup.num("mos_avg") < 4 || hangup.num("mos_min") < 4 || hangup.str("codec") == "" {
		t.Errorf("hangup event without a clean quality summary: %v", hangup)
	}
	code, rows, p := runDialtone(t, 10*time.Second, nil, "history", "--calls", "--json", "--data-dir", dir)
	if code != 0 || len(rows) != 1 {
		t.Fatalf("history: exit %d, %d rows\n%s", code, len(rows), p.transcript())
	}
	r := rows[0]
	for _, k := range []string{"mos_min", "mos_avg", "loss_pct", "jitter_max_ms"} {
		if _, ok := r[k]; !ok {
			t.Errorf("history row lacks %s: %v", k, r)
		}
	}
	if r.num("mos_avg") != hangup.num("mos_avg") || r.num("mos_min") != hangup.num("mos_min") || r.str("codec") != hangup.str("codec") {
		t.Errorf("history row %v does not keep the hangup's summary %v", r, hangup)
	}
	if r.num("loss_pct") != 0 {
		t.Errorf("history row loss_pct %v on loopback, want 0", r["loss_pct"])
	}
}
