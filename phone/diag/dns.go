package diag

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/resolve"
)

// Target is one place to send SIP to over one transport.
type Target struct {
	Transport phone.Transport
	Host      string         // the server's name from the account (TLS verifies this name)
	Name      string         // the target's own name (an SRV target's), which TLS may name instead
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

// Resolver finds the targets of a SIP server (RFC 3263) and the raw answers on the way. The
// default is RFC3263 over phone/resolve, the phone's own resolver.
type Resolver interface {
	Resolve(ctx context.Context, host string, port int, transports []phone.Transport) (*Answer, error)
}

// maxTargetsPerTransport bounds how many addresses of one transport are probed.
const maxTargetsPerTransport = 4

func defaultPort(port int, t phone.Transport) int {
	switch {
	case port > 0:
		return port
	case t == phone.TLS:
		return 5061
	}
	return 5060
}

// dnsPerTransport bounds each transport's resolution (RFC3263.Resolve): one budget shared by
// all three let a resolver that drops a question or two use it up before the account's own
// transport was asked, and doctor failed a lookup the phone makes fine.
const dnsPerTransport = 10 * time.Second

// transportsFor says which transports to probe: the account's own always; with an explicit
// port also the other of UDP/TCP (servers usually listen on both at one port), and with no
// port every transport, at its SRV or default port. A TLS port is never guessed.
func transportsFor(t phone.Transport, port int) []phone.Transport {
	switch {
	case port == 0: // the account's first: a slow resolver spends the others' time, not its
		out := []phone.Transport{t}
		for _, o := range []phone.Transport{phone.UDP, phone.TCP, phone.TLS} {
			if o != t {
				out = append(out, o)
			}
		}
		return out
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
		rr, err := resolve.New(resolve.Config{Server: in.DNSServer})
		if err != nil {
			c.fail(phone.FailureConfig, "the DNS server setting is not usable: "+err.Error(), "write dns_server / --dns-server as HOST[:PORT]")
			return c, nil
		}
		r = RFC3263{R: rr}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(len(want))*dnsPerTransport)
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
