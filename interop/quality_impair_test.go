package interop

import (
	"strconv"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/netlab"
	"github.com/dialtone/dialtone/interop/peers"
)

// TestImpairedCallMOSWithBaresip: dialtone calls a real baresip across a veth link, once
// clean and once with an nft rule in dialtone's namespace dropping every 20th UDP packet that
// comes from baresip's media ports (SIP is spared). The drop is a counter (numgen inc), not a
// dice roll: with numgen random a 6 s call lost anywhere from 2 % to 8 %, and a run that drew
// 3 % was too close to the clean call to tell apart. The MOS in dialtone's final stats
// event, its own E-model estimate, must be clearly lower for the lossy call. (No delay: the
// kernels this runs on have no netem; phone's TestImpairedCallRatesLower adds delay and
// jitter in-process.)
func TestImpairedCallMOSWithBaresip(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t)
	seg := lab.Segment("q", "192.0.2.0/24")
	me := lab.Host("me", seg, "192.0.2.10")
	far := lab.Host("far", seg, "192.0.2.20")
	bob := peers.StartBaresip(t, peers.BaresipOptions{Host: far, IP: "192.0.2.20", User: "bob", AutoAnswer: true, ToneHz: 700})
	uri := "sip:bob@192.0.2.20:" + strconv.Itoa(bob.SIPPort())

	call := func(what string) (final, hangup event) {
		t.Helper()
		code, evs, p := runDialtoneOn(t, me, 30*time.Second, "call", uri, "--json", "--audio", "null", "--duration", "6s")
		if code != 0 {
			t.Fatalf("%s call: exit %d\n%s\nbaresip:\n%s", what, code, p.transcript(), bob.Log())
		}
		for _, e := range evs {
			switch {
			case e.name() == "stats" && e["final"] == true:
				final = e
			case e.name() == "hangup":
				hangup = e
			}
		}
		if final == nil || hangup == nil {
			t.Fatalf("%s call: no final stats or hangup\n%s", what, p.transcript())
		}
		t.Logf("%s call (%s): final stats %v; summary mos_avg %v mos_min %v loss_pct %v", what, hangup.str("codec"), final, hangup["mos_avg"], hangup["mos_min"], hangup["loss_pct"])
		return final, hangup
	}
	clean, cleanEnd := call("clean")

	me.Run("nft", "add", "table", "ip", "dtquality")
	t.Cleanup(func() { me.Command("nft", "delete", "table", "ip", "dtquality").Run() }) // also goes with the namespace
	me.Run("nft", "add", "chain", "ip", "dtquality", "in", "{ type filter hook input priority 0; policy accept; }")
	me.Run("nft", "add", "rule", "ip", "dtquality", "in", "ip", "saddr", "192.0.2.20", "udp", "sport", "!=", strconv.Itoa(bob.SIPPort()),
		"numgen", "inc", "mod", "20", "eq", "0", "drop")
	lossy, lossyEnd := call("lossy")

	if clean.num("mos") < 4 {
		t.Errorf("clean call: mos %v, want at least 4", clean["mos"])
	}
	if lossy.num("lost") == 0 {
		t.Fatalf("the lossy call lost nothing: the nft rule did not match\n%s", me.Run("nft", "list", "ruleset"))
	}
	if !(lossy.num("mos") < clean.num("mos")-0.2) {
		t.Errorf("lossy call mos %v, not clearly below the clean call's %v", lossy["mos"], clean["mos"])
	}
	if !(lossyEnd.num("mos_avg") < cleanEnd.num("mos_avg")) || !(lossyEnd.num("loss_pct") > cleanEnd.num("loss_pct")) {
		t.Errorf("summaries: lossy %v, clean %v", lossyEnd, cleanEnd)
	}
}
