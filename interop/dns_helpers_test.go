package interop

import (
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// srvSet is the dnsmasq setup for dns.test: one SRV record per target (priority 10, 20, …,
// in the order given), each target a host name of its own with A 127.0.0.1.
func srvSet(t *testing.T, ports ...int) *peers.Dnsmasq {
	t.Helper()
	opts := peers.DnsmasqOptions{Hosts: map[string][]string{}, TTL: 30}
	for i, port := range ports {
		host := "sip" + strconv.Itoa(i+1) + "." + dnsDomain
		opts.Hosts[host] = []string{"127.0.0.1"}
		opts.SRV = append(opts.SRV, peers.SRVRecord{Name: "_sip._udp." + dnsDomain, Target: host, Port: port, Priority: 10 * (i + 1)})
	}
	return peers.StartDnsmasq(t, opts)
}

// deadPort is a loopback UDP port nothing listens on: the kernel answers ICMP port unreachable.
func deadPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	return port
}

// blackholePort is a loopback UDP port that takes every packet and answers nothing, not even
// ICMP: what a registrar behind a dropping firewall, or a host that vanished, looks like.
func blackholePort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// dnsAccount is the ad-hoc account alice@dns.test: no --registrar, so the registrar is
// located from the AOR's domain by RFC 3263 through dnsmasq.
func dnsAccount(d *peers.Dnsmasq, user string) []string {
	return []string{"--aor", "sip:" + user + "@" + dnsDomain, "--transport", "udp", "--dns-server", d.Addr()}
}

// blackholeTCP is a loopback TCP port whose SYNs go unanswered, as behind a dropping
// firewall, without touching any firewall: a listener with a backlog of 0 whose queue slot a
// connection fills (Linux drops SYNs while the accept queue is full) and that never accepts.
func blackholeTCP(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "blackhole")
	t.Cleanup(func() { f.Close() })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for range 4 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			break // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	if c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond); err == nil {
		c.Close()
		t.Skip("this kernel completes connections beyond a full accept queue: no TCP blackhole on loopback")
	}
	return port
}

// assertFailedOver checks dialtone's log: the target on deadPort was tried and left.
func assertFailedOver(t *testing.T, logFile string, deadPort int) {
	t.Helper()
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "trying the next") && strings.Contains(line, "127.0.0.1:"+strconv.Itoa(deadPort)) {
			return
		}
	}
	t.Errorf("the log does not show the dead target 127.0.0.1:%d tried and left:\n%s", deadPort, b)
}
