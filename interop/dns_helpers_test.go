package interop

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

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
		// The system may give the dead server's freed port to dialtone's own SIP socket (it
		// happened once in CI): then dialtone rightly skips the target instead of messaging
		// itself, which is the failover too.
		if strings.Contains(line, "our own SIP socket: skipped") && strings.Contains(line, "127.0.0.1:"+strconv.Itoa(deadPort)) {
			return
		}
	}
	t.Errorf("the log does not show the dead target 127.0.0.1:%d tried and left:\n%s", deadPort, b)
}
