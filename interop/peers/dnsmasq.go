package peers

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// SRVRecord is one SRV record dnsmasq serves (--srv-host).
type SRVRecord struct {
	Name     string // e.g. "_sip._udp.dns.test"
	Target   string // a host name; "" serves the "." target (service not available)
	Port     int
	Priority int
	Weight   int
}

// NAPTRRecord is one NAPTR record dnsmasq serves (--naptr-record).
type NAPTRRecord struct {
	Name        string // e.g. "dns.test"
	Order       int
	Preference  int
	Flags       string // "s"
	Service     string // "SIP+D2U"
	Regexp      string // "" for SIP
	Replacement string // e.g. "_sip._udp.dns.test"
}

// DnsmasqOptions configures StartDnsmasq. Every name is answered from these records only:
// dnsmasq reads no resolv.conf and no /etc/hosts, and forwards nothing.
type DnsmasqOptions struct {
	Host  nsHost              // network namespace to run in; nil is the host's
	IP    string              // address to listen on, default 127.0.0.1
	Hosts map[string][]string // A/AAAA: name -> addresses (--host-record)
	SRV   []SRVRecord
	NAPTR []NAPTRRecord
	TTL   int // TTL of every answer (--local-ttl); 0 means 60 s
}

// Dnsmasq is a running dnsmasq serving a test's DNS records on a free port.
type Dnsmasq struct {
	t       testing.TB
	addr    string
	logFile string
	cmd     *exec.Cmd
	done    <-chan struct{}
	waitErr error
}

const dnsmasqStartTimeout = 10 * time.Second

// StartDnsmasq starts Debian's dnsmasq (package dnsmasq-base) as the authoritative source of
// opts' records on a free UDP and TCP port and waits until it answers. It skips the test when
// dnsmasq is not installed, fails it with dnsmasq's log if it does not come up, and stops it
// at cleanup.
func StartDnsmasq(t testing.TB, opts DnsmasqOptions) *Dnsmasq {
	t.Helper()
	bin, ok := findBinary("dnsmasq")
	if !ok {
		t.Skip("dnsmasq binary not found (install the dnsmasq-base package)")
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.TTL <= 0 {
		opts.TTL = 60
	}
	args, err := dnsmasqRecords(opts)
	if err != nil {
		t.Fatalf("peers: dnsmasq: %v", err)
	}
	dir := shortTempDir(t)
	d := &Dnsmasq{t: t, logFile: filepath.Join(dir, "dnsmasq.log")}
	for try := 1; ; try++ {
		port, _, err := freePorts(opts.Host, opts.IP) // a port free for both UDP and TCP
		if err != nil {
			t.Fatalf("peers: dnsmasq port: %v", err)
		}
		d.addr = net.JoinHostPort(opts.IP, strconv.Itoa(port))
		all := append([]string{
			"--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
			"--port=" + strconv.Itoa(port), "--listen-address=" + opts.IP, "--bind-interfaces",
			"--user=root", "--pid-file=" + filepath.Join(dir, "dnsmasq.pid"),
			"--log-queries", "--log-facility=" + d.logFile, "--local-ttl=" + strconv.Itoa(opts.TTL),
			"--cache-size=0",
		}, args...)
		d.cmd = hostCommand(opts.Host, bin, all...)
		out, err := os.Create(filepath.Join(dir, "dnsmasq.out"))
		if err != nil {
			t.Fatalf("peers: %v", err)
		}
		d.cmd.Stdout, d.cmd.Stderr = out, out
		d.done, err = startGroup(d.cmd, func(e error) { d.waitErr = e; out.Close() })
		if err != nil {
			out.Close()
			t.Fatalf("peers: start dnsmasq: %v", err)
		}
		if err = d.waitReady(opts.Host); err == nil {
			break
		}
		d.stop()
		if try == startTries {
			t.Fatalf("peers: dnsmasq did not start on %s: %v\n%s", d.addr, err, d.Log())
		}
	}
	t.Cleanup(d.stop)
	return d
}

// dnsmasqRecords turns the options into dnsmasq arguments, refusing values that would change
// their meaning (commas separate dnsmasq's fields).
func dnsmasqRecords(o DnsmasqOptions) ([]string, error) {
	bad := func(s string) bool { return strings.ContainsAny(s, ", \t\r\n") }
	var args []string
	for name, ips := range o.Hosts {
		if bad(name) || name == "" || len(ips) == 0 {
			return nil, fmt.Errorf("host record %q %v", name, ips)
		}
		for _, ip := range ips {
			if net.ParseIP(ip) == nil {
				return nil, fmt.Errorf("host record %s: %q is not an address", name, ip)
			}
		}
		args = append(args, "--host-record="+name+","+strings.Join(ips, ","))
	}
	for _, s := range o.SRV {
		if bad(s.Name) || bad(s.Target) || s.Name == "" {
			return nil, fmt.Errorf("SRV record %+v", s)
		}
		if s.Target == "" {
			args = append(args, "--srv-host="+s.Name) // no target: "service not available"
			continue
		}
		args = append(args, fmt.Sprintf("--srv-host=%s,%s,%d,%d,%d", s.Name, s.Target, s.Port, s.Priority, s.Weight))
	}
	for _, n := range o.NAPTR {
		if bad(n.Name) || bad(n.Flags) || bad(n.Service) || bad(n.Regexp) || bad(n.Replacement) || n.Name == "" {
			return nil, fmt.Errorf("NAPTR record %+v", n)
		}
		a := fmt.Sprintf("--naptr-record=%s,%d,%d,%s,%s,%s", n.Name, n.Order, n.Preference, n.Flags, n.Service, n.Regexp)
		if n.Replacement != "" {
			a += "," + n.Replacement
		}
		args = append(args, a)
	}
	return args, nil
}

// waitReady asks for a name dnsmasq cannot know until an answer (NXDOMAIN) comes back.
func (d *Dnsmasq) waitReady(h nsHost) error {
	deadline := time.Now().Add(dnsmasqStartTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			return fmt.Errorf("dnsmasq exited: %v", d.waitErr)
		default:
		}
		_, err := d.exchange(h, "ready.invalid.", dns.TypeA, 300*time.Millisecond)
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %v: %v", dnsmasqStartTimeout, last)
}

func (d *Dnsmasq) exchange(h nsHost, name string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := hostDial(ctx, h, "udp", d.addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Timeout: timeout}
	res, _, err := c.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: conn})
	return res, err
}

// Query asks dnsmasq one question over UDP from the host namespace (tests use it to check
// the records they configured).
func (d *Dnsmasq) Query(name string, qtype uint16) (*dns.Msg, error) {
	return d.exchange(nil, dns.Fqdn(name), qtype, 2*time.Second)
}

// Addr is dnsmasq's ip:port (UDP and TCP).
func (d *Dnsmasq) Addr() string { return d.addr }

// Log is dnsmasq's query log and anything it printed.
func (d *Dnsmasq) Log() string {
	b, _ := os.ReadFile(d.logFile)
	o, _ := os.ReadFile(filepath.Join(filepath.Dir(d.logFile), "dnsmasq.out"))
	return string(b) + string(o)
}

func (d *Dnsmasq) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	stopGroup(d.t, "dnsmasq", d.cmd.Process.Pid, d.done, stopTimeout)
}
