package peers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// RTPEngineOptions configures StartRTPEngine. The zero value relays on 127.0.0.1.
type RTPEngineOptions struct {
	// Host is the network namespace to run in (a *netlab.Host); nil is the host namespace.
	Host nsHost
	// IP is the media interface: the address rtpengine binds relay ports on and writes
	// into rewritten SDP (default 127.0.0.1).
	IP string
	// Advertise, when set, is written into SDP instead of IP, as for a relay behind a
	// 1:1 NAT (--interface=IP!ADVERTISE).
	Advertise string
	// NGIP is where the ng control protocol listens (default IP); NGPort 0 picks a free
	// port.
	NGIP   string
	NGPort int
	// PortMin and PortMax bound the relay ports (rtpengine's default 30000-40000 when 0).
	PortMin, PortMax int
	// LogLevel is syslog-style, 7 (debug, the default) dumps every ng message and SDP.
	LogLevel int
}

// RTPEngine is a running rtpengine media relay in userspace (no kernel forwarding).
type RTPEngine struct {
	t       testing.TB
	opts    RTPEngineOptions
	dir     string
	logFile string
	ngPort  int
	cmd     *exec.Cmd
	done    <-chan struct{}
	waitErr error
}

const (
	rtpengineStartTimeout = 10 * time.Second
	ngTimeout             = 5 * time.Second
)

// StartRTPEngine starts rtpengine with opts and returns once it answers an ng "ping".
// Its default config file is not read (it would turn on kernel forwarding, recording and
// an HTTP listener); the log and pid file stay in a temporary directory. It skips the test
// when rtpengine is not installed, fails it with rtpengine's log if it does not come up,
// and stops it (whole process group) on test cleanup.
func StartRTPEngine(t testing.TB, opts RTPEngineOptions) *RTPEngine {
	t.Helper()
	bin, ok := findBinary("rtpengine")
	if !ok {
		t.Skip("rtpengine binary not found (install the rtpengine-daemon package)")
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.NGIP == "" {
		opts.NGIP = opts.IP
	}
	if opts.LogLevel == 0 {
		opts.LogLevel = 7
	}
	dir := shortTempDir(t)
	r := &RTPEngine{t: t, opts: opts, dir: dir, logFile: filepath.Join(dir, "rtpengine.log")}
	startWithRetry(t, "rtpengine", func() (int, error) {
		r.ngPort = opts.NGPort
		if r.ngPort == 0 {
			p, err := freeUDPRun(opts.Host, []string{opts.NGIP}, 1)
			if err != nil {
				t.Fatalf("peers: rtpengine ng port: %v", err)
			}
			r.ngPort = p
		}
		return r.ngPort, r.start(bin)
	}, r.Stop, func() bool { return opts.NGPort == 0 && strings.Contains(r.Log(), "Address already in use") },
		func() string { return fmt.Sprintf("--- rtpengine log (%s) ---\n%s", r.logFile, r.Log()) })
	t.Cleanup(r.Stop)
	return r
}

func (r *RTPEngine) args() []string {
	o := r.opts
	iface := o.IP
	if o.Advertise != "" {
		iface += "!" + o.Advertise
	}
	args := []string{
		"--config-file=none",
		"--table=-1", // userspace forwarding only: no kernel module needed
		"--foreground", "--log-stderr",
		"--log-level=" + strconv.Itoa(o.LogLevel),
		"--interface=" + iface,
		"--listen-ng=" + r.NGHostPort(),
		"--pidfile=" + filepath.Join(r.dir, "rtpengine.pid"),
		"--delete-delay=0", // a deleted call is gone at once, so Sessions reflects it
		"--num-threads=2",
	}
	if o.PortMin != 0 {
		args = append(args, "--port-min="+strconv.Itoa(o.PortMin))
	}
	if o.PortMax != 0 {
		args = append(args, "--port-max="+strconv.Itoa(o.PortMax))
	}
	return args
}

func (r *RTPEngine) start(bin string) error {
	logf, err := os.Create(r.logFile)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	cmd := hostCommand(r.opts.Host, bin, r.args()...)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	done, err := startGroup(cmd, func(err error) { r.waitErr = err })
	if err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	r.cmd, r.done = cmd, done

	ctx, cancel := context.WithTimeout(context.Background(), rtpengineStartTimeout)
	defer cancel()
	for {
		select {
		case <-r.done:
			return fmt.Errorf("rtpengine exited during start-up: %v", r.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("rtpengine not answering ng ping on %s after %v", r.NGHostPort(), rtpengineStartTimeout)
		default:
		}
		probe, cancelProbe := context.WithTimeout(ctx, 300*time.Millisecond)
		err := r.Ping(probe)
		cancelProbe()
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends rtpengine's process group (SIGTERM, then SIGKILL after 5 s). StartRTPEngine
// registers it with t.Cleanup; calling it earlier or twice is fine.
func (r *RTPEngine) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	stopGroup(r.t, "rtpengine", r.cmd.Process.Pid, r.done, stopTimeout)
	r.cmd = nil
}

// NGAddr returns the ng control address as Kamailio's rtpengine module wants it in
// rtpengine_sock: "udp:IP:PORT".
func (r *RTPEngine) NGAddr() string { return "udp:" + r.NGHostPort() }

// NGHostPort returns the ng control address "IP:PORT".
func (r *RTPEngine) NGHostPort() string {
	return net.JoinHostPort(r.opts.NGIP, strconv.Itoa(r.ngPort))
}

// IP returns the address rtpengine writes into the SDP it rewrites.
func (r *RTPEngine) IP() string {
	if r.opts.Advertise != "" {
		return r.opts.Advertise
	}
	return r.opts.IP
}

// Dir returns the temporary directory holding rtpengine's log and pid file.
func (r *RTPEngine) Dir() string { return r.dir }

// Log returns what rtpengine has logged so far (every ng message at LogLevel 7).
func (r *RTPEngine) Log() string {
	b, err := os.ReadFile(r.logFile)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", r.logFile, err)
	}
	return string(b)
}

// NG sends one ng request (a bencoded dictionary, "command" included) and returns the
// reply dictionary. A reply whose result is "error" is returned as an error with
// rtpengine's reason. The request is resent every 500 ms until ctx ends: rtpengine
// answers a repeated cookie from its cache, so a resent offer is not a second offer.
func (r *RTPEngine) NG(ctx context.Context, req map[string]any) (map[string]any, error) {
	cmd, _ := req["command"].(string)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ngTimeout)
		defer cancel()
	}
	conn, err := hostDial(ctx, r.opts.Host, "udp", r.NGHostPort())
	if err != nil {
		return nil, fmt.Errorf("ng %s: %w", cmd, err)
	}
	defer conn.Close()
	cookie := make([]byte, 8)
	rand.Read(cookie)
	msg := append([]byte(hex.EncodeToString(cookie)+" "), bencode(req)...)
	prefix := msg[:len(cookie)*2+1]
	buf := make([]byte, 65535)
	for {
		if _, err := conn.Write(msg); err != nil {
			return nil, fmt.Errorf("ng %s: %w", cmd, err)
		}
		resend := time.Now().Add(500 * time.Millisecond)
		if dl, _ := ctx.Deadline(); dl.Before(resend) {
			resend = dl
		}
		conn.SetReadDeadline(resend)
		n, err := conn.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ng %s to %s: %w", cmd, r.NGHostPort(), err)
		}
		if !strings.HasPrefix(string(buf[:n]), string(prefix)) {
			continue // an answer to an earlier request on this socket
		}
		v, err := bdecode(buf[len(prefix):n])
		if err != nil {
			return nil, fmt.Errorf("ng %s: decoding the reply: %w", cmd, err)
		}
		res, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("ng %s: reply is a %T, not a dictionary", cmd, v)
		}
		if res["result"] == "error" {
			return res, fmt.Errorf("ng %s: rtpengine: %v", cmd, res["error-reason"])
		}
		return res, nil
	}
}

// Ping is the ng "ping" command; nil means rtpengine answered "pong".
func (r *RTPEngine) Ping(ctx context.Context) error {
	res, err := r.NG(ctx, map[string]any{"command": "ping"})
	if err != nil {
		return err
	}
	if res["result"] != "pong" {
		return fmt.Errorf("ng ping: answered %v", res["result"])
	}
	return nil
}

// Offer hands rtpengine the caller's SDP offer of call callID and returns it rewritten
// to point at the relay: what the callee must receive.
func (r *RTPEngine) Offer(ctx context.Context, callID, fromTag, sdp string) (string, error) {
	return r.sdpCommand(ctx, map[string]any{
		"command": "offer", "call-id": callID, "from-tag": fromTag, "sdp": sdp,
	})
}

// Answer hands rtpengine the callee's SDP answer and returns it rewritten to point at
// the relay: what the caller must receive.
func (r *RTPEngine) Answer(ctx context.Context, callID, fromTag, toTag, sdp string) (string, error) {
	return r.sdpCommand(ctx, map[string]any{
		"command": "answer", "call-id": callID, "from-tag": fromTag, "to-tag": toTag, "sdp": sdp,
	})
}

func (r *RTPEngine) sdpCommand(ctx context.Context, req map[string]any) (string, error) {
	res, err := r.NG(ctx, req)
	if err != nil {
		return "", err
	}
	sdp, ok := res["sdp"].(string)
	if !ok {
		return "", fmt.Errorf("ng %s: no sdp in the reply", req["command"])
	}
	return sdp, nil
}

// Delete ends call callID in rtpengine, freeing its relay ports.
func (r *RTPEngine) Delete(ctx context.Context, callID string) error {
	_, err := r.NG(ctx, map[string]any{"command": "delete", "call-id": callID})
	return err
}

// Sessions returns the Call-IDs of the calls rtpengine is relaying (ng "list").
func (r *RTPEngine) Sessions(ctx context.Context) ([]string, error) {
	res, err := r.NG(ctx, map[string]any{"command": "list"})
	if err != nil {
		return nil, err
	}
	list, _ := res["calls"].([]any)
	ids := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			ids = append(ids, s)
		}
	}
	return ids, nil
}

// RTPEngineCounters are packet counters of rtpengine's "query" reply.
type RTPEngineCounters struct{ Packets, Bytes, Errors int64 }

// RTPEngineStream is one relay socket of a call: the port rtpengine listens on for one
// party (Tag) and what it has received there.
type RTPEngineStream struct {
	Tag      string // the party's SIP tag; "" before the answer names it
	Media    string // "audio", ...
	RTCP     bool   // the RTCP socket rather than the RTP one
	Local    string // "ip:port" of the relay socket this party sends to
	Endpoint string // "ip:port" rtpengine sends this party's media to; "" while unknown
	RTPEngineCounters
}

// RTPEngineCall is rtpengine's view of one call (ng "query").
type RTPEngineCall struct {
	CallID    string
	RTP, RTCP RTPEngineCounters // totals over every stream
	Streams   []RTPEngineStream
}

// Query returns the counters of call callID, so a test can tell that media really went
// through the relay and which way.
func (r *RTPEngine) Query(ctx context.Context, callID string) (RTPEngineCall, error) {
	res, err := r.NG(ctx, map[string]any{"command": "query", "call-id": callID})
	if err != nil {
		return RTPEngineCall{}, err
	}
	c := RTPEngineCall{CallID: callID}
	totals := dict(res["totals"])
	c.RTP, c.RTCP = counters(totals["RTP"]), counters(totals["RTCP"])
	for _, tv := range dict(res["tags"]) {
		tag := dict(tv)
		name, _ := tag["tag"].(string)
		for _, mv := range list(tag["medias"]) {
			media := dict(mv)
			typ, _ := media["type"].(string)
			for _, sv := range list(media["streams"]) {
				st := dict(sv)
				s := RTPEngineStream{Tag: name, Media: typ, RTPEngineCounters: counters(st["stats"])}
				for _, f := range list(st["flags"]) {
					s.RTCP = s.RTCP || f == "RTCP"
				}
				addr, _ := st["local address"].(string)
				port, _ := st["local port"].(int64)
				s.Local = net.JoinHostPort(addr, strconv.FormatInt(port, 10))
				ep := dict(st["endpoint"])
				if a, ok := ep["address"].(string); ok {
					p, _ := ep["port"].(int64)
					s.Endpoint = net.JoinHostPort(a, strconv.FormatInt(p, 10))
				}
				c.Streams = append(c.Streams, s)
			}
		}
	}
	return c, nil
}

func dict(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any          { l, _ := v.([]any); return l }

func counters(v any) RTPEngineCounters {
	m := dict(v)
	p, _ := m["packets"].(int64)
	b, _ := m["bytes"].(int64)
	e, _ := m["errors"].(int64)
	return RTPEngineCounters{Packets: p, Bytes: b, Errors: e}
}
