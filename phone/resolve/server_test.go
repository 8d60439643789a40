package resolve

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testDNS is an in-process authoritative server (miekg/dns's own) on loopback, UDP and TCP
// on the same port.
type testDNS struct {
	addr string

	mu       sync.Mutex
	zone     map[string][]dns.RR // "name. TYPE" -> records
	truncate map[string]bool     // names answered truncated over UDP
	servfail map[string]bool
	silent   map[string]bool // "name. TYPE" questions never answered (a middlebox that drops AAAA)
	noEDNS   bool            // answer FORMERR to queries with EDNS, as servers from before RFC 2671
	asked    []string        // "udp name TYPE"
}

func startDNS(t *testing.T, records ...string) *testDNS {
	t.Helper()
	d := &testDNS{zone: map[string][]dns.RR{}, truncate: map[string]bool{}, servfail: map[string]bool{}}
	for _, s := range records {
		d.add(t, s)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		t.Skipf("cannot listen on TCP beside UDP %s: %v", pc.LocalAddr(), err)
	}
	d.addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: d.handler("udp")}
	tcp := &dns.Server{Listener: ln, Handler: d.handler("tcp")}
	started := make(chan struct{}, 2)
	udp.NotifyStartedFunc = func() { started <- struct{}{} }
	tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	var wg sync.WaitGroup
	wg.Go(func() { _ = udp.ActivateAndServe() })
	wg.Go(func() { _ = tcp.ActivateAndServe() })
	for range 2 {
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("test DNS server did not start")
		}
	}
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
		wg.Wait()
	})
	return d
}

func (d *testDNS) add(t *testing.T, s string) {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatalf("record %q: %v", s, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := strings.ToLower(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
	d.zone[k] = append(d.zone[k], rr)
}

func (d *testDNS) handler(network string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		d.mu.Lock()
		d.asked = append(d.asked, network+" "+name+" "+dns.TypeToString[q.Qtype])
		rrs := d.zone[name+" "+dns.TypeToString[q.Qtype]]
		exists := false
		for k := range d.zone {
			if strings.HasPrefix(k, name+" ") {
				exists = true
			}
		}
		trunc, fail := d.truncate[name] && network == "udp", d.servfail[name]
		silent := d.silent[name+" "+dns.TypeToString[q.Qtype]]
		formerr := d.noEDNS && req.IsEdns0() != nil
		d.mu.Unlock()
		if silent {
			return // the client times out
		}
		switch {
		case formerr:
			m.Rcode = dns.RcodeFormatError
		case fail:
			m.Rcode = dns.RcodeServerFailure
		case trunc:
			m.Truncated = true
		case len(rrs) > 0:
			m.Answer = rrs
		case !exists:
			m.Rcode = dns.RcodeNameError
			soa, _ := dns.NewRR("example.com. 60 IN SOA ns.example.com. root.example.com. 1 60 60 60 5")
			m.Ns = []dns.RR{soa}
		}
		_ = w.WriteMsg(m)
	}
}

// fail makes the server answer SERVFAIL for name; truncateUDP makes its UDP answers for name
// truncated (TC) and empty.
func (d *testDNS) fail(name string) {
	d.mu.Lock()
	d.servfail[name] = true
	d.mu.Unlock()
}

// ignore makes the server never answer questions of type typ ("AAAA") for name.
func (d *testDNS) ignore(name, typ string) {
	d.mu.Lock()
	if d.silent == nil {
		d.silent = map[string]bool{}
	}
	d.silent[name+" "+typ] = true
	d.mu.Unlock()
}

func (d *testDNS) truncateUDP(name string) {
	d.mu.Lock()
	d.truncate[name] = true
	d.mu.Unlock()
}

func (d *testDNS) questions() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.asked...)
}

func (d *testDNS) reset() {
	d.mu.Lock()
	d.asked = nil
	d.mu.Unlock()
}

// fakeNow is a clock the test moves.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeNow) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func newTestResolver(t *testing.T, d *testDNS, clk *fakeNow) *Resolver {
	t.Helper()
	cfg := Config{Server: d.addr, Timeout: time.Second, Attempts: 1, Rand: func(n int) int { return 0 }, HostsFile: "-"}
	if clk != nil {
		cfg.Now = clk.Now
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func resolveCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
