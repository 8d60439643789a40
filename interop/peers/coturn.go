package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// nsHost is the part of *netlab.Host (interop/netlab) the peers use: where a process runs
// and where its sockets live. A nil nsHost is the host namespace. An interface rather than
// *netlab.Host so that peers never needs root or namespaces to build or to run on loopback.
type nsHost interface {
	Command(name string, args ...string) *exec.Cmd
	Dial(ctx context.Context, network, addr string) (net.Conn, error)
	ListenPacket(network, addr string) (net.PacketConn, error)
	Listen(network, addr string) (net.Listener, error)
}

func hostCommand(h nsHost, name string, args ...string) *exec.Cmd {
	if h == nil {
		return exec.Command(name, args...)
	}
	return h.Command(name, args...)
}

func hostDial(ctx context.Context, h nsHost, network, addr string) (net.Conn, error) {
	if h == nil {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return h.Dial(ctx, network, addr)
}

func hostListenPacket(h nsHost, network, addr string) (net.PacketConn, error) {
	if h == nil {
		return net.ListenPacket(network, addr)
	}
	return h.ListenPacket(network, addr)
}

func hostListen(h nsHost, network, addr string) (net.Listener, error) {
	if h == nil {
		return net.Listen(network, addr)
	}
	return h.Listen(network, addr)
}

// freeUDPRun returns a port p such that p, p+1, ..., p+n-1 could all be bound on every
// one of ips in h just now. The sockets are released before returning, so a clash is
// still possible and the callers retry on one.
func freeUDPRun(h nsHost, ips []string, n int) (int, error) {
	for range 50 {
		probe, err := hostListenPacket(h, "udp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return 0, fmt.Errorf("probing a free UDP port on %s: %w", ips[0], err)
		}
		p := probe.LocalAddr().(*net.UDPAddr).Port
		probe.Close()
		if p+n-1 > 65535 {
			continue
		}
		held, ok := []net.PacketConn{}, true
		for i := range n {
			for _, ip := range ips {
				c, err := hostListenPacket(h, "udp", net.JoinHostPort(ip, strconv.Itoa(p+i)))
				if err != nil {
					ok = false
					break
				}
				held = append(held, c)
			}
			if !ok {
				break
			}
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no run of %d free UDP ports on %v", n, ips)
}

// CoturnOptions configures StartCoturn. The zero value is a STUN/TURN server on 127.0.0.1
// with user "alice", password "secret", realm "dialtone.test".
type CoturnOptions struct {
	// Host is the network namespace to run in (a *netlab.Host); nil is the host namespace.
	Host nsHost
	// ListenIPs are the addresses to listen on, one or two (default 127.0.0.1). Two
	// addresses of one family turn on RFC 5780 NAT behaviour discovery: coturn then also
	// answers CHANGE-REQUEST from each IP's port+1.
	ListenIPs []string
	// Port is the listening port on every IP; 0 picks a free one.
	Port int
	// RelayIP is the address relayed allocations get (default ListenIPs[0]).
	RelayIP string
	// ExternalIP, when set, is announced as the relayed address instead of RelayIP, as for
	// a server behind a 1:1 NAT (--external-ip).
	ExternalIP string
	// MinPort and MaxPort bound the relay ports (coturn's defaults 49152-65535 when 0).
	MinPort, MaxPort int
	// User, Password and Realm are the one long-term credential (RFC 8489 9.2).
	User, Password, Realm string
	// AllowedPeers are IPs or ranges ("a.b.c.d-e.f.g.h") coturn may relay to beyond its
	// defaults (--allowed-peer-ip). Loopback peers are always allowed.
	AllowedPeers []string
}

// Coturn is a running coturn STUN/TURN server (UDP only, long-term credentials).
type Coturn struct {
	t       testing.TB
	opts    CoturnOptions
	dir     string
	logFile string // coturn's own log
	outFile string // its stdout and stderr, where errors before the log opens go
	port    int
	cmd     *exec.Cmd
	done    <-chan struct{}
	waitErr error
}

const coturnStartTimeout = 10 * time.Second

// StartCoturn starts turnserver with opts and returns once every listening address
// answers a STUN Binding request with an XOR-MAPPED-ADDRESS. Everything it writes (log,
// pid file, the SQLite user database coturn insists on) stays in a temporary directory.
// It skips the test when turnserver is not installed, fails it with coturn's log if the
// server does not come up, and stops it (whole process group) on test cleanup.
func StartCoturn(t testing.TB, opts CoturnOptions) *Coturn {
	t.Helper()
	bin, ok := findBinary("turnserver")
	if !ok {
		t.Skip("turnserver binary not found (install the coturn package)")
	}
	if len(opts.ListenIPs) == 0 {
		opts.ListenIPs = []string{"127.0.0.1"}
	}
	if len(opts.ListenIPs) > 2 {
		t.Fatalf("peers: coturn takes one or two listening IPs, not %d", len(opts.ListenIPs))
	}
	if opts.RelayIP == "" {
		opts.RelayIP = opts.ListenIPs[0]
	}
	if opts.User == "" {
		opts.User, opts.Password = "alice", "secret"
	}
	if opts.Realm == "" {
		opts.Realm = "dialtone.test"
	}
	// coturn splits --user at the first colon and reads a password starting with 0x as a
	// hex key, not as the password.
	if strings.ContainsAny(opts.User+opts.Password, ": \t\r\n") || strings.HasPrefix(opts.Password, "0x") {
		t.Fatalf("peers: coturn user %q or its password has a colon, white space or a 0x prefix", opts.User)
	}
	dir := shortTempDir(t)
	c := &Coturn{
		t: t, opts: opts, dir: dir,
		logFile: filepath.Join(dir, "turnserver.log"),
		outFile: filepath.Join(dir, "turnserver.out"),
	}
	startWithRetry(t, "coturn", func() (int, error) {
		c.port = opts.Port
		if c.port == 0 {
			// port+1 is the RFC 5780 alternate port coturn binds as well.
			p, err := freeUDPRun(opts.Host, opts.ListenIPs, 2)
			if err != nil {
				t.Fatalf("peers: coturn port: %v", err)
			}
			c.port = p
		}
		return c.port, c.start(bin)
	}, c.Stop, func() bool { return opts.Port == 0 && strings.Contains(c.Log(), "Cannot bind") },
		func() string { return fmt.Sprintf("--- coturn log (%s) ---\n%s", c.logFile, c.Log()) })
	t.Cleanup(c.Stop)
	return c
}

func (c *Coturn) args() []string {
	o := c.opts
	args := []string{
		"-n", // no /etc/turnserver.conf: it would send the log to syslog
		"--listening-port=" + strconv.Itoa(c.port),
		"--relay-ip=" + o.RelayIP,
		"--lt-cred-mech",
		"--user=" + o.User + ":" + o.Password,
		"--realm=" + o.Realm,
		"--userdb=" + filepath.Join(c.dir, "turndb"),
		"--log-file=" + c.logFile, "--simple-log", "--no-stdout-log",
		"--pidfile=" + filepath.Join(c.dir, "turnserver.pid"),
		"--no-tls", "--no-dtls", "--no-tcp", "--no-tcp-relay", "--no-cli",
		"--no-multicast-peers", "--allow-loopback-peers",
		"--relay-threads=1", // two shared cores; one relay thread is plenty for tests
	}
	for _, ip := range o.ListenIPs {
		args = append(args, "--listening-ip="+ip)
	}
	if o.ExternalIP != "" {
		args = append(args, "--external-ip="+o.ExternalIP)
	}
	if o.MinPort != 0 {
		args = append(args, "--min-port="+strconv.Itoa(o.MinPort))
	}
	if o.MaxPort != 0 {
		args = append(args, "--max-port="+strconv.Itoa(o.MaxPort))
	}
	for _, p := range o.AllowedPeers {
		args = append(args, "--allowed-peer-ip="+p)
	}
	return args
}

func (c *Coturn) start(bin string) error {
	os.Remove(c.logFile)
	out, err := os.Create(c.outFile)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own copy
	cmd := hostCommand(c.opts.Host, bin, c.args()...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = out, out
	done, err := startGroup(cmd, func(err error) { c.waitErr = err })
	if err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	c.cmd, c.done = cmd, done
	return c.waitReady()
}

// waitReady polls every listening address with a STUN Binding request until all answer.
// A "Cannot bind" in the log means a port was taken: coturn would retry it forever, so
// that is reported at once and StartCoturn picks other ports.
func (c *Coturn) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), coturnStartTimeout)
	defer cancel()
	pending := make([]string, len(c.opts.ListenIPs))
	for i := range pending {
		pending[i] = c.Addr(i)
	}
	for len(pending) > 0 {
		select {
		case <-c.done:
			return fmt.Errorf("turnserver exited during start-up: %v", c.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("coturn not answering STUN on %v after %v", pending, coturnStartTimeout)
		default:
		}
		if strings.Contains(c.Log(), "Cannot bind") {
			return errors.New("coturn cannot bind its ports")
		}
		probe, cancelProbe := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := STUNBinding(probe, c.opts.Host, pending[0])
		cancelProbe()
		if err == nil {
			pending = pending[1:]
			continue
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// STUNBinding sends one STUN Binding request (RFC 8489) to server "ip:port" over UDP
// from a fresh socket in h (nil: the host namespace) and returns the XOR-MAPPED-ADDRESS
// of the answer: where the server saw the request come from.
func STUNBinding(ctx context.Context, h nsHost, server string) (*net.UDPAddr, error) {
	conn, err := hostDial(ctx, h, "udp", server)
	if err != nil {
		return nil, fmt.Errorf("stun binding to %s: %w", server, err)
	}
	defer conn.Close()
	return stunBindingOn(ctx, conn)
}

// stunBindingOn does STUNBinding's exchange on a connected UDP socket, so a caller that
// knows the socket's local address can compare it with the answer.
func stunBindingOn(ctx context.Context, conn net.Conn) (*net.UDPAddr, error) {
	server := conn.RemoteAddr().String()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(req.Raw); err != nil {
		return nil, fmt.Errorf("stun binding to %s: %w", server, err)
	}
	buf := make([]byte, 1500)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("stun binding to %s: %w", server, err)
		}
		res := new(stun.Message)
		if err := stun.Decode(buf[:n], res); err != nil || res.TransactionID != req.TransactionID {
			continue // not our answer: a stray datagram is no reason to give up
		}
		if res.Type != stun.BindingSuccess {
			return nil, fmt.Errorf("stun binding to %s: answered %v", server, res.Type)
		}
		var xor stun.XORMappedAddress
		if err := xor.GetFrom(res); err != nil {
			return nil, fmt.Errorf("stun binding to %s: %w", server, err)
		}
		return &net.UDPAddr{IP: xor.IP, Port: xor.Port}, nil
	}
}

// Stop ends coturn's process group (SIGTERM, then SIGKILL after 5 s). StartCoturn
// registers it with t.Cleanup; calling it earlier or twice is fine.
func (c *Coturn) Stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	stopGroup(c.t, "turnserver", c.cmd.Process.Pid, c.done, stopTimeout)
	c.cmd = nil
}

// Addr returns "ip:port" of listening address i (0 or 1, in the order of ListenIPs).
func (c *Coturn) Addr(i int) string {
	return net.JoinHostPort(c.opts.ListenIPs[i], strconv.Itoa(c.port))
}

// AltAddr returns "ip:port+1" of listening address i: where coturn answers a Binding
// request with CHANGE-REQUEST "change port" (RFC 5780), when two IPs are listening.
func (c *Coturn) AltAddr(i int) string {
	return net.JoinHostPort(c.opts.ListenIPs[i], strconv.Itoa(c.port+1))
}

// Port returns the listening port, the same on every listening IP.
func (c *Coturn) Port() int { return c.port }

// User, Password and Realm return the long-term credential coturn accepts.
func (c *Coturn) User() string     { return c.opts.User }
func (c *Coturn) Password() string { return c.opts.Password }
func (c *Coturn) Realm() string    { return c.opts.Realm }

// Dir returns the temporary directory holding coturn's log, pid file and user database.
func (c *Coturn) Dir() string { return c.dir }

// Log returns coturn's log followed by anything it printed on stdout or stderr.
func (c *Coturn) Log() string {
	var b strings.Builder
	for _, f := range []string{c.logFile, c.outFile} {
		data, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(&b, "(reading %s: %v)\n", f, err)
		}
		b.Write(data)
	}
	return b.String()
}
