package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/config"
)

// docExample is one ```toml block of docs/PROVIDERS.md with the "## " heading it sits under.
type docExample struct {
	heading string
	line    int // 1-based line of the block's first TOML line
	toml    string
}

// providerExamples reads every ```toml block of docs/PROVIDERS.md.
func providerExamples(t *testing.T) []docExample {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "PROVIDERS.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []docExample
	var cur *docExample
	heading := ""
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.toml += line + "\n"
		case strings.HasPrefix(line, "## "):
			heading = strings.TrimPrefix(line, "## ")
		case strings.TrimSpace(line) == "```toml":
			cur = &docExample{heading: heading, line: i + 2}
		}
	}
	if cur != nil {
		t.Fatalf("PROVIDERS.md: the toml block under %q (line %d) is not closed", cur.heading, cur.line)
	}
	return out
}

// Every example in docs/PROVIDERS.md decodes and validates as dialtone's own config loader
// does it: no unknown key, no bad value, exactly one password source.
func TestProviderExamplesValidate(t *testing.T) {
	t.Parallel()
	exs := providerExamples(t)
	if len(exs) < 7 {
		t.Fatalf("found %d toml examples in PROVIDERS.md, want at least 7", len(exs))
	}
	for _, ex := range exs {
		f, err := config.Decode(fmt.Sprintf("PROVIDERS.md:%d", ex.line), []byte(ex.toml))
		if err != nil {
			t.Errorf("%s: %v", ex.heading, err)
			continue
		}
		if len(f.Accounts) == 0 {
			t.Errorf("%s: the example has no account", ex.heading)
		}
		for _, a := range f.Accounts {
			if !a.HasPassword() {
				t.Errorf("%s: account %s has no password source", ex.heading, a.Name)
			}
		}
	}
}

// providerRun says how one example is registered against Kamailio: the domain Kamailio serves,
// its users, the DNS records dnsmasq serves and what to check in the SIP trace.
type providerRun struct {
	heading string // prefix of the example's heading
	domain  string // Kamailio's domain and realm ("" = 127.0.0.1)
	user    string // the digest user Kamailio knows
	dns     func(k *peers.Kamailio) peers.DnsmasqOptions
	// replace rewrites the example before it runs (addresses that cannot be served on
	// loopback), as old, new pairs; the values get the Kamailio.
	replace func(k *peers.Kamailio) []string
	// trace must each be in the SIP trace; {udp} and {tls} stand for Kamailio's ports.
	trace []string
	query []string // names dnsmasq must have been asked for
}

// srvFor serves domain's SIP services (UDP, TCP, TLS) at sip.<domain> → 127.0.0.1, Kamailio's ports.
func srvFor(domain string, k *peers.Kamailio) peers.DnsmasqOptions {
	host := "sip." + domain
	return peers.DnsmasqOptions{
		Hosts: map[string][]string{host: {"127.0.0.1"}},
		SRV: []peers.SRVRecord{
			{Name: "_sip._udp." + domain, Target: host, Port: k.Port("udp"), Priority: 10},
			{Name: "_sip._tcp." + domain, Target: host, Port: k.Port("tcp"), Priority: 10},
			{Name: "_sips._tcp." + domain, Target: host, Port: k.Port("tls"), Priority: 10},
		},
	}
}

var providerRuns = []providerRun{
	{
		heading: "A Kamailio or OpenSIPS provider",
		domain:  "example.net", user: "alice",
		dns: func(k *peers.Kamailio) peers.DnsmasqOptions { return srvFor("example.net", k) },
		// The STUN server is the test's coturn (its port is not 3478).
		replace: nil, // set in TestProviderExamplesRegister, which starts coturn
		trace:   []string{"REGISTER sip:example.net SIP/2.0", "To: <sip:alice@example.net>"},
	},
	{
		heading: "An Asterisk or FreeSWITCH PBX",
		user:    "201",
		dns:     func(k *peers.Kamailio) peers.DnsmasqOptions { return peers.DnsmasqOptions{} },
		replace: func(k *peers.Kamailio) []string { return []string{"192.168.1.10", k.HostPort("udp")} },
		trace:   []string{`username="201"`},
	},
	{
		heading: "A provider that needs an outbound proxy",
		domain:  "example.com", user: "alice",
		// Only the proxy is in DNS: example.com itself has no records.
		dns: func(k *peers.Kamailio) peers.DnsmasqOptions {
			return peers.DnsmasqOptions{
				Hosts: map[string][]string{"proxy.example.com": {"127.0.0.1"}},
				SRV:   []peers.SRVRecord{{Name: "_sip._udp.proxy.example.com", Target: "proxy.example.com", Port: k.Port("udp"), Priority: 10}},
			}
		},
		// The Route names the address DNS gave for proxy.example.com (see PROVIDERS.md).
		trace: []string{"REGISTER sip:example.com SIP/2.0", "Route: <sip:127.0.0.1:{udp};lr>"},
		query: []string{"_sip._udp.proxy.example.com"},
	},
}

// passwordLine is any password source line of an example.
var passwordLine = regexp.MustCompile(`(?m)^password_(env|cmd|file|keyring)\s*=.*$`)

// runnableExample turns a doc example into the config the test runs: replacements applied,
// the password from $DIALTONE_EXAMPLE_PASSWORD, and extra [sip] keys (dns_server, tls_ca).
func runnableExample(ex docExample, replace []string, sipKeys ...string) string {
	s := ex.toml
	for i := 0; i+1 < len(replace); i += 2 {
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	s = passwordLine.ReplaceAllString(s, `password_env = "DIALTONE_EXAMPLE_PASSWORD"`)
	extra := strings.Join(sipKeys, "\n") + "\n"
	if strings.Contains(s, "[sip]\n") {
		return strings.Replace(s, "[sip]\n", "[sip]\n"+extra, 1)
	}
	return "[sip]\n" + extra + "\n" + s
}

func findExample(t *testing.T, exs []docExample, heading string) docExample {
	t.Helper()
	for _, ex := range exs {
		if strings.HasPrefix(ex.heading, heading) {
			return ex
		}
	}
	t.Fatalf("PROVIDERS.md has no example under a heading starting %q", heading)
	return docExample{}
}

// Each example that a loopback Kamailio can stand in for registers (the one with an
// authentication ID registers at sipp: TestProviderExampleAuthID; the TLS one with a
// certificate naming its domain: TestProviderExampleTLS) with `dialtone register
// --once --config FILE`: the example's names served by dnsmasq, Kamailio serving its domain.
func TestProviderExamplesRegister(t *testing.T) {
	t.Parallel()
	exs := providerExamples(t)
	for _, run := range providerRuns {
		ex := findExample(t, exs, run.heading)
		t.Run(strings.ReplaceAll(run.heading, " ", "_"), func(t *testing.T) {
			t.Parallel()
			const password = "example-secret"
			k := peers.StartKamailio(t, peers.KamailioOptions{Users: map[string]string{run.user: password}, Domain: run.domain})
			d := peers.StartDnsmasq(t, run.dns(k))
			var replace []string
			if run.replace != nil {
				replace = run.replace(k)
			}
			if strings.Contains(ex.toml, "stun.example.net") {
				c := peers.StartCoturn(t, peers.CoturnOptions{})
				replace = append(replace, `"stun.example.net"`, fmt.Sprintf("%q", c.Addr(0)))
			}
			sip := []string{fmt.Sprintf("dns_server = %q", d.Addr())}
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.toml")
			text := runnableExample(ex, replace, sip...)
			if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			trace := filepath.Join(dir, "trace.txt")
			code, evs, p := runDialtone(t, 30*time.Second, []string{"DIALTONE_EXAMPLE_PASSWORD=" + password},
				"register", "--once", "--json", "--config", cfg, "--sip-trace", trace)
			tr, _ := os.ReadFile(trace)
			if code != 0 {
				t.Fatalf("exit %d, want 0\nconfig:\n%s\n%s\ntrace:\n%s\ndnsmasq:\n%s", code, text, p.transcript(), tr, d.Log())
			}
			if _, ok := findEvent(evs, "registered"); !ok {
				t.Fatalf("no registered event: %v\n%s", names(evs), p.transcript())
			}
			ports := strings.NewReplacer("{udp}", fmt.Sprint(k.Port("udp")), "{tls}", fmt.Sprint(k.Port("tls")))
			for _, want := range run.trace {
				if want = ports.Replace(want); !strings.Contains(string(tr), want) {
					t.Errorf("the SIP trace lacks %q:\n%s", want, tr)
					break
				}
			}
			for _, q := range run.query {
				if !strings.Contains(d.Log(), "]: query[SRV] "+q+" ") && !strings.Contains(d.Log(), "query[SRV] "+q+" from") {
					t.Errorf("dnsmasq was not asked for SRV %s:\n%s", q, d.Log())
				}
			}
			if strings.Contains(string(tr), password) || strings.Contains(p.transcript(), password) {
				t.Error("the password appears in the trace or output")
			}
		})
	}
}
