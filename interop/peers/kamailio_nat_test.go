package peers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/netlab"
)

// natLab is a provider on 203.0.113.10 (public), a home router with a cone NAT (LAN
// 192.0.2.0/24, public 203.0.113.1) and a public far end on 203.0.113.20.
type natLab struct {
	lab                *netlab.Lab
	router             *netlab.Router
	home, prov, public *netlab.Host
}

func newNATLab(t *testing.T) natLab {
	lab := netlab.New(t)
	lan := lab.Segment("lan", "192.0.2.0/24")
	wan := lab.Segment("wan", "203.0.113.0/24")
	r := lab.Router("nat", netlab.RouterOptions{NAT: netlab.Cone, Inside: lan, InsideIP: "192.0.2.1", Outside: wan, OutsideIP: "203.0.113.1"})
	return natLab{lab: lab, router: r,
		home:   lab.Host("home", lan, "192.0.2.10"),
		prov:   lab.Host("prov", wan, "203.0.113.10"),
		public: lab.Host("public", wan, "203.0.113.20"),
	}
}

// TestKamailioNATSignallingLeavesSDPAlone: a baresip behind a NAT registers with Kamailio
// in a namespace, which records the NAT's address as the binding's received address; the
// far end it calls gets the private SDP address unchanged (the default config never touches
// SDP).
func TestKamailioNATSignallingLeavesSDPAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	n := newNATLab(t)
	k := StartKamailio(t, KamailioOptions{Host: n.prov, IP: "203.0.113.10", Users: map[string]string{"alice": "a", "bob": "b"}})
	alice := StartBaresip(t, BaresipOptions{Host: n.home, IP: "192.0.2.10", User: "alice", Password: "a", Registrar: k.HostPort("udp"), ToneHz: 700})
	bob := StartBaresip(t, BaresipOptions{Host: n.public, IP: "203.0.113.20", User: "bob", Password: "b", Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 1300})
	if alice.AOR() != "sip:alice@203.0.113.10" {
		t.Fatalf("alice's AOR %s", alice.AOR())
	}
	bs, err := k.Bindings(alice.AOR())
	if err != nil || len(bs) != 1 {
		t.Fatalf("bindings of alice: %v %v", bs, err)
	}
	if !strings.Contains(bs[0].Received, "203.0.113.1:") || !strings.Contains(bs[0].Address, "192.0.2.10") {
		t.Fatalf("alice behind NAT bound as %+v, want her private contact with received 203.0.113.1", bs[0])
	}
	if err := alice.Dial(bob.AOR()); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "bob", bob, "CALL_ESTABLISHED")
	mustEvent(t, "alice", alice, "CALL_ESTABLISHED")
	if err := alice.Hangup(); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "bob", bob, "CALL_CLOSED")
	if log := bob.Log(); !strings.Contains(log, "c=IN IP4 192.0.2.10") {
		t.Fatalf("bob did not get alice's SDP untouched:\n%s", log)
	}
}

// TestKamailioRTPEngineRelaysNATedMedia: with RTPEngine set, Kamailio hands every SDP to a
// real rtpengine; a baresip behind the NAT that advertises its private address is called by
// a public one, and each hears the other's tone through the relay.
func TestKamailioRTPEngineRelaysNATedMedia(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	n := newNATLab(t)
	rtp := StartRTPEngine(t, RTPEngineOptions{Host: n.prov, IP: "203.0.113.10", LogLevel: 6})
	k := StartKamailio(t, KamailioOptions{Host: n.prov, IP: "203.0.113.10", RTPEngine: rtp.NGAddr(),
		Users: map[string]string{"alice": "a", "bob": "b"}})
	alice := StartBaresip(t, BaresipOptions{Host: n.home, IP: "192.0.2.10", User: "alice", Password: "a", Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	bob := StartBaresip(t, BaresipOptions{Host: n.public, IP: "203.0.113.20", User: "bob", Password: "b", Registrar: k.HostPort("udp"), ToneHz: 1300})
	if err := bob.Dial(alice.AOR()); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "alice", alice, "CALL_ESTABLISHED")
	mustEvent(t, "bob", bob, "CALL_ESTABLISHED")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s, err := rtp.Sessions(ctx); err != nil || len(s) != 1 {
		t.Fatalf("rtpengine sessions during the call: %v %v\n%s", s, err, k.Log())
	}
	time.Sleep(3 * time.Second) // the call itself: audio flows meanwhile
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "bob", bob, "CALL_CLOSED")
	mustEvent(t, "alice", alice, "CALL_CLOSED")
	for _, c := range []struct {
		who           string
		b             *Baresip
		want, notWant float64
	}{{"alice", alice, 1300, 700}, {"bob", bob, 700, 1300}} {
		recs, err := c.b.Recordings()
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: recordings %v %v", c.who, recs, err)
		}
		checkRecording(t, c.who, recs[0], c.want, c.notWant)
	}
	if log := bob.Log(); !strings.Contains(log, "c=IN IP4 203.0.113.10") || strings.Contains(log, "c=IN IP4 192.0.2.10") {
		t.Errorf("bob's SDP from alice does not point at the relay only:\n%s", log)
	}
	if s, err := rtp.Sessions(ctx); err != nil || len(s) != 0 {
		t.Errorf("rtpengine sessions after BYE: %v %v", s, err)
	}
}
