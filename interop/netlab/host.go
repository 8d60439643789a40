package netlab

import (
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
)

// Host makes a namespace with one interface (named after seg) on seg holding ips (at
// least one), a default route via seg's router if it has one, and lo up.
func (l *Lab) Host(name string, seg *Segment, ips ...string) *Host {
	l.t.Helper()
	l.checkName("host", name)
	h := &Host{lab: l, name: name, ns: l.addNS(name)}
	l.hosts[name] = h
	h.Attach(seg, ips...)
	return h
}

// Attach gives h one more interface, on seg, with ips. The interface is named after the
// segment, so a host attaches to a segment once.
func (h *Host) Attach(seg *Segment, ips ...string) {
	l := h.lab
	l.t.Helper()
	if seg == nil || seg.lab != l {
		l.t.Fatalf("netlab: host %s: segment of another lab or nil", h.name)
	}
	for _, s := range h.segs {
		if s == seg {
			l.t.Fatalf("netlab: host %s is on segment %s already", h.name, seg.name)
		}
	}
	if len(ips) == 0 {
		l.t.Fatalf("netlab: host %s on %s: no address", h.name, seg.name)
	}
	var addrs []netip.Addr
	for _, ip := range ips {
		a, err := netip.ParseAddr(ip)
		if err != nil || !seg.prefix.Contains(a) || a == seg.prefix.Addr() || a == seg.broadcast() {
			l.t.Fatalf("netlab: host %s: %q is not a host address of %s", h.name, ip, seg.prefix)
		}
		addrs = append(addrs, a)
	}
	seg.ports++
	port := "p" + strconv.Itoa(seg.ports)
	ifname := seg.name
	l.ip("-n", seg.ns, "link", "add", port, "type", "veth", "peer", "name", ifname, "netns", h.ns)
	l.ip("-n", seg.ns, "link", "set", port, "master", "br0", "up")
	for _, a := range addrs {
		l.ip("-n", h.ns, "addr", "add", a.String()+"/"+strconv.Itoa(seg.prefix.Bits()), "dev", ifname)
	}
	l.ip("-n", h.ns, "link", "set", ifname, "up")
	h.ips = append(h.ips, addrs...)
	h.segs = append(h.segs, seg)
	seg.hosts = append(seg.hosts, h)
	if gw, ok := seg.Gateway(); ok && !h.hasDefault() {
		l.ip("-n", h.ns, "route", "add", "default", "via", gw.String())
	}
	for _, r := range seg.routes {
		if !h.owns(r.via) {
			l.ip("-n", h.ns, "route", "replace", r.prefix.String(), "via", r.via.String())
		}
	}
}

func (h *Host) hasDefault() bool {
	out, err := runCmd(exec.Command("ip", "-n", h.ns, "route", "show", "default"))
	return err == nil && strings.TrimSpace(out) != ""
}

func (h *Host) owns(a netip.Addr) bool {
	for _, x := range h.ips {
		if x == a {
			return true
		}
	}
	return false
}

// AddRoute adds a route to prefix via the neighbour via in h's namespace.
func (h *Host) AddRoute(prefix, via string) {
	h.lab.t.Helper()
	h.lab.ip("-n", h.ns, "route", "replace", prefix, "via", via)
}

// Name is the host's name in the lab; NS the namespace's name (for ip netns exec).
func (h *Host) Name() string { return h.name }
func (h *Host) NS() string   { return h.ns }

// IP is the host's first address, as a string for URIs and flags.
func (h *Host) IP() string { return h.ips[0].String() }

// IPs are all its addresses in the order given.
func (h *Host) IPs() []netip.Addr { return append([]netip.Addr(nil), h.ips...) }

// Command is exec.Command running inside h's namespace (via "ip netns exec", which execs
// the program, so cmd.Process is the program itself).
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	ipBin, err := lookPath("ip")
	if err != nil {
		ipBin = "ip"
	}
	cmd := exec.Command(ipBin, append([]string{"netns", "exec", h.ns, name}, args...)...)
	h.lab.mu.Lock()
	h.lab.cmds = append(h.lab.cmds, cmd)
	h.lab.mu.Unlock()
	return cmd
}

// Run runs a command in h's namespace and fails the test if it fails; it returns stdout.
func (h *Host) Run(name string, args ...string) string {
	h.lab.t.Helper()
	out, err := runCmd(h.Command(name, args...))
	if err != nil {
		h.lab.t.Fatalf("netlab: in %s: %v", h.name, err)
	}
	return out
}
