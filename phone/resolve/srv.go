package resolve

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

const (
	typeA     = dns.TypeA
	typeAAAA  = dns.TypeAAAA
	typeSRV   = dns.TypeSRV
	typeNAPTR = dns.TypeNAPTR
)

func typeName(t uint16) string { return dns.TypeToString[t] }

func isDomainName(s string) (int, bool) { return dns.IsDomainName(s) }

func dnsFqdn(s string) string { return dns.Fqdn(s) }

// srvLookup is one SRV name to ask and the transport its records mean.
type srvLookup struct {
	name      string
	transport Transport
	via       string // the NAPTR record that named it, "" when constructed
}

// ServiceTransport maps a NAPTR service field (RFC 3263 section 4.1: "SIP+D2U", "SIP+D2T",
// "SIPS+D2T", case-insensitive) to the transport it means; ok is false for services we do
// not support (SCTP's D2S, ENUM's E2U, anything else).
func ServiceTransport(service string) (Transport, bool) {
	switch strings.ToUpper(strings.TrimSpace(service)) {
	case "SIP+D2U":
		return UDP, true
	case "SIP+D2T":
		return TCP, true
	case "SIPS+D2T":
		return TLS, true
	}
	return "", false
}

// naptr asks for host's NAPTR records and returns the SRV names they point to, in order and
// preference, keeping only transports we support (and the fixed one, if any).
func (r *Resolver) naptr(ctx context.Context, tr *Trace, host string, fixed Transport) ([]srvLookup, error) {
	rrs, err := r.lookup(ctx, tr, host, typeNAPTR)
	if err != nil {
		return nil, err
	}
	var ns []*dns.NAPTR
	for _, rr := range rrs {
		if n, ok := rr.(*dns.NAPTR); ok {
			ns = append(ns, n)
		}
	}
	return naptrLookups(ns, fixed), nil
}

// naptrLookups orders and filters NAPTR records (RFC 3403: order, then preference; RFC 3263:
// flag "s", an empty regexp and a replacement naming the SRV record).
func naptrLookups(ns []*dns.NAPTR, fixed Transport) []srvLookup {
	slices.SortStableFunc(ns, func(a, b *dns.NAPTR) int {
		if a.Order != b.Order {
			return int(a.Order) - int(b.Order)
		}
		return int(a.Preference) - int(b.Preference)
	})
	var out []srvLookup
	for _, n := range ns {
		t, ok := ServiceTransport(n.Service)
		if !ok || !strings.EqualFold(n.Flags, "s") || n.Regexp != "" || n.Replacement == "" || n.Replacement == "." {
			continue
		}
		if fixed != "" && t != fixed {
			continue
		}
		if _, ok := dns.IsDomainName(n.Replacement); !ok {
			continue
		}
		out = append(out, srvLookup{name: n.Replacement, transport: t, via: "NAPTR " + strings.TrimSuffix(n.Hdr.Name, ".")})
		if len(out) >= maxTargets {
			break
		}
	}
	return out
}

// srvNames are the SRV names RFC 3263 4.2 constructs when there is no usable NAPTR record.
func srvNames(host string, fixed Transport) []srvLookup {
	all := []srvLookup{
		{name: "_sip._udp." + host, transport: UDP},
		{name: "_sip._tcp." + host, transport: TCP},
		{name: "_sips._tcp." + host, transport: TLS},
	}
	if fixed == "" {
		return all
	}
	for _, l := range all {
		if l.transport == fixed {
			return []srvLookup{l}
		}
	}
	return nil
}

// srv resolves one SRV name to targets; found says whether any SRV record existed (a lone "."
// target counts: the service is decidedly not available there).
func (r *Resolver) srv(ctx context.Context, tr *Trace, l srvLookup) ([]Target, bool, error) {
	rrs, err := r.lookup(ctx, tr, l.name, typeSRV)
	if err != nil {
		return nil, false, err
	}
	var recs []*dns.SRV
	for _, rr := range rrs {
		if s, ok := rr.(*dns.SRV); ok {
			recs = append(recs, s)
		}
	}
	if len(recs) == 0 {
		return nil, false, nil
	}
	var out []Target
	var lastErr error
	for _, s := range OrderSRV(recs, r.rand) {
		if s.Target == "." || s.Target == "" {
			continue
		}
		base := Target{Priority: s.Priority, Weight: s.Weight,
			Source: joinSource(l.via, "SRV "+strings.TrimSuffix(l.name, "."))}
		ts, err := r.addresses(ctx, tr, s.Target, l.transport, int(s.Port), base)
		if err != nil {
			if isHardFailure(err) {
				if len(out) > 0 {
					break // keep the targets found before the server stopped answering
				}
				return nil, true, err
			}
			lastErr = err
			continue
		}
		out = appendTargets(out, ts)
		if len(out) >= maxTargets {
			break
		}
	}
	return out, true, lastErr
}

// OrderSRV sorts SRV records as RFC 2782 says: by priority, and within a priority by a
// weighted random pick (records of weight 0 have a small chance, first in the running sum).
// rnd returns a uniform int in [0, n).
func OrderSRV(recs []*dns.SRV, rnd func(int) int) []*dns.SRV {
	in := slices.Clone(recs)
	slices.SortStableFunc(in, func(a, b *dns.SRV) int { return int(a.Priority) - int(b.Priority) })
	out := make([]*dns.SRV, 0, len(in))
	for len(in) > 0 {
		end := 1
		for end < len(in) && in[end].Priority == in[0].Priority {
			end++
		}
		group := in[:end]
		// Zero weights first, so that they are picked only when the draw is 0.
		slices.SortStableFunc(group, func(a, b *dns.SRV) int {
			return boolInt(a.Weight != 0) - boolInt(b.Weight != 0)
		})
		for len(group) > 0 {
			sum := 0
			for _, s := range group {
				sum += int(s.Weight)
			}
			pick := rnd(sum + 1) // 0..sum inclusive
			i, run := 0, 0
			for ; i < len(group); i++ {
				run += int(group[i].Weight)
				if run >= pick {
					break
				}
			}
			if i == len(group) { // a misbehaving rnd: take the last
				i = len(group) - 1
			}
			out = append(out, group[i])
			group = slices.Delete(group, i, i+1)
		}
		in = in[end:]
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addrsOf keeps the A and AAAA records' addresses.
func addrsOf(rrs []dns.RR) []netip.Addr {
	var out []netip.Addr
	for _, rr := range rrs {
		switch v := rr.(type) {
		case *dns.A:
			if ip, ok := netip.AddrFromSlice(v.A.To4()); ok {
				out = append(out, ip)
			}
		case *dns.AAAA:
			if ip, ok := netip.AddrFromSlice(v.AAAA.To16()); ok && !ip.Is4In6() {
				out = append(out, ip)
			}
		}
	}
	return out
}
