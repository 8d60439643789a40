package resolve

import (
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func addrs(ts []Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, string(t.Transport)+" "+t.Addr.String())
	}
	return out
}

var zone = []string{
	// NAPTR: TCP preferred over UDP; an SCTP and an ENUM record to be ignored.
	"naptr.example. 300 IN NAPTR 10 50 \"s\" \"SIP+D2T\" \"\" _sip._tcp.naptr.example.",
	"naptr.example. 300 IN NAPTR 10 60 \"s\" \"SIP+D2U\" \"\" _sip._udp.naptr.example.",
	"naptr.example. 300 IN NAPTR 5 10 \"s\" \"SIP+D2S\" \"\" _sip._sctp.naptr.example.",
	"naptr.example. 300 IN NAPTR 20 10 \"u\" \"E2U+sip\" \"!^.*$!sip:x@y!\" .",
	"_sip._tcp.naptr.example. 300 IN SRV 10 0 5070 tcp1.naptr.example.",
	"_sip._udp.naptr.example. 300 IN SRV 10 0 5080 udp1.naptr.example.",
	"tcp1.naptr.example. 300 IN A 192.0.2.20",
	"udp1.naptr.example. 300 IN A 192.0.2.21",
	// SRV only: a dead priority 10 and a live priority 20, dual-stack.
	"_sip._udp.srv.example. 120 IN SRV 10 0 5999 dead.srv.example.",
	"_sip._udp.srv.example. 120 IN SRV 20 0 5060 live.srv.example.",
	"dead.srv.example. 60 IN A 192.0.2.30",
	"live.srv.example. 90 IN A 192.0.2.31",
	"live.srv.example. 90 IN AAAA 2001:db8::31",
	"live.srv.example. 90 IN A 192.0.2.32",
	"_sips._tcp.srv.example. 120 IN SRV 10 0 5061 live.srv.example.",
	// Only A records.
	"plain.example. 60 IN A 192.0.2.40",
	"v6.example. 60 IN AAAA 2001:db8::41",
	// The service is decidedly not available.
	"_sip._udp.none.example. 60 IN SRV 0 0 0 .",
	"none.example. 60 IN A 192.0.2.50",
}

func TestResolveRFC3263(t *testing.T) {
	d := startDNS(t, zone...)
	r := newTestResolver(t, d, nil)
	cases := []struct {
		q    Query
		want []string
	}{
		{Query{Host: "192.0.2.99"}, []string{"udp 192.0.2.99:5060"}},
		{Query{Host: "192.0.2.99", Secure: true}, []string{"tls 192.0.2.99:5061"}},
		{Query{Host: "[2001:db8::5]", Port: 5070, Transport: TCP}, []string{"tcp [2001:db8::5]:5070"}},
		{Query{Host: "naptr.example"}, []string{"tcp 192.0.2.20:5070", "udp 192.0.2.21:5080"}},
		{Query{Host: "naptr.example", Transport: UDP}, []string{"udp 192.0.2.21:5080"}},
		{Query{Host: "srv.example", Transport: UDP}, []string{"udp 192.0.2.30:5999", "udp 192.0.2.31:5060", "udp 192.0.2.32:5060", "udp [2001:db8::31]:5060"}},
		{Query{Host: "srv.example", Secure: true}, []string{"tls 192.0.2.31:5061", "tls 192.0.2.32:5061", "tls [2001:db8::31]:5061"}},
		{Query{Host: "srv.example", Port: 5062}, nil}, // explicit port: A of srv.example, which has none
		{Query{Host: "plain.example", Transport: TCP}, []string{"tcp 192.0.2.40:5060"}},
		{Query{Host: "plain.example", Port: 5070}, []string{"udp 192.0.2.40:5070"}},
		{Query{Host: "v6.example", Transport: TLS}, []string{"tls [2001:db8::41]:5061"}},
	}
	for _, c := range cases {
		ts, tr, err := r.Resolve(resolveCtx(t), c.q)
		got := addrs(ts)
		if c.want == nil {
			var de *net.DNSError
			if !errors.As(err, &de) || !de.IsNotFound {
				t.Errorf("%v: %v, %v; want not found", c.q, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, %v; want %v\n%s", c.q, got, err, c.want, tr)
		}
	}
}

// TestResolveKeepsAddressesWhenAAAATimesOut: the A question is answered, the AAAA one never is
// (home routers and firewalls that drop AAAA). The IPv4 address is the answer; the timeout
// threw it away, and registration failed on every retry.
func TestResolveKeepsAddressesWhenAAAATimesOut(t *testing.T) {
	d := startDNS(t, zone...)
	d.ignore("plain.example.", "AAAA")
	r := newTestResolver(t, d, nil)
	ts, tr, err := r.Resolve(resolveCtx(t), Query{Host: "plain.example", Port: 5070})
	if got := addrs(ts); err != nil || !slices.Equal(got, []string{"udp 192.0.2.40:5070"}) {
		t.Fatalf("%v, %v; want the A record's address\n%s", got, err, tr)
	}
}

func TestResolveExplicitPortAsksNoSRV(t *testing.T) {
	d := startDNS(t, zone...)
	r := newTestResolver(t, d, nil)
	if _, _, err := r.Resolve(resolveCtx(t), Query{Host: "plain.example", Port: 5070}); err != nil {
		t.Fatal(err)
	}
	for _, q := range d.questions() {
		if strings.HasSuffix(q, "SRV") || strings.HasSuffix(q, "NAPTR") {
			t.Errorf("explicit port asked %s", q)
		}
	}
}

func TestResolveSRVDotMeansNotAvailable(t *testing.T) {
	d := startDNS(t, zone...)
	r := newTestResolver(t, d, nil)
	ts, _, err := r.Resolve(resolveCtx(t), Query{Host: "none.example", Transport: UDP})
	var de *net.DNSError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "not available") {
		t.Fatalf("SRV \".\": %v, %v; want service not available (and no A fallback)", addrs(ts), err)
	}
}

func TestResolveSourcesAndTrace(t *testing.T) {
	d := startDNS(t, zone...)
	r := newTestResolver(t, d, nil)
	ts, tr, err := r.Resolve(resolveCtx(t), Query{Host: "naptr.example", Transport: UDP})
	if err != nil || len(ts) != 1 {
		t.Fatalf("%v %v", ts, err)
	}
	want := "NAPTR naptr.example > SRV _sip._udp.naptr.example > A udp1.naptr.example"
	if ts[0].Source != want || ts[0].Host != "udp1.naptr.example" || ts[0].Priority != 10 {
		t.Errorf("target %+v; want source %q", ts[0], want)
	}
	var types []string
	for _, s := range tr.Steps {
		types = append(types, s.Type+" "+s.Name+" "+s.Rcode)
	}
	wantSteps := []string{"NAPTR naptr.example. NOERROR", "SRV _sip._udp.naptr.example. NOERROR", "A udp1.naptr.example. NOERROR", "AAAA udp1.naptr.example. NOERROR"}
	if !slices.Equal(types, wantSteps) {
		t.Errorf("trace steps %v, want %v", types, wantSteps)
	}
	if n := tr.Steps[0].Records; len(n) != 4 || n[0].TTL != 300 || n[0].Type != "NAPTR" {
		t.Errorf("NAPTR records in trace: %+v", n)
	}
	if s := tr.String(); !strings.Contains(s, "SIP+D2U") || !strings.Contains(s, d.addr) {
		t.Errorf("trace text lacks the records or the server:\n%s", s)
	}
}

func TestResolveCachesPerTTL(t *testing.T) {
	d := startDNS(t, zone...)
	clk := &fakeNow{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newTestResolver(t, d, clk)
	q := Query{Host: "srv.example", Transport: UDP}
	if _, _, err := r.Resolve(resolveCtx(t), q); err != nil {
		t.Fatal(err)
	}
	first := len(d.questions())
	d.reset()
	clk.advance(4 * time.Second) // within every TTL, also the negative ones (SOA 5 s)
	_, tr, err := r.Resolve(resolveCtx(t), q)
	if err != nil || len(d.questions()) != 0 {
		t.Fatalf("within every TTL the network was asked %v (%v)", d.questions(), err)
	}
	for _, s := range tr.Steps {
		if !s.Cached {
			t.Errorf("step %s %s not from the cache", s.Type, s.Name)
		}
		if s.Type == "SRV" && s.Records[0].TTL != 116 {
			t.Errorf("cached SRV TTL %d, want 120-4=116", s.Records[0].TTL)
		}
	}
	clk.advance(57 * time.Second) // dead.srv.example's A (60 s) and the NAPTR NXDOMAIN (SOA 5 s) expired
	d.reset()
	if _, _, err := r.Resolve(resolveCtx(t), q); err != nil {
		t.Fatal(err)
	}
	got := d.questions()
	if !slices.Contains(got, "udp dead.srv.example. A") || slices.Contains(got, "udp _sip._udp.srv.example. SRV") || !slices.Contains(got, "udp srv.example. NAPTR") {
		t.Errorf("after 61 s asked %v; want the expired A and negative NAPTR again, not the SRV (TTL 120)", got)
	}
	if first < 4 {
		t.Errorf("first resolution asked only %d questions", first)
	}
}

func TestResolveTCPAfterTruncation(t *testing.T) {
	d := startDNS(t, zone...)
	d.truncateUDP("_sip._udp.srv.example.")
	r := newTestResolver(t, d, nil)
	ts, _, err := r.Resolve(resolveCtx(t), Query{Host: "srv.example", Transport: UDP})
	if err != nil || len(ts) != 4 {
		t.Fatalf("%v %v", addrs(ts), err)
	}
	if !slices.Contains(d.questions(), "tcp _sip._udp.srv.example. SRV") {
		t.Errorf("truncated answer not asked again over TCP: %v", d.questions())
	}
}

func TestResolveDeadServerIsClearAndBounded(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	r, err := New(Config{Server: pc.LocalAddr().String(), Timeout: 200 * time.Millisecond, Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, tr, err := r.Resolve(resolveCtx(t), Query{Host: "srv.example", Transport: UDP})
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsTimeout || !strings.Contains(err.Error(), pc.LocalAddr().String()) {
		t.Fatalf("silent server: %v; want a timeout naming the server", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("gave up after %v; one question's two attempts should bound it", el)
	}
	// The NAPTR question times out, then the first SRV question does, and nothing more is asked.
	if len(tr.Steps) != 2 || tr.Steps[0].Err == nil || tr.Steps[1].Err == nil {
		t.Errorf("trace after a dead server: %+v", tr.Steps)
	}
}

// TestResolveGoesOnWhenNAPTRTimesOut: the NAPTR question is never answered, SRV and A are
// (home routers that drop NAPTR). The SRV targets are the answer; the timeout used to end the
// lookup, and an account configured by domain never registered behind such a router.
func TestResolveGoesOnWhenNAPTRTimesOut(t *testing.T) {
	d := startDNS(t, zone...)
	d.ignore("srv.example.", "NAPTR")
	r := newTestResolver(t, d, nil)
	ts, tr, err := r.Resolve(resolveCtx(t), Query{Host: "srv.example", Transport: UDP})
	if err != nil || len(ts) == 0 || ts[0].Addr.Port() != 5999 {
		t.Fatalf("%v, %v; want the SRV targets\n%s", addrs(ts), err, tr)
	}
}

func TestResolveServfailOnOneNameFallsBack(t *testing.T) {
	d := startDNS(t, zone...)
	d.fail("plain.example.")
	d.fail("_sip._tcp.naptr.example.")
	r := newTestResolver(t, d, nil)
	_, _, err := r.Resolve(resolveCtx(t), Query{Host: "plain.example", Transport: UDP})
	if err == nil || !strings.Contains(err.Error(), "SERVFAIL") {
		t.Errorf("SERVFAIL for the only name: %v; want it named", err)
	}
	// A SERVFAIL for one SRV name of the NAPTR set is not fatal: the others still count.
	ts, tr, err := r.Resolve(resolveCtx(t), Query{Host: "naptr.example"})
	if got := addrs(ts); err != nil || !slices.Equal(got, []string{"udp 192.0.2.21:5080"}) {
		t.Errorf("NAPTR set with one SERVFAIL: %v, %v; want only the UDP target\n%s", got, err, tr)
	}
}

func TestResolveBadInput(t *testing.T) {
	r, err := New(Config{Server: "127.0.0.1:1", Timeout: 100 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []Query{{}, {Host: "bad host"}, {Host: "x.example", Port: 70000}, {Host: "x.example", Secure: true, Transport: UDP}, {Host: "x.example", Transport: "sctp"}, {Host: "fe80::1%eth0"}} {
		if ts, _, err := r.Resolve(resolveCtx(t), q); err == nil {
			t.Errorf("%+v: %v, want an error", q, ts)
		}
	}
	for _, s := range []string{"", "1.2.3.4:0", "1.2.3.4:x", "::1:53:", "a b", "[::1]:99999"} {
		if got, err := ParseServer(s); err == nil {
			t.Errorf("ParseServer(%q) = %q, want an error", s, got)
		}
	}
	for in, want := range map[string]string{"192.0.2.53": "192.0.2.53:53", "192.0.2.53:5353": "192.0.2.53:5353", "::1": "[::1]:53", "[::1]:54": "[::1]:54", "ns.example": "ns.example:53", "ns.example:5300": "ns.example:5300"} {
		if got, err := ParseServer(in); err != nil || got != want {
			t.Errorf("ParseServer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestOrderSRVWeights(t *testing.T) {
	recs := func() []*dns.SRV {
		return []*dns.SRV{
			{Priority: 20, Weight: 0, Target: "c."},
			{Priority: 10, Weight: 0, Target: "z."},
			{Priority: 10, Weight: 90, Target: "a."},
			{Priority: 10, Weight: 10, Target: "b."},
		}
	}
	names := func(rs []*dns.SRV) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Target)
		}
		return strings.Join(s, " ")
	}
	// Draw 0 picks the weight-0 record first; the highest draw the last in the running sum.
	if got := names(OrderSRV(recs(), func(n int) int { return 0 })); got != "z. a. b. c." {
		t.Errorf("draws of 0: %s", got)
	}
	if got := names(OrderSRV(recs(), func(n int) int { return n - 1 })); got != "b. a. z. c." {
		t.Errorf("draws of the sum: %s", got)
	}
	// Statistically a (weight 90) comes first about 9 times in 10 (seeded: deterministic).
	first := map[string]int{}
	seq := 0
	for range 1000 {
		seq = (seq*1103515245 + 12345) & 0x7fffffff
		s := seq
		got := OrderSRV(recs(), func(n int) int { return s % n })
		first[got[0].Target]++
		if got[3].Target != "c." {
			t.Fatalf("priority 20 not last: %s", names(got))
		}
	}
	if first["a."] < 800 || first["b."] < 50 {
		t.Errorf("first picks %v; want a. about 900 times of 1000, b. about 100", first)
	}
}

func TestServersFromResolvConf(t *testing.T) {
	dir := t.TempDir()
	conf := dir + "/resolv.conf"
	if err := os.WriteFile(conf, []byte("# test\nsearch example\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{ResolvConf: conf})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Servers(); !slices.Equal(got, []string{"192.0.2.53:53", "[2001:db8::53]:53"}) {
		t.Errorf("servers from resolv.conf: %v", got)
	}
	r, _ = New(Config{ResolvConf: dir + "/missing"})
	if got := r.Servers(); !slices.Equal(got, []string{"127.0.0.1:53", "[::1]:53"}) {
		t.Errorf("without resolv.conf: %v; want the local host, as the C library does", got)
	}
	r, _ = New(Config{ResolvConf: conf, Server: "198.51.100.53:5353"})
	if got := r.Servers(); !slices.Equal(got, []string{"198.51.100.53:5353"}) {
		t.Errorf("a configured server replaces resolv.conf's: %v", got)
	}
}

func TestHostsFileBeforeDNS(t *testing.T) {
	d := startDNS(t, zone...)
	hosts := t.TempDir() + "/hosts"
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n::1 localhost ip6-localhost # both\n192.0.2.77 PBX.lab pbx\nbogus line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Server: d.addr, HostsFile: hosts, Timeout: time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts, tr, err := r.Resolve(resolveCtx(t), Query{Host: "localhost", Port: 5070})
	if got := addrs(ts); err != nil || !slices.Equal(got, []string{"udp 127.0.0.1:5070", "udp [::1]:5070"}) {
		t.Errorf("localhost: %v %v", got, err)
	}
	if len(tr.Steps) != 1 || tr.Steps[0].Server != hosts || len(d.questions()) != 0 {
		t.Errorf("localhost asked DNS %v, trace %+v", d.questions(), tr.Steps)
	}
	// A name only in the hosts file still gets its SRV looked up first, then the file's address.
	ts, _, err = r.Resolve(resolveCtx(t), Query{Host: "pbx.lab", Transport: TCP})
	if got := addrs(ts); err != nil || !slices.Equal(got, []string{"tcp 192.0.2.77:5060"}) || ts[0].Source != "no SRV > hosts pbx.lab" {
		t.Errorf("pbx.lab: %v %v %+v", got, err, ts)
	}
	if !slices.Contains(d.questions(), "udp _sip._tcp.pbx.lab. SRV") {
		t.Errorf("SRV not asked for a hosts-file name: %v", d.questions())
	}
	// The file is read again when it changes.
	if err := os.WriteFile(hosts, []byte("192.0.2.78 pbx.lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts, _, _ = r.Resolve(resolveCtx(t), Query{Host: "pbx.lab", Port: 5060})
	if got := addrs(ts); !slices.Equal(got, []string{"udp 192.0.2.78:5060"}) {
		t.Errorf("after the file changed: %v", got)
	}
}

func TestResolveAsksAgainWithoutEDNS(t *testing.T) {
	d := startDNS(t, zone...)
	d.mu.Lock()
	d.noEDNS = true
	d.mu.Unlock()
	r := newTestResolver(t, d, nil)
	ts, tr, err := r.Resolve(resolveCtx(t), Query{Host: "plain.example", Transport: UDP})
	if got := addrs(ts); err != nil || !slices.Equal(got, []string{"udp 192.0.2.40:5060"}) {
		t.Errorf("a server without EDNS: %v %v\n%s", got, err, tr)
	}
}

// TestDroppedQuestionsAreNotAskedAtEveryCall: a router that drops AAAA (or NAPTR) questions made
// every call and REGISTER wait out their timeout again before its INVITE left; the timeout is
// remembered for the negative TTL (the A answer's own TTL keeps it cached meanwhile), then the
// question is asked again.
func TestDroppedQuestionsAreNotAskedAtEveryCall(t *testing.T) {
	d := startDNS(t, zone...)
	d.ignore("plain.example.", "AAAA")
	clk := &fakeNow{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	r := newTestResolver(t, d, clk)
	aaaa := func() int {
		n := 0
		for _, q := range d.questions() {
			if strings.HasSuffix(q, "plain.example. AAAA") {
				n++
			}
		}
		return n
	}
	for i := range 3 {
		ts, tr, err := r.Resolve(resolveCtx(t), Query{Host: "plain.example", Port: 5070})
		if err != nil || len(ts) != 1 {
			t.Fatalf("lookup %d: %v, %v\n%s", i, addrs(ts), err, tr)
		}
	}
	if n := aaaa(); n != 1 {
		t.Fatalf("the dropped AAAA question was asked %d times in three lookups, want once", n)
	}
	clk.advance(r.negativeTTL + time.Second)
	if _, _, err := r.Resolve(resolveCtx(t), Query{Host: "plain.example", Port: 5070}); err != nil {
		t.Fatal(err)
	}
	if n := aaaa(); n != 2 {
		t.Fatalf("after the negative TTL: asked %d times, want it asked again", n)
	}
}

// TestIPv6OnlyNameAskedAgainAfterATimeout: a name with no A records whose AAAA question timed
// out once (a blip) is asked again at the next lookup: the remembered time out is for a router
// that drops AAAA beside working A answers, and here it left the name unresolvable for 30 s.
func TestIPv6OnlyNameAskedAgainAfterATimeout(t *testing.T) {
	d := startDNS(t, zone...)
	d.add(t, "v6only.example. 60 IN AAAA 2001:db8::7")
	d.ignore("v6only.example.", "AAAA")
	clk := &fakeNow{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	r := newTestResolver(t, d, clk)
	if _, _, err := r.Resolve(resolveCtx(t), Query{Host: "v6only.example", Port: 5070}); err == nil {
		t.Fatal("resolved with its only question dropped")
	}
	d.mu.Lock()
	delete(d.silent, "v6only.example. AAAA")
	d.mu.Unlock()
	ts, tr, err := r.Resolve(resolveCtx(t), Query{Host: "v6only.example", Port: 5070})
	if err != nil || len(ts) != 1 {
		t.Fatalf("after the blip: %v, %v\n%s", addrs(ts), err, tr)
	}
}
