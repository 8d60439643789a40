// Package resolve locates SIP servers as RFC 3263 section 4 describes: NAPTR, then SRV
// (RFC 2782 priorities and weights), then A and AAAA, giving the ordered list of targets a
// client fails over along. It talks DNS itself (github.com/miekg/dns) because the standard
// resolver cannot ask for NAPTR records nor tell TTLs, and it caches answers for their TTL.
package resolve

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transport is a SIP transport we can use.
type Transport string

// The transports RFC 3263 resolution can yield here; SCTP (D2S) is not supported.
const (
	UDP Transport = "udp"
	TCP Transport = "tcp"
	TLS Transport = "tls"
)

// Query is what to locate: the host part of a SIP URI and what the URI or the configuration
// fixes.
type Query struct {
	Host      string    // a host name, an IPv4 address, or an IPv6 address (brackets allowed)
	Port      int       // the URI's port; 0 when it has none
	Secure    bool      // a sips: URI: TLS only
	Transport Transport // the transport=… parameter or the configured one; "" lets DNS choose
}

func (q Query) String() string {
	s := q.Host
	if q.Port > 0 {
		s = net.JoinHostPort(strings.Trim(q.Host, "[]"), strconv.Itoa(q.Port))
	}
	if q.Secure {
		s = "sips:" + s
	}
	if q.Transport != "" {
		s += " over " + string(q.Transport)
	}
	return s
}

// Target is one place to send a request to, in the order to try them.
type Target struct {
	Transport Transport
	Host      string // the name the address belongs to (an SRV target, or the URI's host)
	Addr      netip.AddrPort
	Priority  uint16 // from SRV, 0 without
	Weight    uint16
	Source    string // how it was found, e.g. "NAPTR example.com > SRV _sip._udp.example.com > A sip1.example.com"
}

// String names a target for people: "udp 192.0.2.1:5060 (sip1.example.com, SRV priority 10)".
func (t Target) String() string {
	s := fmt.Sprintf("%s %s", t.Transport, t.Addr)
	if t.Host != "" && t.Host != t.Addr.Addr().String() {
		s += " (" + t.Host
		if strings.Contains(t.Source, "SRV") {
			s += fmt.Sprintf(", SRV priority %d weight %d", t.Priority, t.Weight)
		}
		s += ")"
	}
	return s
}

// Config sets a Resolver up. The zero value asks resolv.conf's servers.
type Config struct {
	// Server is the DNS server (host[:port], default port 53); "" uses /etc/resolv.conf's.
	Server string
	// Timeout bounds each question to one server; 0 means 2 s.
	Timeout time.Duration
	// Attempts is how many rounds over the servers one question gets; 0 means 2.
	Attempts int
	// NegativeTTL caps how long "no such name" and "no such record" are remembered; 0 means
	// 30 s, short because a provider fixing its zone should not wait for us.
	NegativeTTL time.Duration
	// Now is the clock for the cache; nil means time.Now.
	Now func() time.Time
	// Rand returns a uniform int in [0, n) for SRV weights; nil means math/rand/v2.
	Rand func(n int) int
	// ResolvConf is the file read when Server is ""; "" means /etc/resolv.conf.
	ResolvConf string
	// HostsFile answers A/AAAA before DNS, as the C library does; "" means /etc/hosts, "-"
	// none.
	HostsFile string
}

// Resolver locates SIP servers. It is safe for concurrent use.
type Resolver struct {
	server      string
	resolvConf  string
	timeout     time.Duration
	attempts    int
	negativeTTL time.Duration
	now         func() time.Time
	rand        func(int) int
	cache       cache
	hosts       *hostsFile

	once   sync.Once
	system []string
}

// New checks cfg; it does no I/O (resolv.conf is read at the first question).
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{timeout: cfg.Timeout, attempts: cfg.Attempts, negativeTTL: cfg.NegativeTTL,
		now: cfg.Now, rand: cfg.Rand, resolvConf: cfg.ResolvConf}
	if cfg.Server != "" {
		s, err := ParseServer(cfg.Server)
		if err != nil {
			return nil, err
		}
		r.server = s
	}
	if r.timeout <= 0 {
		r.timeout = 2 * time.Second
	}
	if r.attempts <= 0 {
		r.attempts = 2
	}
	if r.negativeTTL <= 0 {
		r.negativeTTL = 30 * time.Second
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.IntN
	}
	if r.resolvConf == "" {
		r.resolvConf = "/etc/resolv.conf"
	}
	switch cfg.HostsFile {
	case "":
		r.hosts = &hostsFile{path: "/etc/hosts"}
	case "-":
	default:
		r.hosts = &hostsFile{path: cfg.HostsFile}
	}
	return r, nil
}

// Servers are the DNS servers asked, in order.
func (r *Resolver) servers() []string {
	if r.server != "" {
		return []string{r.server}
	}
	r.once.Do(func() { r.system = systemServers(r.resolvConf) })
	return r.system
}

// Servers are the DNS servers this resolver asks, in order (for diagnostics).
func (r *Resolver) Servers() []string { return append([]string(nil), r.servers()...) }

// DefaultPort is SIP's port for a transport: 5061 for TLS, 5060 otherwise.
func DefaultPort(t Transport) int {
	if t == TLS {
		return 5061
	}
	return 5060
}

// Resolve returns the targets for q in the order to try them, and the trace of every DNS
// question asked on the way (also on error). The error, when no target was found, is a
// *net.DNSError naming the host.
func (r *Resolver) Resolve(ctx context.Context, q Query) ([]Target, *Trace, error) {
	tr := &Trace{Query: q, Servers: r.Servers()}
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(q.Host), "["), "]")
	if host == "" {
		return nil, tr, &net.DNSError{Err: "empty host", Name: q.Host, IsNotFound: true}
	}
	if q.Port < 0 || q.Port > 65535 {
		return nil, tr, &net.DNSError{Err: fmt.Sprintf("port %d out of range", q.Port), Name: host, IsNotFound: true}
	}
	if q.Secure && q.Transport != "" && q.Transport != TLS {
		return nil, tr, &net.DNSError{Err: fmt.Sprintf("a sips URI cannot use %s", q.Transport), Name: host, IsNotFound: true}
	}
	switch q.Transport {
	case "", UDP, TCP, TLS:
	default:
		return nil, tr, &net.DNSError{Err: fmt.Sprintf("unsupported transport %q", q.Transport), Name: host, IsNotFound: true}
	}
	// RFC 3263 4.1: without a transport parameter, a numeric host or an explicit port means
	// UDP for sip: and TLS (over TCP) for sips:.
	fixed := q.Transport
	if fixed == "" && q.Secure {
		fixed = TLS
	}
	plain := fixed
	if plain == "" {
		plain = UDP
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return nil, tr, &net.DNSError{Err: "zoned addresses are not supported", Name: host, IsNotFound: true}
		}
		port := q.Port
		if port == 0 {
			port = DefaultPort(plain)
		}
		t := Target{Transport: plain, Host: ip.Unmap().String(), Addr: netip.AddrPortFrom(ip.Unmap(), uint16(port)), Source: "numeric address"}
		return []Target{t}, tr, nil
	}
	if _, ok := isDomainName(host); !ok {
		return nil, tr, &net.DNSError{Err: "not a valid host name", Name: host, IsNotFound: true}
	}
	if q.Port > 0 {
		ts, err := r.addresses(ctx, tr, host, plain, q.Port, Target{Source: "explicit port"})
		if err != nil {
			return nil, tr, err
		}
		return ts, tr, nil
	}
	ts, err := r.locate(ctx, tr, host, fixed, plain)
	return ts, tr, err
}

// maxTargets bounds what one name can expand to, whatever the zone holds.
const maxTargets = 32

// locate is RFC 3263 4.1 and 4.2 for a host name without a port: NAPTR, else SRV for each
// transport, else A/AAAA with the default port.
func (r *Resolver) locate(ctx context.Context, tr *Trace, host string, fixed, plain Transport) ([]Target, error) {
	var out []Target
	srvSeen := false  // some SRV record existed (even "."): no A fallback then
	var lastErr error // the DNS failure to report when nothing was found
	naptrs, err := r.naptr(ctx, tr, host, fixed)
	if err != nil && isHardFailure(err) {
		// Some home routers drop NAPTR queries (time out) while they answer SRV and A: go
		// on without NAPTR, as when a domain has none. A resolver that is down fails at the
		// SRV query next.
		lastErr, naptrs = err, nil
	}
	lookups := naptrs
	if len(lookups) == 0 {
		lookups = srvNames(host, fixed)
	}
	for _, l := range lookups {
		ts, found, err := r.srv(ctx, tr, l)
		if err != nil {
			if isHardFailure(err) {
				return nil, err
			}
			lastErr = err
		}
		srvSeen = srvSeen || found
		out = appendTargets(out, ts)
		if len(out) >= maxTargets {
			return out[:maxTargets], nil
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if srvSeen {
		if lastErr != nil {
			return nil, lastErr
		}
		return nil, &net.DNSError{Err: "its SRV records name no reachable host (service not available)", Name: host, IsNotFound: true}
	}
	return r.addresses(ctx, tr, host, plain, DefaultPort(plain), Target{Source: "no SRV"})
}

// isHardFailure is an error that makes every further question pointless: the DNS server
// does not answer (or refuses every question), or the caller gave up. A name-specific
// SERVFAIL is not one: other names may still resolve.
func isHardFailure(err error) bool {
	de, ok := err.(*net.DNSError)
	return !ok || de.IsTimeout || de.IsTemporary
}

func appendTargets(out, ts []Target) []Target {
	for _, t := range ts {
		dup := false
		for _, o := range out {
			if o.Transport == t.Transport && o.Addr == t.Addr {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	return out
}

// addresses looks host up by A, then AAAA: IPv4 first, because it is what most SIP providers
// serve best, then IPv6; every address is its own target.
func (r *Resolver) addresses(ctx context.Context, tr *Trace, host string, t Transport, port int, base Target) ([]Target, error) {
	var out []Target
	if ips := r.hosts.lookup(host); len(ips) > 0 {
		name := strings.TrimSuffix(host, ".")
		step := Step{Name: dnsFqdn(name), Server: r.hosts.path, Rcode: "NOERROR", Type: "A/AAAA"}
		for _, want4 := range []bool{true, false} { // IPv4 first, as from DNS
			for _, ip := range ips {
				if ip.Is4() != want4 {
					continue
				}
				tg := base
				tg.Transport, tg.Host, tg.Addr = t, name, netip.AddrPortFrom(ip, uint16(port))
				tg.Source = joinSource(base.Source, "hosts "+name)
				out = append(out, tg)
				typ := "AAAA"
				if want4 {
					typ = "A"
				}
				step.Records = append(step.Records, Record{Name: dnsFqdn(name), Type: typ, Data: ip.String()})
			}
		}
		tr.add(step)
		return out, nil
	}
	var errs []error
	for _, qtype := range []uint16{typeA, typeAAAA} {
		rrs, err := r.lookupAsking(ctx, tr, host, qtype, len(out) == 0) // no A address: AAAA is all there is
		if err != nil {
			if isHardFailure(err) {
				if len(out) > 0 {
					// The A question was answered and the AAAA one timed out: some routers
					// and firewalls drop AAAA. What was found is the answer.
					break
				}
				return nil, err
			}
			errs = append(errs, err)
			continue
		}
		for _, ip := range addrsOf(rrs) {
			tg := base
			tg.Transport, tg.Host, tg.Addr = t, strings.TrimSuffix(host, "."), netip.AddrPortFrom(ip, uint16(port))
			tg.Source = joinSource(base.Source, typeName(qtype)+" "+tg.Host)
			out = append(out, tg)
		}
	}
	if len(out) == 0 {
		if len(errs) > 0 {
			return nil, errs[0]
		}
		return nil, &net.DNSError{Err: "no A or AAAA record", Name: strings.TrimSuffix(host, "."), IsNotFound: true}
	}
	return out, nil
}

func joinSource(a, b string) string {
	if a == "" {
		return b
	}
	return a + " > " + b
}
