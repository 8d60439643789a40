package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/pcap"
)

// --pcap FILE: every SIP message sent and received, and with --pcap-rtp every RTP and RTCP
// packet, in a capture file (phone/pcap) Wireshark opens. SIP comes through sipgo's tracer
// hook, the one --sip-trace and the TUI's log pane use (pcapTracer passes each message on to
// them); media through the media sessions' tap (phone.Config.MediaTap).
//
// The file is created when the first SIP message comes, not at start-up, so a command that
// sends nothing (history, trace) never truncates it; start-up only checks it can be written.

// pcapCapture is the process's capture file, created on first use.
type pcapCapture struct {
	path string
	once sync.Once
	w    atomic.Pointer[pcap.Writer]
	err  error // from the creation, if it failed

	order sipOrder // pcap_order.go

	routeMu sync.Mutex
	routes  map[netip.Addr]netip.Addr // remote address -> the local one that reaches it
}

// setupPcap checks --pcap/--pcap-rtp and installs the SIP hook; closers gets the capture's
// close (which logs what was not written, if anything).
func (e *env) setupPcap(closers *[]func()) error {
	if e.cli.PCAPRTP && e.cli.PCAP == "" {
		return fmt.Errorf("--pcap-rtp needs --pcap FILE")
	}
	if e.cli.PCAP == "" {
		return nil
	}
	_, statErr := os.Stat(e.cli.PCAP)
	f, err := os.OpenFile(e.cli.PCAP, os.O_WRONLY|os.O_CREATE, 0o600) // no truncation yet
	if err != nil {
		return fmt.Errorf("--pcap: %w", err)
	}
	f.Close()
	if os.IsNotExist(statErr) {
		os.Remove(e.cli.PCAP) // created on first use
	}
	c := &pcapCapture{path: e.cli.PCAP, routes: map[netip.Addr]netip.Addr{}}
	e.pcap = c
	var next sip.SIPTracer
	if e.tracer != nil {
		next = e.tracer
	}
	e.traceTo(e.withPcap(next)) // whole messages from TCP and TLS (trace_frame.go)
	*closers = append(*closers, func() {
		e.flushTrace()
		w := c.w.Load()
		if w == nil {
			if c.err != nil {
				e.log.Error("--pcap: no capture written", "err", c.err)
			}
			return
		}
		c.order.flush()
		if err := w.Close(); err != nil {
			e.log.Error("--pcap: capture incomplete", "file", c.path, "err", err)
		}
		if st := w.Stats(); st.Dropped > 0 || st.Capped > 0 {
			e.log.Warn("--pcap: packets left out of the capture", "file", c.path, "queue_full", st.Dropped,
				"size_cap", st.Capped, "written", st.Packets)
		}
	})
	return nil
}

// withPcap returns the SIP tracer to install: next (which may be nil), preceded by the
// capture when there is one.
func (e *env) withPcap(next sip.SIPTracer) sip.SIPTracer {
	if e.pcap == nil {
		return next
	}
	return &pcapTracer{c: e.pcap, next: next}
}

// mediaTap is phone.Config.MediaTap: the capture's, with --pcap-rtp, else nil (no cost).
func (e *env) mediaTap() media.Tap {
	if e.pcap == nil || !e.cli.PCAPRTP {
		return nil
	}
	c := e.pcap
	return func(p media.TapPacket) {
		w := c.w.Load()
		if w == nil {
			return // no SIP yet, so no call: nothing to attach media to
		}
		src, dst := p.Local, p.Remote
		if !p.Sent {
			src, dst = dst, src
		}
		w.WriteMedia(src, dst, p.Data, p.Decrypted)
	}
}

// writer returns the capture's writer, creating the file the first time.
func (c *pcapCapture) writer() *pcap.Writer {
	c.once.Do(func() {
		w, err := pcap.Create(c.path, pcap.Options{})
		if err != nil {
			c.err = err
			return
		}
		c.w.Store(w)
	})
	return c.w.Load()
}

// pcapTracer writes each SIP message to the capture (SRTP keys masked), then hands it on.
type pcapTracer struct {
	c    *pcapCapture
	next sip.SIPTracer
}

func (t *pcapTracer) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	t.write(transport, false, laddr, raddr, msg)
	if t.next != nil {
		t.next.SIPTraceRead(transport, laddr, raddr, msg)
	}
}

func (t *pcapTracer) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	t.write(transport, true, laddr, raddr, msg)
	if t.next != nil {
		t.next.SIPTraceWrite(transport, laddr, raddr, msg)
	}
}

func (t *pcapTracer) write(transport string, sent bool, laddr, raddr string, msg []byte) {
	w := t.c.writer()
	if w == nil {
		return
	}
	local, err1 := netip.ParseAddrPort(laddr)
	remote, err2 := netip.ParseAddrPort(raddr)
	if err1 != nil || err2 != nil {
		return // not an IP transport address: nothing a capture could show
	}
	local = netip.AddrPortFrom(t.c.localFor(local.Addr().Unmap(), remote.Addr().Unmap()), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	// SRTP master keys never reach a file: whoever has the capture could decrypt the call.
	body := maskForCapture(msg) // pcap_mask.go
	if sent {
		t.c.order.sent(body, func(at time.Time, m []byte) { w.WriteSIPAt(at, transport, true, local, remote, m) })
	} else {
		t.c.order.received(body, func(at time.Time, m []byte) { w.WriteSIPAt(at, transport, false, remote, local, m) })
	}
}

// localFor is the local address to show for a socket bound to local that talks to remote: a
// socket on all interfaces (0.0.0.0, ::) is shown with the address its packets to remote
// leave from, as a capture on the wire would show it (asked of the kernel once per remote).
func (c *pcapCapture) localFor(local, remote netip.Addr) netip.Addr {
	if !local.IsUnspecified() {
		return local
	}
	c.routeMu.Lock()
	defer c.routeMu.Unlock()
	if a, ok := c.routes[remote]; ok {
		return a
	}
	a := local
	// A UDP "connection" sends nothing: the kernel only picks the route and source address.
	if conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(remote, 9))); err == nil {
		a = conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		conn.Close()
	}
	if len(c.routes) < 1024 {
		c.routes[remote] = a
	}
	return a
}
