// Package netlab builds throw-away networks of Linux network namespaces for interop tests:
// hosts on switched segments, routers with or without a NAT, all removed when the test ends.
//
// Nothing is ever attached to the host's own namespace or interfaces: every veth pair is
// created directly inside two namespaces of the lab ("ip -n A link add … peer … netns B"),
// and a segment is a bridge inside a namespace of its own. Addresses must come from the
// documentation ranges 192.0.2.0/24 (use it as the LAN), 198.51.100.0/24 and 203.0.113.0/24
// (the public side), whole or cut into /25 to /29 segments; anything else is refused.
//
// A typical lab, dialtone behind a home router in front of a provider:
//
//	lab := netlab.New(t)                          // skips unless root with ip and nft
//	lan := lab.Segment("lan", "192.0.2.0/24")
//	wan := lab.Segment("wan", "203.0.113.0/24")
//	nat := lab.Router("nat", netlab.RouterOptions{NAT: netlab.Cone, UDPTimeout: 5 * time.Second,
//		Inside: lan, InsideIP: "192.0.2.1", Outside: wan, OutsideIP: "203.0.113.1"})
//	phone := lab.Host("phone", lan, "192.0.2.10")      // default route via 192.0.2.1
//	provider := lab.Host("provider", wan, "203.0.113.10")
//	cmd := phone.Command("dialtone", "register", …)  // runs inside the namespace
//	conn, err := provider.ListenPacket("udp", "203.0.113.10:0")
//
// API (kept stable for the other interop tests):
//
//   - New(t) *Lab; lab.Segment(name, prefix) *Segment; lab.Host(name, seg, ips...) *Host;
//     lab.Router(name, RouterOptions) *Router.
//   - *Host: Name(), NS() (the namespace's name), IP() (first address), IPs(),
//     Attach(seg, ips...) (one more interface), AddRoute(prefix, via),
//     Command(name, args...) *exec.Cmd, Dial(ctx, network, addr), ListenPacket(network,
//     addr), Listen(network, addr), Run(name, args...) (a command that must succeed; its
//     stdout). lab.ID(); *Segment: Name(), Prefix(), Gateway().
//   - *Router embeds *Host and adds NAT(), SetUDPTimeout(d), UDPTimeout(), OutsideIP(), InsideIP(),
//     Mappings() (its UDP/TCP conntrack entries: From, To, Public, Expires), Conntrack()
//     (the same table as text) and Ruleset() (its nft rules, for failure messages).
//   - NAT kinds: NoNAT (plain routing: the outside segment learns a route to the inside),
//     Cone (masquerade that keeps the source port, endpoint-independent mapping; unsolicited
//     inbound is dropped, so filtering is address-and-port dependent, like most home
//     routers) and Symmetric (masquerade fully-random: a new random port per destination).
//
// Sockets opened by Dial, ListenPacket and Listen belong to the namespace for their whole
// life; addresses must be IP literals (no name resolution happens inside the lab).
// Processes started with Command should be started with cmd.Start by the test or a peer
// that stops them; whatever is still running in a lab namespace at cleanup is killed.
// Namespaces are named dt-RANDOM-PID-NAME; New removes those of test processes that died
// without cleaning up.
package netlab

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NAT is what a Router does to traffic from its inside segment to its outside segment.
type NAT int

const (
	// NoNAT routes without translation.
	NoNAT NAT = iota
	// Cone keeps the inside source port where it can (endpoint-independent mapping).
	Cone
	// Symmetric picks a new random port for every new destination (fully-random).
	Symmetric
)

func (n NAT) String() string {
	switch n {
	case NoNAT:
		return "none"
	case Cone:
		return "cone"
	case Symmetric:
		return "symmetric"
	}
	return "NAT(" + strconv.Itoa(int(n)) + ")"
}

// allowed are the only prefixes a lab hands out (RFC 5737).
var allowed = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
}

// Lab is one test's set of namespaces. Create it with New; it cleans up after itself.
type Lab struct {
	t  testing.TB
	id string

	mu       sync.Mutex
	names    []string    // namespaces created, in order
	cmds     []*exec.Cmd // made by Host.Command, killed at cleanup if still running
	segments map[string]*Segment
	hosts    map[string]*Host
}

// Segment is a switched layer-2 network (a bridge in a namespace of its own) with one prefix.
type Segment struct {
	lab    *Lab
	name   string
	ns     string
	prefix netip.Prefix
	ports  int
	hosts  []*Host
	gw     netip.Addr     // the inside address of the router serving this segment
	routes []segmentRoute // routes every host on the segment gets (NoNAT routers)
}

type segmentRoute struct {
	prefix netip.Prefix
	via    netip.Addr
}

// Host is a network namespace with interfaces on one or more segments.
type Host struct {
	lab  *Lab
	name string
	ns   string
	ips  []netip.Addr
	segs []*Segment
}

// Router is a Host with forwarding on and, optionally, a NAT from inside to outside.
type Router struct {
	*Host
	opts RouterOptions
}

// RouterOptions configures Lab.Router.
type RouterOptions struct {
	NAT NAT
	// Inside and InsideIP: the segment the router is the default gateway of.
	Inside   *Segment
	InsideIP string
	// Outside and OutsideIP: where the router's traffic goes (its default route is the
	// outside segment's gateway, if it has one).
	Outside   *Segment
	OutsideIP string
	// UDPTimeout is how long an idle UDP mapping lives (conntrack's udp_timeout and
	// udp_timeout_stream in the router's namespace). 0 keeps the kernel's 30 s / 120 s.
	UDPTimeout time.Duration
}

// New makes an empty lab for t. It skips t when not root or when ip or nft is missing, and
// removes everything the lab made (killing what still runs in it) in t.Cleanup. It first
// removes namespaces that labs of dead test processes left behind.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("netlab: network namespaces need root")
	}
	for _, bin := range []string{"ip", "nft", "sysctl"} {
		if _, err := lookPath(bin); err != nil {
			t.Skipf("netlab: %s not found (install iproute2, nftables, procps)", bin)
		}
	}
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	sweepOrphans(t)
	l := &Lab{t: t, id: hex.EncodeToString(b) + "-" + strconv.Itoa(os.Getpid()),
		segments: map[string]*Segment{}, hosts: map[string]*Host{}}
	t.Cleanup(l.cleanup)
	return l
}

// orphanName matches the namespaces of a lab: dt-RANDOM-PID-NAME.
var orphanName = regexp.MustCompile(`^dt-[0-9a-f]{6}-([0-9]+)-[a-z0-9-]+$`)

// sweepOrphans removes the namespaces of labs whose test process is gone: a test binary
// killed (a -timeout panic, SIGKILL) runs no cleanup. Namespaces of live processes, this
// one's included, are left alone, so parallel tests and packages do not disturb each other.
func sweepOrphans(t testing.TB) {
	out, err := runCmd(exec.Command("ip", "netns", "list"))
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := orphanName.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // its test may still run
		}
		killAllIn(f[0])
		if _, err := runCmd(exec.Command("ip", "netns", "del", f[0])); err == nil {
			t.Logf("netlab: removed %s, left behind by process %d", f[0], pid)
		}
	}
}

// killAllIn kills every process in namespace ns.
func killAllIn(ns string) {
	for range 3 {
		out, _ := runCmd(exec.Command("ip", "netns", "pids", ns))
		pids := strings.Fields(out)
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func lookPath(bin string) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := d + "/" + bin
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", bin)
}

// ID is what every namespace name of this lab starts with after "dt-" ("dt-ID-name"): a
// random part and the test process's id.
func (l *Lab) ID() string { return l.id }

// checkName accepts short names of letters, digits and dashes: they end up in namespace
// and interface names (15 characters at most).
func (l *Lab) checkName(kind, name string) {
	l.t.Helper()
	if name == "" || len(name) > 12 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		l.t.Fatalf("netlab: %s name %q: want 1-12 of a-z, 0-9, '-'", kind, name)
	}
	if _, ok := l.hosts[name]; ok {
		l.t.Fatalf("netlab: %s name %q already used", kind, name)
	}
	if _, ok := l.segments[name]; ok {
		l.t.Fatalf("netlab: %s name %q already used", kind, name)
	}
}

// addNS creates namespace dt-ID-name with lo up and registers it for cleanup.
func (l *Lab) addNS(name string) string {
	l.t.Helper()
	ns := "dt-" + l.id + "-" + name
	l.ip("netns", "add", ns)
	l.mu.Lock()
	l.names = append(l.names, ns)
	l.mu.Unlock()
	l.ip("-n", ns, "link", "set", "lo", "up")
	return ns
}

// ip runs ip(8) with args and fails the test when it fails.
func (l *Lab) ip(args ...string) string {
	l.t.Helper()
	return l.run("ip", args...)
}

func (l *Lab) run(name string, args ...string) string {
	l.t.Helper()
	out, err := runCmd(exec.Command(name, args...))
	if err != nil {
		l.t.Fatalf("netlab: %v", err)
	}
	return out
}

// runCmd runs cmd with a bound on its duration and returns its stdout.
func runCmd(cmd *exec.Cmd) (string, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return out.String(), fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(errb.String()))
		}
		return out.String(), nil
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("%s: still running after 10s", strings.Join(cmd.Args, " "))
	}
}

// Segment makes a switch for prefix: one of the documentation ranges or a part of one, /24
// to /29 (e.g. 198.51.100.0/25 and 198.51.100.128/25 for two segments of one range).
func (l *Lab) Segment(name, prefix string) *Segment {
	l.t.Helper()
	l.checkName("segment", name)
	p, err := netip.ParsePrefix(prefix)
	if err != nil || !p.Addr().Is4() || p.Bits() < 24 || p.Bits() > 29 || !documentation(p.Addr()) {
		l.t.Fatalf("netlab: segment %s: prefix %q is not a /24 to /29 inside 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24", name, prefix)
	}
	s := &Segment{lab: l, name: name, ns: l.addNS("sw-" + name), prefix: p.Masked()}
	l.ip("-n", s.ns, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
	l.ip("-n", s.ns, "link", "set", "br0", "up")
	l.segments[name] = s
	return s
}

// broadcast is the segment's last address.
func (s *Segment) broadcast() netip.Addr {
	b := s.prefix.Addr().As4()
	host := uint32(1)<<(32-s.prefix.Bits()) - 1
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func documentation(a netip.Addr) bool {
	for _, p := range allowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Name is the segment's name; Prefix its network.
func (s *Segment) Name() string                { return s.name }
func (s *Segment) Prefix() netip.Prefix        { return s.prefix }
func (s *Segment) Gateway() (netip.Addr, bool) { return s.gw, s.gw.IsValid() }

// cleanup kills every process left in a lab namespace and deletes the namespaces.
func (l *Lab) cleanup() {
	l.mu.Lock()
	names := append([]string(nil), l.names...)
	cmds := l.cmds
	l.mu.Unlock()
	// A process may still be "ip netns exec" on its way into the namespace, invisible to
	// "ip netns pids": kill what Command made first (a no-op for what has been reaped).
	for _, c := range cmds {
		if c.Process != nil {
			_ = c.Process.Kill()
		}
	}
	for i := len(names) - 1; i >= 0; i-- {
		ns := names[i]
		killAllIn(ns)
		if _, err := runCmd(exec.Command("ip", "netns", "del", ns)); err != nil {
			l.t.Logf("netlab: cleanup: %v", err)
		}
	}
}
