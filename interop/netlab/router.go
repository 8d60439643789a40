package netlab

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Router makes a router between opts.Inside and opts.Outside: forwarding on, the default
// gateway of the inside segment (hosts already there and those added later route via
// InsideIP), and the NAT of opts.NAT in an nft table of its own namespace.
func (l *Lab) Router(name string, opts RouterOptions) *Router {
	l.t.Helper()
	if opts.Inside == nil || opts.Outside == nil || opts.Inside == opts.Outside {
		l.t.Fatalf("netlab: router %s: needs two different segments", name)
	}
	if _, ok := opts.Inside.Gateway(); ok {
		l.t.Fatalf("netlab: router %s: segment %s has a gateway already", name, opts.Inside.name)
	}
	if opts.NAT < NoNAT || opts.NAT > Symmetric {
		l.t.Fatalf("netlab: router %s: unknown NAT %v", name, opts.NAT)
	}
	h := l.Host(name, opts.Outside, opts.OutsideIP)
	h.Attach(opts.Inside, opts.InsideIP)
	r := &Router{Host: h, opts: opts}
	l.run("ip", "netns", "exec", h.ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	if opts.UDPTimeout > 0 {
		r.SetUDPTimeout(opts.UDPTimeout)
	}
	if err := r.loadRuleset(); err != nil {
		l.t.Fatalf("netlab: router %s: %v", name, err)
	}

	in := opts.Inside
	in.gw = netip.MustParseAddr(opts.InsideIP)
	for _, x := range in.hosts {
		if x != h && !x.hasDefault() {
			l.ip("-n", x.ns, "route", "add", "default", "via", opts.InsideIP)
		}
	}
	if opts.NAT == NoNAT {
		// Without translation the outside must know the way back to the inside.
		rt := segmentRoute{prefix: in.prefix, via: netip.MustParseAddr(opts.OutsideIP)}
		opts.Outside.routes = append(opts.Outside.routes, rt)
		for _, x := range opts.Outside.hosts {
			if x != h {
				l.ip("-n", x.ns, "route", "replace", rt.prefix.String(), "via", rt.via.String())
			}
		}
	}
	return r
}

// loadRuleset installs table ip netlab. Unsolicited packets from the outside are dropped,
// to the router itself and through it to the inside (a private address is as unreachable
// from the outside as on the internet). They are dropped before conntrack confirms them: an
// inbound packet that was answered (ICMP unreachable) would leave a conntrack entry holding
// the public port, and the NAT would then give the inside host a different port, which no
// home router does.
func (r *Router) loadRuleset() error {
	out := r.opts.Outside.name
	masq := ""
	switch r.opts.NAT {
	case Cone:
		masq = fmt.Sprintf("\t\toifname %q masquerade persistent\n", out)
	case Symmetric:
		masq = fmt.Sprintf("\t\toifname %q masquerade fully-random\n", out)
	}
	rules := fmt.Sprintf(`table ip netlab {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname %q ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname %q ct state new drop
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
%s	}
}
`, out, out, masq)
	if r.opts.NAT == NoNAT {
		rules = "table ip netlab {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n"
	}
	f, err := os.CreateTemp("", "netlab-*.nft")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(rules); err != nil {
		f.Close()
		return err
	}
	f.Close()
	if _, err := runCmd(r.Command("nft", "-f", f.Name())); err != nil {
		return fmt.Errorf("loading nft rules:\n%s\n%w", rules, err)
	}
	return nil
}

// NAT is the router's kind of translation.
func (r *Router) NAT() NAT { return r.opts.NAT }

// OutsideIP and InsideIP are the router's two addresses.
func (r *Router) OutsideIP() string { return r.opts.OutsideIP }
func (r *Router) InsideIP() string  { return r.opts.InsideIP }

// SetUDPTimeout sets how long idle UDP mappings live in this router (both conntrack's
// unreplied and its "stream" timeout, which are per namespace on current kernels). It
// applies to new and existing entries from their next packet on.
func (r *Router) SetUDPTimeout(d time.Duration) {
	r.lab.t.Helper()
	s := int(d.Round(time.Second) / time.Second)
	if s < 1 {
		s = 1
	}
	r.Run("sysctl", "-q", "-w",
		"net.netfilter.nf_conntrack_udp_timeout="+strconv.Itoa(s),
		"net.netfilter.nf_conntrack_udp_timeout_stream="+strconv.Itoa(s))
	r.opts.UDPTimeout = time.Duration(s) * time.Second
}

// UDPTimeout is the mapping timeout set, 0 when the kernel's default is in force.
func (r *Router) UDPTimeout() time.Duration { return r.opts.UDPTimeout }

// Conntrack returns the router's connection tracking table as the kernel prints it
// (/proc/net/nf_conntrack in the namespace), one entry a line; "" when it cannot be read.
func (r *Router) Conntrack() string {
	out, err := runCmd(r.Command("cat", "/proc/net/nf_conntrack"))
	if err != nil {
		return ""
	}
	return out
}

// Ruleset returns the router's nft ruleset, for failure messages.
func (r *Router) Ruleset() string {
	out, err := runCmd(r.Command("nft", "list", "ruleset"))
	if err != nil {
		return err.Error()
	}
	return out
}

// Mapping is one UDP or TCP entry of a router's conntrack table: a flow From an address
// To another, translated (by a NAT) to Public, which is where the far end sees it.
type Mapping struct {
	Proto    string // "udp" or "tcp"
	From, To netip.AddrPort
	Public   netip.AddrPort // the reply's destination: From after translation
	Expires  time.Duration  // left until the entry dies without traffic
}

// Mappings returns the router's UDP and TCP conntrack entries (nil if the table cannot be
// read).
func (r *Router) Mappings() []Mapping {
	return parseConntrack(r.Conntrack())
}

// parseConntrack reads /proc/net/nf_conntrack lines such as
//
//	ipv4 2 udp 17 28 src=192.0.2.10 dst=203.0.113.10 sport=5 dport=6 src=203.0.113.10 dst=203.0.113.1 sport=6 dport=5 [ASSURED] mark=0 use=2
//
// (for tcp a state word comes after the seconds).
func parseConntrack(table string) []Mapping {
	var out []Mapping
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || (f[2] != "udp" && f[2] != "tcp") {
			continue
		}
		secs, err := strconv.Atoi(f[4])
		if err != nil {
			continue
		}
		var kv [2]map[string]string
		tuple := -1
		for _, w := range f[5:] {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				continue
			}
			if k == "src" {
				tuple++
				if tuple > 1 {
					break
				}
				kv[tuple] = map[string]string{}
			}
			if tuple >= 0 && tuple <= 1 {
				kv[tuple][k] = v
			}
		}
		if tuple < 1 {
			continue
		}
		ap := func(m map[string]string, ip, port string) netip.AddrPort {
			a, _ := netip.ParseAddrPort(m[ip] + ":" + m[port])
			return a
		}
		out = append(out, Mapping{
			Proto:   f[2],
			From:    ap(kv[0], "src", "sport"),
			To:      ap(kv[0], "dst", "dport"),
			Public:  ap(kv[1], "dst", "dport"),
			Expires: time.Duration(secs) * time.Second,
		})
	}
	return out
}
