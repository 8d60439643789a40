package peers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/miekg/dns"
)

func TestDnsmasqServesSIPRecords(t *testing.T) {
	d := StartDnsmasq(t, DnsmasqOptions{
		Hosts: map[string][]string{"sip1.peer.test": {"127.0.0.1", "::1"}, "sip2.peer.test": {"127.0.0.2"}},
		SRV: []SRVRecord{
			{Name: "_sip._udp.peer.test", Target: "sip1.peer.test", Port: 5999, Priority: 10},
			{Name: "_sip._udp.peer.test", Target: "sip2.peer.test", Port: 6001, Priority: 20, Weight: 5},
			{Name: "_sip._tcp.none.peer.test"},
		},
		NAPTR: []NAPTRRecord{{Name: "peer.test", Order: 10, Preference: 10, Flags: "s", Service: "SIP+D2U", Replacement: "_sip._udp.peer.test"}},
		TTL:   30,
	})
	m, err := d.Query("_sip._udp.peer.test", dns.TypeSRV)
	if err != nil || len(m.Answer) != 2 {
		t.Fatalf("SRV: %v %v\n%s", m, err, d.Log())
	}
	if m.Answer[0].Header().Ttl != 30 {
		t.Errorf("TTL %d, want 30", m.Answer[0].Header().Ttl)
	}
	// Through our own resolver: NAPTR, SRV by priority, A before AAAA.
	r, err := resolve.New(resolve.Config{Server: d.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts, tr, err := r.Resolve(ctx, resolve.Query{Host: "peer.test"})
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, tr, d.Log())
	}
	var got []string
	for _, x := range ts {
		got = append(got, x.String())
	}
	want := "udp 127.0.0.1:5999 (sip1.peer.test, SRV priority 10 weight 0)|udp [::1]:5999 (sip1.peer.test, SRV priority 10 weight 0)|udp 127.0.0.2:6001 (sip2.peer.test, SRV priority 20 weight 5)"
	if strings.Join(got, "|") != want {
		t.Errorf("targets\n%s\nwant\n%s\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"), tr)
	}
	if !strings.HasPrefix(ts[0].Source, "NAPTR peer.test > SRV _sip._udp.peer.test") {
		t.Errorf("source %q", ts[0].Source)
	}
	if _, _, err := r.Resolve(ctx, resolve.Query{Host: "none.peer.test", Transport: resolve.TCP}); err == nil || !strings.Contains(err.Error(), "not available") {
		t.Errorf("SRV without target: %v", err)
	}
	if !strings.Contains(d.Log(), "query[NAPTR] peer.test") {
		t.Errorf("dnsmasq's log lacks the NAPTR query:\n%s", d.Log())
	}
}
