// Package peers starts real third-party SIP peers (currently Kamailio) for
// interop tests.
package peers

import (
	"bytes"
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
)

// KamailioOptions configures StartKamailio.
type KamailioOptions struct {
	// Users maps username to password. All users live in Domain, so the AOR
	// of user alice is sip:alice@127.0.0.1 by default.
	Users map[string]string
	// Host is the network namespace to run in (a *netlab.Host); nil is the
	// host namespace.
	Host nsHost
	// IP is the address to listen on (default 127.0.0.1); IPv6 too (::1).
	IP string
	// Domain is the SIP domain served and the digest realm (default IP).
	Domain string
	// RTPEngine, when set, is the ng control address ("IP:PORT" or
	// "udp:IP:PORT", e.g. RTPEngine.NGAddr()) of an rtpengine to which every
	// call's SDP is handed (rtpengine_manage on INVITE, replies, ACK, BYE,
	// CANCEL), as providers with a media relay do. Without it the proxy never
	// touches SDP, as many providers do not; either way it fixes the
	// signalling of clients behind NAT (rport, received on REGISTER, a
	// Contact alias for dialogs), as Kamailio's default config does.
	RTPEngine string
	// Algorithm is the digest algorithm to challenge with: "" or "MD5"
	// (default) or "SHA-256". Challenges always carry qop=auth.
	Algorithm string
	// AuthCalls makes initial INVITE and MESSAGE requests from users of
	// 127.0.0.1 subject to proxy authentication (407). REGISTER is always
	// challenged with 401.
	AuthCalls bool
	// ProxyAuthRegister makes REGISTER pass an outbound proxy's authentication first (407,
	// answered with Proxy-Authorization) and then the registrar's (401), as behind an SBC that
	// authenticates before the registrar does.
	ProxyAuthRegister bool
	// MinExpires is the registrar's min_expires. 0 disables the lower bound,
	// so any expiry (e.g. Expires: 4) is stored and answered as-is.
	// Requested expiries below a positive MinExpires are raised to it.
	MinExpires int
}

// Kamailio is a running Kamailio registrar/proxy.
type Kamailio struct {
	t       testing.TB
	host    nsHost
	ip      string
	domain  string
	dir     string
	cfgFile string
	logFile string
	ctlSock string
	caFile  string
	kamcmd  string
	port    int
	tlsPort int
	cmd     *exec.Cmd
	done    <-chan struct{} // closed when the main process has been reaped
	waitErr error
}

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
	startTries   = 3
)

var moduleDirs = []string{
	"/usr/lib/x86_64-linux-gnu/kamailio/modules",
	"/usr/lib/aarch64-linux-gnu/kamailio/modules",
	"/usr/lib64/kamailio/modules",
	"/usr/lib/kamailio/modules",
	"/usr/local/lib64/kamailio/modules",
	"/usr/local/lib/kamailio/modules",
}

// findBinary looks name up in PATH and then in the sbin directories, which
// are often missing from PATH for non-root users.
func findBinary(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// StartKamailio starts Kamailio as registrar/proxy on free 127.0.0.1 ports
// and waits until it answers. It skips the test when kamailio (or kamcmd, or
// its modules) is not installed, fails the test with Kamailio's log if it
// does not come up, and stops it (whole process group) on test cleanup.
func StartKamailio(t testing.TB, opts KamailioOptions) *Kamailio {
	t.Helper()
	bin, ok := findBinary("kamailio")
	if !ok {
		t.Skip("kamailio binary not found (install the kamailio and kamailio-tls-modules packages)")
	}
	kamcmd, ok := findBinary("kamcmd")
	if !ok {
		t.Skip("kamcmd binary not found (part of the kamailio package)")
	}
	mpath, ok := findModuleDir("KAMAILIO_MPATH", moduleDirs, "tm.so")
	if !ok {
		t.Skip("kamailio module directory not found (set KAMAILIO_MPATH)")
	}
	if _, err := os.Stat(filepath.Join(mpath, "tls.so")); err != nil {
		t.Skip("kamailio tls module not found (install kamailio-tls-modules)")
	}
	switch strings.ToUpper(opts.Algorithm) {
	case "", "MD5":
		opts.Algorithm = ""
	case "SHA-256", "SHA256":
		opts.Algorithm = "SHA-256"
	default:
		t.Fatalf("peers: unsupported digest algorithm %q (want MD5 or SHA-256)", opts.Algorithm)
	}
	if opts.MinExpires < 0 {
		t.Fatalf("peers: negative MinExpires %d", opts.MinExpires)
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	ip := net.ParseIP(opts.IP)
	if ip == nil {
		t.Fatalf("peers: kamailio IP %q is not an IP address", opts.IP)
	}
	// An IPv6 address is written in brackets in the config and in SIP URIs ([::1]:5060).
	cfgIP := opts.IP
	if ip.To4() == nil {
		cfgIP = "[" + opts.IP + "]"
	}
	if opts.Domain == "" {
		opts.Domain = cfgIP
	}
	if opts.Domain != cfgIP && strings.ContainsAny(opts.Domain, " \t\r\n\"<>;:@") {
		t.Fatalf("peers: kamailio domain %q is not a host name or address", opts.Domain)
	}
	ngAddr := strings.TrimPrefix(opts.RTPEngine, "udp:")
	if opts.RTPEngine != "" {
		if _, _, err := net.SplitHostPort(ngAddr); err != nil {
			t.Fatalf("peers: RTPEngine %q is not IP:PORT: %v", opts.RTPEngine, err)
		}
		if _, err := os.Stat(filepath.Join(mpath, "rtpengine.so")); err != nil {
			t.Skip("kamailio rtpengine module not found (install kamailio-extra-modules)")
		}
	}

	dir := shortTempDir(t)
	k := &Kamailio{
		t:       t,
		host:    opts.Host,
		ip:      opts.IP,
		domain:  opts.Domain,
		dir:     dir,
		cfgFile: filepath.Join(dir, "kamailio.cfg"),
		logFile: filepath.Join(dir, "kamailio.log"),
		ctlSock: filepath.Join(dir, "kamailio_ctl"),
		caFile:  filepath.Join(dir, "cert.pem"),
		kamcmd:  kamcmd,
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := writeSelfSignedCert(k.caFile, keyFile); err != nil {
		t.Fatalf("peers: generating TLS certificate: %v", err)
	}

	for try := 1; ; try++ {
		port, tlsPort, err := freePorts(opts.Host, opts.IP)
		if err != nil {
			t.Fatalf("peers: choosing ports: %v", err)
		}
		k.port, k.tlsPort = port, tlsPort
		data := cfgData{
			Dir:               dir,
			ModulePath:        mpath,
			IP:                cfgIP,
			Domain:            opts.Domain,
			RTPEngine:         ngAddr,
			Port:              port,
			TLSPort:           tlsPort,
			Users:             opts.Users,
			Algorithm:         opts.Algorithm,
			AuthCalls:         opts.AuthCalls,
			ProxyAuthRegister: opts.ProxyAuthRegister,
			MinExpires:        opts.MinExpires,
			CertFile:          k.caFile,
			KeyFile:           keyFile,
		}
		if err := k.writeConfig(data); err != nil {
			t.Fatalf("peers: writing kamailio config: %v", err)
		}
		err = k.start(bin)
		if err == nil {
			break
		}
		k.Stop()
		log := k.Log()
		if try < startTries && strings.Contains(log, "Address already in use") {
			t.Logf("peers: kamailio port clash on %d/%d, retrying", port, tlsPort)
			continue
		}
		t.Fatalf("peers: starting kamailio: %v\n--- kamailio log (%s) ---\n%s", err, k.logFile, log)
	}
	t.Cleanup(k.Stop)
	return k
}

// shortTempDir returns t.TempDir(), or a shorter directory when that path is
// too long for the ctl unix socket (sun_path is limited to 108 bytes).
func shortTempDir(t testing.TB) string {
	dir := t.TempDir()
	if len(dir)+len("/kamailio_ctl") < 100 {
		return dir
	}
	d, err := os.MkdirTemp("", "kam")
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// freePorts picks a port free for both UDP and TCP on ip in h and another
// free TCP port for TLS.
func freePorts(h nsHost, ip string) (sipPort, tlsPort int, err error) {
	for range 50 {
		l, err := hostListen(h, "tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		u, err := hostListenPacket(h, "udp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			l.Close()
			continue
		}
		l2, err := hostListen(h, "tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			l.Close()
			u.Close()
			return 0, 0, err
		}
		q := l2.Addr().(*net.TCPAddr).Port
		l.Close()
		u.Close()
		l2.Close()
		return p, q, nil
	}
	return 0, 0, errors.New("no port free for both udp and tcp")
}

func (k *Kamailio) writeConfig(data cfgData) error {
	var cfg, tlsCfg bytes.Buffer
	if err := kamailioCfgTmpl.Execute(&cfg, data); err != nil {
		return err
	}
	if err := tlsCfgTmpl.Execute(&tlsCfg, data); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(k.dir, "tls.cfg"), tlsCfg.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(k.cfgFile, cfg.Bytes(), 0o644)
}

func (k *Kamailio) start(bin string) error {
	logf, err := os.OpenFile(k.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	os.Remove(k.ctlSock)

	cmd := hostCommand(k.host, bin,
		"-DD", "-E",
		"-f", k.cfgFile,
		"-m", "64", "-M", "8",
		"-Y", k.dir,
		"-P", filepath.Join(k.dir, "kamailio.pid"),
		"-w", k.dir,
	)
	cmd.Dir = k.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	done, err := startGroup(cmd, func(err error) { k.waitErr = err })
	if err != nil {
		return err
	}
	k.cmd, k.done = cmd, done
	return k.waitReady()
}

// waitReady polls until the ctl socket answers and an OPTIONS over UDP is
// answered.
func (k *Kamailio) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	ctlOK := false
	for {
		select {
		case <-k.done:
			return fmt.Errorf("kamailio exited during start-up: %v", k.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kamailio not ready after %v (ctl answered: %v)", startTimeout, ctlOK)
		}
		if !ctlOK {
			if _, err := os.Stat(k.ctlSock); err == nil {
				if _, err := k.rpc("core.version"); err == nil {
					ctlOK = true
				}
			}
		}
		if ctlOK && k.probeOptions(300*time.Millisecond) == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probeOptions sends one OPTIONS to the server over UDP and waits for a 200.
func (k *Kamailio) probeOptions(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := hostDial(ctx, k.host, "udp", k.HostPort("udp"))
	if err != nil {
		return err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	msg := "OPTIONS sip:" + k.HostPort("udp") + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-probe-" + tag + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:probe@" + k.domain + ">;tag=" + tag + "\r\n" +
		"To: <sip:" + k.HostPort("udp") + ">\r\n" +
		"Call-ID: probe-" + tag + "@" + k.ip + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) {
		return fmt.Errorf("unexpected probe answer: %q", firstLine(string(buf[:n])))
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// Stop terminates Kamailio's whole process group: SIGTERM, up to 5s for the
// main process to exit, then SIGKILL. It is registered with t.Cleanup by
// StartKamailio; calling it earlier (e.g. to test a client's reaction to a
// vanished server) is fine, and calling it again is a no-op.
func (k *Kamailio) Stop() {
	if k.cmd == nil || k.cmd.Process == nil {
		return
	}
	stopGroup(k.t, "kamailio", k.cmd.Process.Pid, k.done, stopTimeout)
	k.cmd = nil
}

// Port returns the listening port for transport "udp", "tcp" (the same
// number as udp) or "tls".
func (k *Kamailio) Port(transport string) int {
	switch strings.ToLower(transport) {
	case "udp", "tcp", "":
		return k.port
	case "tls":
		return k.tlsPort
	}
	k.t.Fatalf("peers: unknown transport %q", transport)
	return 0
}

// HostPort returns "IP:PORT" for transport (see Port), IP being
// KamailioOptions.IP (default 127.0.0.1).
func (k *Kamailio) HostPort(transport string) string {
	return net.JoinHostPort(k.ip, strconv.Itoa(k.Port(transport)))
}

// IP is the address Kamailio listens on.
func (k *Kamailio) IP() string { return k.ip }

// Domain is the SIP domain it serves (and its digest realm): user alice's
// AOR is "sip:alice@" + Domain().
func (k *Kamailio) Domain() string { return k.domain }

// CAFile returns the PEM file of the self-signed certificate (CA:TRUE, SAN IP
// 127.0.0.1 and DNS localhost) that the TLS listener presents.
func (k *Kamailio) CAFile() string { return k.caFile }

// Dir returns the temporary directory holding the config, log, ctl socket,
// certificate and key.
func (k *Kamailio) Dir() string { return k.dir }

// Log returns what Kamailio has printed so far.
func (k *Kamailio) Log() string {
	b, err := os.ReadFile(k.logFile)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", k.logFile, err)
	}
	return string(b)
}

// rpc runs kamcmd against this instance's ctl socket.
func (k *Kamailio) rpc(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	full := append([]string{"-s", "unix:" + k.ctlSock}, args...)
	cmd := exec.CommandContext(ctx, k.kamcmd, full...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	// kamcmd exits 0 even when the RPC fails; it prints "error: CODE - text".
	if err == nil && strings.HasPrefix(out.String(), "error:") {
		err = errors.New("rpc failed")
	}
	if err != nil {
		return out.String(), fmt.Errorf("kamcmd %s: %v: %s%s", strings.Join(args, " "), err,
			strings.TrimSpace(errb.String()), strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}
