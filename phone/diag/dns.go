package diag

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// Target is one place to send SIP to over one transport.
type Target struct {
	Transport phone.Transport
	Host      string         // the server's name from the account (TLS verifies this name)
	Addr      netip.AddrPort // where the packets go
	From      string         // how it was found: "SRV _sip._udp.example.com", "A example.com", "literal"
}

// Record is one DNS answer as the report shows it. TTL is -1 where the resolver does not
// say (the standard library's does not).
type Record struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	TTL   int    `json:"ttl"`
	Value string `json:"value"`
}

// Answer is what a Resolver found for one server host.
type Answer struct {
	Records []Record
	Targets []Target
	Notes   []string // what it could not do (e.g. "NAPTR not queried")
}

// Resolver finds the targets of a SIP server (RFC 3263). The default, NetResolver, uses the
// standard library: SRV and A/AAAA, without NAPTR and without TTLs. It is the seam where the
// RFC 3263 resolver with its raw answers plugs in.
type Resolver interface {
	Resolve(ctx context.Context, host string, port int, transports []phone.Transport) (*Answer, error)
}

// maxTargetsPerTransport bounds how many addresses of one transport are probed.
const maxTargetsPerTransport = 4

// NetResolver resolves with net.Resolver; Server, when set (host[:port], port 53 by
// default), is the DNS server asked instead of the system's.
type NetResolver struct{ Server string }

func (n NetResolver) resolver() *net.Resolver {
	if n.Server == "" {
		return net.DefaultResolver
	}
	server := n.Server
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(strings.Trim(server, "[]"), "53")
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}

// Resolve looks up SRV (when port is 0) and A/AAAA for each transport.
func (n NetResolver) Resolve(ctx context.Context, host string, port int, transports []phone.Transport) (*Answer, error) {
	r := n.resolver()
	ans := &Answer{Notes: []string{"NAPTR not queried and TTLs unknown (standard library resolver)"}}
	addrs := map[string][]netip.Addr{}
	lookup := func(name string) ([]netip.Addr, error) {
		if a, ok := addrs[name]; ok {
			return a, nil
		}
		ips, err := r.LookupNetIP(ctx, "ip", name)
		if err != nil {
			return nil, err
		}
		for _, ip := range ips {
			typ := "A"
			if ip.Is6() && !ip.Is4In6() {
				typ = "AAAA"
			}
			ans.Records = append(ans.Records, Record{Type: typ, Name: name, TTL: -1, Value: ip.Unmap().String()})
		}
		addrs[name] = ips
		return ips, nil
	}
	var errs []error
	for _, t := range transports {
		name, p := host, port
		from := "A/AAAA " + host
		var srvs []*net.SRV
		if port == 0 {
			service, proto := srvName(t)
			_, found, err := r.LookupSRV(ctx, service, proto, host)
			if err == nil {
				srvs = found
			}
			for _, s := range srvs {
				ans.Records = append(ans.Records, Record{Type: "SRV", Name: fmt.Sprintf("_%s._%s.%s", service, proto, host), TTL: -1,
					Value: fmt.Sprintf("%d %d %d %s", s.Priority, s.Weight, s.Port, s.Target)})
			}
		}
		type hop struct {
			name string
			port int
			from string
		}
		hops := []hop{{name, defaultPort(p, t), from}}
		if len(srvs) > 0 {
			hops = hops[:0]
			service, proto := srvName(t)
			for _, s := range srvs {
				hops = append(hops, hop{strings.TrimSuffix(s.Target, "."), int(s.Port), fmt.Sprintf("SRV _%s._%s.%s", service, proto, host)})
			}
		}
		n := 0
		for _, h := range hops {
			ips, err := lookup(h.name)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", h.name, err))
				continue
			}
			for _, ip := range preferV4(ips) {
				if n == maxTargetsPerTransport {
					break
				}
				ans.Targets = append(ans.Targets, Target{Transport: t, Host: host, Addr: netip.AddrPortFrom(ip.Unmap(), uint16(h.port)), From: h.from})
				n++
			}
		}
	}
	if len(ans.Targets) == 0 {
		return ans, errors.Join(errs...)
	}
	return ans, nil
}

func srvName(t phone.Transport) (service, proto string) {
	switch t {
	case phone.TCP:
		return "sip", "tcp"
	case phone.TLS:
		return "sips", "tcp"
	}
	return "sip", "udp"
}

func defaultPort(port int, t phone.Transport) int {
	switch {
	case port > 0:
		return port
	case t == phone.TLS:
		return 5061
	}
	return 5060
}

// preferV4 puts IPv4 first: it is what the phone itself picks.
func preferV4(ips []netip.Addr) []netip.Addr {
	out := slices.Clone(ips)
	slices.SortStableFunc(out, func(a, b netip.Addr) int {
		av, bv := a.Unmap().Is4(), b.Unmap().Is4()
		switch {
		case av && !bv:
			return -1
		case bv && !av:
			return 1
		}
		return 0
	})
	return out
}

// transportsFor says which transports to probe: the account's own always; with an explicit
// port also the other of UDP/TCP (servers usually listen on both at one port), and with no
// port every transport, at its SRV or default port. A TLS port is never guessed.
func transportsFor(t phone.Transport, port int) []phone.Transport {
	switch {
	case port == 0:
		return []phone.Transport{phone.UDP, phone.TCP, phone.TLS}
	case t == phone.UDP:
		return []phone.Transport{phone.UDP, phone.TCP}
	case t == phone.TCP:
		return []phone.Transport{phone.TCP, phone.UDP}
	}
	return []phone.Transport{t}
}

// checkDNS resolves the first hop (outbound proxy, else registrar) and returns the targets.
func checkDNS(ctx context.Context, in *Input, host string, port int) (*Check, []Target) {
	c := &Check{Name: "dns", Title: "DNS for " + host}
	c.add("host", host)
	if in.DNSServer != "" {
		c.add("dns_server", in.DNSServer)
	}
	want := transportsFor(in.Account.Transport, port)
	if ip, err := netip.ParseAddr(host); err == nil {
		var ts []Target
		for _, t := range want {
			ts = append(ts, Target{Transport: t, Host: host, Addr: netip.AddrPortFrom(ip.Unmap(), uint16(defaultPort(port, t))), From: "literal"})
		}
		c.Status = Skipped
		c.Note = "the server is an IP address: nothing to look up"
		c.add("targets", targetStrings(ts))
		return c, ts
	}
	r := in.Resolver
	if r == nil {
		r = NetResolver{Server: in.DNSServer}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	ans, err := r.Resolve(ctx, host, port, want)
	c.add("time_ms", ms(time.Since(start)))
	if ans != nil {
		c.add("records", ans.Records)
		c.add("targets", targetStrings(ans.Targets))
		if len(ans.Notes) > 0 {
			c.Note = strings.Join(ans.Notes, "; ")
		}
	}
	if err != nil || ans == nil || len(ans.Targets) == 0 {
		if err != nil {
			c.add("error", err.Error())
		}
		fix := "check the host name in registrar/outbound_proxy (or the AOR's domain) for typos"
		if in.DNSServer != "" {
			fix += ", and that the DNS server " + in.DNSServer + " answers"
		} else {
			fix += ", and the DNS servers in /etc/resolv.conf (or set dns_server)"
		}
		c.fail(phone.FailureNetwork, fmt.Sprintf("%s cannot be resolved: no SRV, A or AAAA record was found", host), fix)
		return c, nil
	}
	if !slices.ContainsFunc(ans.Targets, func(t Target) bool { return t.Transport == in.Account.Transport }) {
		c.fail(phone.FailureNetwork, fmt.Sprintf("%s has no address for %s, the account's transport", host, in.Account.Transport),
			"use a transport the provider publishes, or fix the provider's SRV records")
	}
	return c, ans.Targets
}

func targetStrings(ts []Target) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Transport.String()+" "+t.Addr.String()+" ("+t.From+")")
	}
	return out
}

func ms(d time.Duration) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(d.Seconds()*1000, 'f', 1, 64), 64)
	return v
}
