package netlab

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// echoServer answers every datagram on c with the source address it came from, until c is
// closed.
func echoServer(c net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		_, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo([]byte(from.String()), from)
	}
}

// mapped sends one datagram from c to server and returns the source address the server saw.
func mapped(t *testing.T, c net.PacketConn, server string) string {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	for try := 0; try < 3; try++ { // UDP: the first packet may race ARP on a fresh link
		if _, err := c.WriteTo([]byte("where am I"), to); err != nil {
			t.Fatalf("send to %s: %v", server, err)
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := c.ReadFrom(buf)
		if err == nil {
			return string(buf[:n])
		}
	}
	t.Fatalf("no answer from %s", server)
	return ""
}

func listenEcho(t *testing.T, h *Host, addr string) string {
	t.Helper()
	c, err := h.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go echoServer(c)
	return c.LocalAddr().String()
}

func TestNATs(t *testing.T) {
	lab := New(t)
	wan := lab.Segment("wan", "203.0.113.0/24")
	lan1 := lab.Segment("lan1", "192.0.2.0/24")
	lan2 := lab.Segment("lan2", "198.51.100.0/24")
	a := lab.Host("a", lan1, "192.0.2.10") // before its router: gets the route later
	cone := lab.Router("cone", RouterOptions{NAT: Cone, Inside: lan1, InsideIP: "192.0.2.1", Outside: wan, OutsideIP: "203.0.113.1"})
	sym := lab.Router("sym", RouterOptions{NAT: Symmetric, UDPTimeout: 2 * time.Second,
		Inside: lan2, InsideIP: "198.51.100.1", Outside: wan, OutsideIP: "203.0.113.2"})
	b := lab.Host("b", lan1, "192.0.2.11")
	c := lab.Host("c", lan2, "198.51.100.10")
	srv := lab.Host("srv", wan, "203.0.113.10", "203.0.113.11")
	echo1 := listenEcho(t, srv, "203.0.113.10:3478")
	echo2 := listenEcho(t, srv, "203.0.113.11:3479")

	// Commands run inside the namespace.
	if out := a.Run("ip", "-4", "-o", "addr", "show"); !strings.Contains(out, "192.0.2.10/24") || strings.Contains(out, "203.0.113") {
		t.Fatalf("host a's addresses:\n%s", out)
	}

	t.Run("cone keeps the port, for every destination", func(t *testing.T) {
		for _, h := range []*Host{a, b} {
			pc, err := h.ListenPacket("udp", h.IP()+":0")
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
			want := "203.0.113.1:" + port
			if got := mapped(t, pc, echo1); got != want {
				t.Fatalf("%s via cone NAT seen as %s, want %s", h.Name(), got, want)
			}
			if got := mapped(t, pc, echo2); got != want {
				t.Fatalf("%s's mapping towards a second server is %s, want %s (endpoint independent)", h.Name(), got, want)
			}
		}
	})

	t.Run("cone drops what nobody asked for", func(t *testing.T) {
		pc, err := a.ListenPacket("udp", "192.0.2.10:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		pub := mapped(t, pc, echo1)
		stranger, err := srv.ListenPacket("udp", "203.0.113.10:0")
		if err != nil {
			t.Fatal(err)
		}
		defer stranger.Close()
		to, _ := net.ResolveUDPAddr("udp", pub)
		stranger.WriteTo([]byte("hello?"), to)
		pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, from, err := pc.ReadFrom(make([]byte, 100)); err == nil {
			t.Fatalf("a datagram from %s (never contacted) passed the NAT", from)
		}
	})

	t.Run("private addresses are unreachable from outside", func(t *testing.T) {
		pc, err := a.ListenPacket("udp", "192.0.2.10:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		srv.AddRoute("192.0.2.0/24", "203.0.113.1") // even pointed at the router
		out, err := srv.ListenPacket("udp", "203.0.113.10:0")
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if _, err := out.WriteTo([]byte("hello?"), pc.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, from, err := pc.ReadFrom(make([]byte, 100)); err == nil {
			t.Fatalf("a datagram from %s reached a private address through the NAT", from)
		}
	})

	t.Run("symmetric: a port per destination, a new one after the timeout", func(t *testing.T) {
		pc, err := c.ListenPacket("udp", c.IP()+":0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		m1 := mapped(t, pc, echo1)
		m2 := mapped(t, pc, echo2)
		if !strings.HasPrefix(m1, "203.0.113.2:") || !strings.HasPrefix(m2, "203.0.113.2:") {
			t.Fatalf("mappings %s, %s are not the router's public address", m1, m2)
		}
		if m1 == m2 {
			t.Fatalf("symmetric NAT used one mapping %s for two destinations", m1)
		}
		if again := mapped(t, pc, echo1); again != m1 {
			t.Fatalf("mapping changed within the timeout: %s then %s", m1, again)
		}
		found := false
		for _, m := range sym.Mappings() {
			if m.Proto == "udp" && m.From.String() == pc.LocalAddr().String() && m.To.String() == echo1 {
				found = m.Public.String() == m1 && m.Expires <= 2*time.Second
				if !found {
					t.Errorf("conntrack entry %+v, want public %s expiring within 2s", m, m1)
				}
			}
		}
		if !found {
			t.Errorf("no conntrack entry for %s -> %s in:\n%s", pc.LocalAddr(), echo1, sym.Conntrack())
		}
		if sym.UDPTimeout() != 2*time.Second {
			t.Fatalf("UDPTimeout() = %v", sym.UDPTimeout())
		}
		// Ports are random: a new mapping may, rarely, reuse the old port; ask twice.
		var later []string
		for range 2 {
			time.Sleep(sym.UDPTimeout() + 1500*time.Millisecond)
			m := mapped(t, pc, echo1)
			if m != m1 {
				return
			}
			later = append(later, m)
		}
		t.Fatalf("mapping %s still in place after idling past the %v timeout twice (%v)\n%s", m1, sym.UDPTimeout(), later, sym.Conntrack())
	})

	t.Run("tcp through the NAT", func(t *testing.T) {
		l, err := srv.Listen("tcp", "203.0.113.10:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte(conn.RemoteAddr().String()))
			conn.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := a.Dial(ctx, "tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, _ := conn.Read(buf)
		if !strings.HasPrefix(string(buf[:n]), "203.0.113.1:") {
			t.Fatalf("server saw the TCP client as %q", buf[:n])
		}
	})

	t.Run("names are refused", func(t *testing.T) {
		if _, err := a.ListenPacket("udp", "localhost:0"); err == nil {
			t.Fatal("a host name was accepted")
		}
	})
	_ = cone
}

func TestCleanupRemovesEverything(t *testing.T) {
	var lab *Lab
	var pid int
	t.Run("lab", func(t *testing.T) {
		lab = New(t)
		seg := lab.Segment("s", "203.0.113.0/24")
		h := lab.Host("h", seg, "203.0.113.5")
		cmd := h.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go cmd.Wait()
		pid = cmd.Process.Pid
	})
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "dt-"+lab.ID()+"-") {
		t.Fatalf("namespaces left behind:\n%s", out)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := exec.Command("kill", "-0", strconv.Itoa(pid)).Run()
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			break // no such process any more
		}
		if time.Now().After(deadline) {
			st, _ := exec.Command("ps", "-o", "pid,stat,cmd", "-p", strconv.Itoa(pid)).CombinedOutput()
			t.Fatalf("process %d started in the lab still runs: %s", pid, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBadAddressesAreRefused(t *testing.T) {
	for _, p := range []string{"10.0.0.0/24", "192.0.2.0/16", "192.0.2.0/30", "2001:db8::/64", "nonsense"} {
		ft := &fatalRecorder{TB: t}
		func() {
			defer func() { recover() }()
			lab := &Lab{t: ft, id: "x", segments: map[string]*Segment{}, hosts: map[string]*Host{}}
			lab.Segment("s", p)
		}()
		if !ft.failed {
			t.Errorf("prefix %q accepted", p)
		}
	}
}

// fatalRecorder turns Fatalf into a recorded failure and a panic the caller recovers, to
// test what the lab refuses without failing the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}

// TestOrphansOfDeadTestsAreSwept: a namespace of a lab whose test process died (no cleanup
// ran) is removed by the next New; one of a live process is not.
func TestOrphansOfDeadTestsAreSwept(t *testing.T) {
	New(t) // skips when not root
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	orphan := "dt-abcdef-" + strconv.Itoa(dead.Process.Pid) + "-orphan"
	alive := "dt-abcdef-1-alive" // pid 1 lives as long as the machine
	for _, ns := range []string{orphan, alive} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v %s", ns, err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", alive).Run()
		exec.Command("ip", "netns", "del", orphan).Run()
	})
	New(t)
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), orphan) {
		t.Errorf("orphan %s not swept:\n%s", orphan, out)
	}
	if !strings.Contains(string(out), alive) {
		t.Errorf("%s of a live process was swept", alive)
	}
}

// TestPlainRouting: a router without NAT between two halves of one documentation range;
// each side sees the other's own address, and the default route of the inside goes through
// the router.
func TestPlainRouting(t *testing.T) {
	lab := New(t)
	in := lab.Segment("in", "198.51.100.0/25")
	out := lab.Segment("out", "198.51.100.128/25")
	lab.Router("rt", RouterOptions{NAT: NoNAT, Inside: in, InsideIP: "198.51.100.1", Outside: out, OutsideIP: "198.51.100.129"})
	a := lab.Host("a", in, "198.51.100.10")
	b := lab.Host("b", out, "198.51.100.130")
	echo := listenEcho(t, b, "198.51.100.130:0")
	pc, err := a.ListenPacket("udp", "198.51.100.10:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if got := mapped(t, pc, echo); got != pc.LocalAddr().String() {
		t.Fatalf("seen as %s through a router without NAT, want %s", got, pc.LocalAddr())
	}
	if gw, ok := in.Gateway(); !ok || gw.String() != "198.51.100.1" {
		t.Fatalf("inside gateway %v %v", gw, ok)
	}
}
