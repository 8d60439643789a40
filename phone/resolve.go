package phone

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// resolver is the part of *net.Resolver that target resolution uses.
type resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// resolveTarget turns a server URI into the ip:port to send to, in the spirit of RFC 3263:
// an IP address is used as is; a host name with an explicit port is looked up by A/AAAA;
// a host name without a port is looked up by SRV first (_sip._udp, _sip._tcp, _sips._tcp),
// falling back to A/AAAA and the transport's default port.
func resolveTarget(ctx context.Context, r resolver, uri sip.Uri, t Transport) (string, error) {
	port := uri.Port
	host := strings.TrimSuffix(strings.TrimPrefix(uri.Host, "["), "]") // sip:[::1]:5060
	if ip, err := netip.ParseAddr(host); err == nil {
		return net.JoinHostPort(ip.String(), strconv.Itoa(portOr(port, t))), nil
	}
	if port == 0 {
		service, proto := "sip", "udp"
		switch t {
		case TCP:
			proto = "tcp"
		case TLS:
			service, proto = "sips", "tcp"
		}
		if _, srvs, err := r.LookupSRV(ctx, service, proto, host); err == nil && len(srvs) > 0 {
			// net.Resolver sorts by priority and shuffles by weight, so the first is RFC 2782's pick.
			host, port = trimDot(srvs[0].Target), int(srvs[0].Port)
		}
	}
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", host, err)
	}
	ip := ips[0]
	for _, a := range ips { // prefer IPv4: it is what most SIP providers expect
		if a.Is4() || a.Is4In6() {
			ip = a.Unmap()
			break
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(portOr(port, t))), nil
}

func portOr(port int, t Transport) int {
	if port > 0 {
		return port
	}
	if t == TLS {
		return 5061
	}
	return 5060
}

func trimDot(s string) string {
	if n := len(s); n > 0 && s[n-1] == '.' {
		return s[:n-1]
	}
	return s
}

// localIPFor returns the local address the kernel would use to reach target (ip:port).
// A UDP "connect" sends nothing; it only asks the routing table.
func localIPFor(target string) (string, error) {
	c, err := net.Dial("udp", target)
	if err != nil {
		return "", fmt.Errorf("no route to %s: %w", target, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}
