package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// ParseServer turns a configured DNS server ("192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53",
// "2001:db8::53", "ns.example.net:53") into a host:port to dial; the default port is 53.
func ParseServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty DNS server")
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		if ip.Zone() != "" {
			return "", fmt.Errorf("DNS server %q: zoned addresses are not supported", s)
		}
		return net.JoinHostPort(ip.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return "", fmt.Errorf("DNS server %q: want host[:port]: %w", s, err)
		}
		host, port = s, "53"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("DNS server %q: port %q is not 1-65535", s, port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", fmt.Errorf("DNS server %q: zoned addresses are not supported", s)
		}
		return net.JoinHostPort(ip.String(), strconv.Itoa(n)), nil
	}
	if _, ok := dns.IsDomainName(host); !ok || host == "" || strings.ContainsAny(host, " \t/[]") {
		return "", fmt.Errorf("DNS server %q: %q is neither an IP address nor a host name", s, host)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// systemServers reads the name servers of resolv.conf; like the C library, it falls back to
// the local host when the file names none.
func systemServers(path string) []string {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil || len(cc.Servers) == 0 {
		return []string{"127.0.0.1:53", "[::1]:53"}
	}
	port := cc.Port
	if port == "" {
		port = "53"
	}
	out := make([]string, 0, len(cc.Servers))
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, port))
	}
	return out
}

// answer is one DNS response, as cached: the records of the asked type (CNAMEs followed by
// the server), the response code, and when it stops being valid. An answer with err is a
// question that timed out (quietAfterTimeout), not asked again until it expires.
type answer struct {
	records []dns.RR
	rcode   int
	server  string
	err     error
	fetched time.Time
	expires time.Time
}

type cacheKey struct {
	name  string
	qtype uint16
}

// cache keeps answers for their TTL (negative ones for at most negativeTTL), and the time
// outs of the questions a router may drop for good (NAPTR, AAAA: quietAfterTimeout).
type cache struct {
	mu sync.Mutex
	m  map[cacheKey]answer
}

// quietAfterTimeout says whether a question of qtype that timed out is left unasked for a
// while: some home routers and firewalls drop NAPTR or AAAA questions while they answer the
// others, and resolution goes on without them (resolve.go), but asking them again at every
// call and REGISTER made each wait out the timeout (4 s a question) before its INVITE left.
func quietAfterTimeout(qtype uint16) bool { return qtype == typeNAPTR || qtype == typeAAAA }

const maxCacheEntries = 1024 // bounded: names come from configuration and dialled URIs

func (c *cache) get(k cacheKey, now time.Time) (answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.m[k]
	if !ok || !now.Before(a.expires) {
		return answer{}, false
	}
	return a, true
}

func (c *cache) put(k cacheKey, a answer, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[cacheKey]answer{}
	}
	if len(c.m) >= maxCacheEntries {
		for key, v := range c.m {
			if !now.Before(v.expires) || len(c.m) >= maxCacheEntries {
				delete(c.m, key)
			}
		}
	}
	c.m[k] = a
}

// exchange asks the configured servers one question, over UDP and again over TCP when the
// UDP answer was truncated. A server that does not answer in time is skipped for the next.
func (r *Resolver) exchange(ctx context.Context, name string, qtype uint16) (answer, error) {
	servers := r.servers()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, false)
	var errs []error
	for attempt := 0; attempt < r.attempts; attempt++ {
		for _, srv := range servers {
			if err := ctx.Err(); err != nil {
				return answer{}, err
			}
			res, err := r.exchangeOne(ctx, m, srv)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", srv, err))
				continue
			}
			if res.Rcode != dns.RcodeSuccess && res.Rcode != dns.RcodeNameError {
				// SERVFAIL, REFUSED…: another server may know better.
				errs = append(errs, rcodeError{srv, res.Rcode})
				continue
			}
			return r.toAnswer(res, qtype, srv), nil
		}
	}
	return answer{}, errors.Join(errs...)
}

func (r *Resolver) exchangeOne(ctx context.Context, m *dns.Msg, srv string) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: r.timeout}
	res, _, err := c.ExchangeContext(ctx, m, srv)
	if err == nil && res.Rcode == dns.RcodeFormatError && m.IsEdns0() != nil {
		// An old server that does not know EDNS (RFC 6891 7): ask again without it.
		plain := m.Copy()
		plain.Extra = nil
		res, _, err = c.ExchangeContext(ctx, plain, srv)
		m = plain
	}
	if err == nil && res.Truncated {
		c.Net = "tcp"
		res, _, err = c.ExchangeContext(ctx, m, srv)
	}
	if err != nil {
		return nil, err
	}
	if res.Id != m.Id {
		return nil, errors.New("answer to another question")
	}
	return res, nil
}

// toAnswer keeps the records of the asked type and computes how long they may be cached: the
// smallest TTL, or for a negative answer the SOA's negative TTL capped at negativeTTL.
func (r *Resolver) toAnswer(res *dns.Msg, qtype uint16, srv string) answer {
	now := r.now()
	a := answer{rcode: res.Rcode, server: srv, fetched: now}
	var ttl uint32 = maxTTL
	for _, rr := range res.Answer {
		if rr.Header().Rrtype != qtype {
			continue
		}
		a.records = append(a.records, rr)
		ttl = min(ttl, rr.Header().Ttl)
	}
	if len(a.records) == 0 {
		neg := r.negativeTTL
		for _, rr := range res.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				neg = min(neg, time.Duration(min(soa.Minttl, soa.Hdr.Ttl))*time.Second)
			}
		}
		a.expires = now.Add(neg)
		return a
	}
	a.expires = now.Add(time.Duration(ttl) * time.Second)
	return a
}

// maxTTL caps how long anything is cached, whatever a zone says (one day, as resolvers do).
const maxTTL = 86400

// lookup answers one question from the cache or the network, and records it in tr.
func (r *Resolver) lookup(ctx context.Context, tr *Trace, name string, qtype uint16) ([]dns.RR, error) {
	return r.lookupAsking(ctx, tr, name, qtype, false)
}

// lookupAsking is lookup; again says to ask even a question whose time out is remembered (an
// AAAA question when A found nothing: the name may be IPv6 only, and the time out a blip).
func (r *Resolver) lookupAsking(ctx context.Context, tr *Trace, name string, qtype uint16, again bool) ([]dns.RR, error) {
	name = strings.ToLower(dns.Fqdn(name))
	k := cacheKey{name, qtype}
	step := Step{Name: name, Type: dns.TypeToString[qtype]}
	start := r.now()
	a, ok := r.cache.get(k, start)
	switch {
	case ok && a.err == nil:
		step.Cached = true
	case ok && !again:
		step.Err, step.Cached = a.err, true
		tr.add(step)
		return nil, a.err
	default:
		var err error
		a, err = r.exchange(ctx, name, qtype)
		if err != nil {
			step.Err = err
			tr.add(step)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", step.Type, name, ctx.Err())
			}
			derr := &net.DNSError{Err: r.summarize(err), Name: strings.TrimSuffix(name, "."), Server: strings.Join(r.servers(), ", "),
				IsTimeout: isTimeout(err), IsTemporary: !onlyRcodeErrors(err)}
			if derr.IsTimeout && quietAfterTimeout(qtype) {
				now := r.now()
				r.cache.put(k, answer{err: derr, fetched: now, expires: now.Add(r.negativeTTL)}, now)
			}
			return nil, derr
		}
		r.cache.put(k, a, a.fetched)
		step.Elapsed = r.now().Sub(start)
	}
	step.Server, step.Rcode = a.server, dns.RcodeToString[a.rcode]
	age := uint32(start.Sub(a.fetched) / time.Second)
	out := make([]dns.RR, 0, len(a.records))
	for _, rr := range a.records {
		c := dns.Copy(rr)
		c.Header().Ttl -= min(age, c.Header().Ttl) // what is left of it, as a cache would say
		out = append(out, c)
		step.Records = append(step.Records, recordOf(c))
	}
	tr.add(step)
	return out, nil
}

// summarize says in one line what each server did: "no answer within 2s", "connection
// refused (is a DNS server running there?)", "answered SERVFAIL"; each thing once.
func (r *Resolver) summarize(err error) string {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var parts []string
	one := len(r.servers()) == 1 // net.DNSError names it already: "lookup x on SERVER: …"
	for _, e := range errs {
		var rc rcodeError
		var what string
		switch {
		case errors.As(e, &rc):
			what = rc.Error()
		case errors.Is(e, syscall.ECONNREFUSED):
			what = serverOf(e) + ": connection refused (no DNS server there?)"
		case isTimeout(e):
			what = fmt.Sprintf("%s: no answer within %v", serverOf(e), r.timeout)
		default:
			what = e.Error()
		}
		if one {
			what = strings.TrimPrefix(what, r.servers()[0]+": ")
		}
		if !slices.Contains(parts, what) {
			parts = append(parts, what)
		}
	}
	return strings.Join(parts, "; ")
}

// serverOf is the server an exchange error names ("192.0.2.53:53: …"), as exchange wraps them.
func serverOf(e error) string {
	s := e.Error()
	if i := strings.Index(s, ": "); i > 0 {
		return s[:i]
	}
	return "the DNS server"
}

// rcodeError is a server's refusal to answer one question (SERVFAIL, REFUSED…).
type rcodeError struct {
	server string
	rcode  int
}

func (e rcodeError) Error() string {
	return fmt.Sprintf("%s answered %s", e.server, dns.RcodeToString[e.rcode])
}

// onlyRcodeErrors tells a name-specific failure (every server answered, with an error code)
// from a server that cannot be reached at all.
func onlyRcodeErrors(err error) bool {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return false
	}
	for _, e := range j.Unwrap() {
		var rc rcodeError
		if !errors.As(e, &rc) {
			return false
		}
	}
	return true
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

func recordOf(rr dns.RR) Record {
	h := rr.Header()
	data := strings.TrimPrefix(rr.String(), h.String())
	return Record{Name: h.Name, Type: dns.TypeToString[h.Rrtype], TTL: h.Ttl, Data: data}
}
