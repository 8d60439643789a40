package phone

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// fakeRegistrar answers every REGISTER 200 on a loopback socket and counts CRLF keep-alives.
func fakeRegistrar(t *testing.T) (addr string, keepAlives <-chan time.Time) {
	return scriptedRegistrar(t, func(req *sip.Request, _ int) *sip.Response {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if c := req.Contact(); c != nil {
			res.AppendHeader(c)
		}
		return res
	})
}

// scriptedRegistrar answers requests on a loopback socket as answer says (n: the REGISTERs so
// far, this one included) and reports when each CRLF keep-alive came.
func scriptedRegistrar(t *testing.T, answer func(req *sip.Request, n int) *sip.Response) (addr string, keepAlives <-chan time.Time) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ka := make(chan time.Time, 100)
	go func() {
		buf := make([]byte, 65536)
		parser := sip.NewParser()
		registers := 0
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if bytes.Equal(buf[:n], []byte("\r\n\r\n")) {
				select {
				case ka <- time.Now():
				default:
				}
				continue
			}
			msg, err := parser.ParseSIP(append([]byte(nil), buf[:n]...))
			req, ok := msg.(*sip.Request)
			if err != nil || !ok {
				continue
			}
			if req.Method == sip.REGISTER {
				registers++
			}
			_, _ = conn.WriteTo([]byte(answer(req, registers).String()), from)
		}
	}()
	return conn.LocalAddr().String(), ka
}

func TestUDPRegistrationSendsKeepAlives(t *testing.T) {
	addr, keepAlives := fakeRegistrar(t)
	_, _, events := runPhone(t, Config{KeepAlive: 100 * time.Millisecond, Accounts: []Account{{
		Name: "a", AOR: "sip:alice@127.0.0.1", Registrar: "sip:" + addr, Register: true, Expires: time.Hour,
	}}})
	deadline := time.After(10 * time.Second)
	for registered := false; !registered; {
		select {
		case ev := <-events:
			if s, ok := ev.(AccountStatus); ok && s.State == Registered {
				registered = true
			}
		case <-deadline:
			t.Fatal("never registered at the fake registrar")
		}
	}
	for i := range 3 {
		select {
		case <-keepAlives:
		case <-time.After(5 * time.Second):
			t.Fatalf("keep-alive %d never came", i+1)
		}
	}
}

func TestKeepAliveCanBeTurnedOff(t *testing.T) {
	p, _ := New(Config{KeepAlive: -1})
	if p.keepAliveEvery() != 0 {
		t.Fatal("negative KeepAlive should turn keep-alives off")
	}
	p, _ = New(Config{})
	if p.keepAliveEvery() != defaultKeepAlive {
		t.Fatal("zero KeepAlive should mean the default")
	}
}

// TestKeepAlivesGoOnWhileTheBindingLasts: a refresh fails (the registrar answers 503), and the
// binding granted before still lasts: keep-alives go on until it runs out, since calls still
// come to it through the NAT's mapping. They stopped at the failure.
func TestKeepAlivesGoOnWhileTheBindingLasts(t *testing.T) {
	addr, keepAlives := scriptedRegistrar(t, func(req *sip.Request, n int) *sip.Response {
		if n > 1 { // the first is granted 4 s; the refresh after 2 s fails
			return sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Expires", "4"))
		if c := req.Contact(); c != nil {
			res.AppendHeader(&sip.ContactHeader{Address: c.Address})
		}
		return res
	})
	_, _, events := runPhone(t, Config{KeepAlive: 100 * time.Millisecond, Accounts: []Account{{
		Name: "a", AOR: "sip:alice@127.0.0.1", Registrar: "sip:" + addr, Register: true, Expires: 4 * time.Second,
	}}})
	var registeredAt time.Time
	deadline := time.After(15 * time.Second)
	for failed := false; !failed; {
		select {
		case ev := <-events:
			if s, ok := ev.(AccountStatus); ok && s.State == Registered {
				registeredAt = time.Now()
			}
			if s, ok := ev.(AccountStatus); ok && s.State == RegFailed && !registeredAt.IsZero() {
				failed = true
			}
		case <-deadline:
			t.Fatal("no failed refresh after a registration")
		}
	}
	for len(keepAlives) > 0 {
		<-keepAlives // those before the failure
	}
	select {
	case at := <-keepAlives:
		if at.Sub(registeredAt) > 4*time.Second+time.Second {
			t.Errorf("a keep-alive %v after the 4 s binding began", at.Sub(registeredAt))
		}
	case <-time.After(1500 * time.Millisecond): // the binding has ~2 s left: keep-alives every 100 ms
		t.Fatal("no keep-alive after the failed refresh, while the binding still lasted")
	}
}

// TestNATMappingChangeRegistersAgain: behind a NAT (the registrar sees us at 203.0.113.7), the
// NAT gives us another port (a reboot, a carrier-grade NAT's remapping). The OPTIONS sent
// every few keep-alives finds it, and the account registers the new address at once: until
// the next refresh (up to half an hour) calls went to a mapping that no longer existed.
func TestNATMappingChangeRegistersAgain(t *testing.T) {
	var rport atomic.Int32
	rport.Store(40000)
	addr, _ := scriptedRegistrar(t, func(req *sip.Request, _ int) *sip.Response {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if via := res.Via(); via != nil { // where the registrar sees us: a NAT's address
			via.Params.Add("received", "203.0.113.7")
			via.Params.Add("rport", strconv.Itoa(int(rport.Load())))
		}
		if c := req.Contact(); c != nil && req.Method == sip.REGISTER {
			res.AppendHeader(&sip.ContactHeader{Address: c.Address})
		}
		return res
	})
	_, _, events := runPhone(t, Config{KeepAlive: 50 * time.Millisecond, Accounts: []Account{{
		Name: "a", AOR: "sip:alice@127.0.0.1", Registrar: "sip:" + addr, Register: true, Expires: time.Hour,
	}}})
	registeredAt := func(contact string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case ev := <-events:
				if s, ok := ev.(AccountStatus); ok && s.State == Registered && strings.Contains(s.Contact, contact) {
					return
				}
			case <-deadline:
				t.Fatalf("never registered as %s", contact)
			}
		}
	}
	registeredAt("203.0.113.7:40000")
	rport.Store(40001)
	registeredAt("203.0.113.7:40001")
}

// sleepOnce makes the next asleep reading (a keep-alive's or a flow keeper's tick) report a
// suspend of d, as after a laptop's lid was closed; the others report none.
func sleepOnce(t *testing.T) func(d time.Duration) {
	t.Helper()
	var next atomic.Int64
	old := asleep
	asleep = func(wakeMark, wakeMark) time.Duration { return time.Duration(next.Swap(0)) }
	t.Cleanup(func() { asleep = old }) // after the test's phones stopped: registered before them
	return func(d time.Duration) { next.Store(int64(d)) }
}

// TestRegistersAgainAfterTheComputerSlept: a suspend longer than sleptMin, found at the next
// keep-alive, makes the account register again at once. Timers run on the monotonic clock,
// which stops in a suspend: the refresh waited out its remaining awake time while the
// registrar had long dropped the binding, and calls did not arrive.
func TestRegistersAgainAfterTheComputerSlept(t *testing.T) {
	sleep := sleepOnce(t)
	var registers atomic.Int32
	addr, _ := scriptedRegistrar(t, func(req *sip.Request, n int) *sip.Response {
		registers.Store(int32(n))
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if c := req.Contact(); c != nil && req.Method == sip.REGISTER {
			res.AppendHeader(&sip.ContactHeader{Address: c.Address})
		}
		return res
	})
	_, _, events := runPhone(t, Config{KeepAlive: 100 * time.Millisecond, Accounts: []Account{{
		Name: "a", AOR: "sip:alice@127.0.0.1", Registrar: "sip:" + addr, Register: true, Expires: time.Hour,
	}}})
	waitRegState(t, events, Registered, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // keep-alives without a suspend: nothing more
	if n := registers.Load(); n != 1 {
		t.Fatalf("%d REGISTERs before the suspend, want 1", n)
	}
	sleep(2 * time.Hour)
	waitRegState(t, events, Registered, 5*time.Second)
	if n := registers.Load(); n != 2 {
		t.Fatalf("%d REGISTERs after the suspend, want 2", n)
	}
}

// TestLocalAddressChangeIsNoticed: an account not behind NAT, on a socket open to every
// address, whose Contact names an address the route to its registrar no longer leaves from
// (the laptop moved from Wi-Fi to Ethernet, a new DHCP lease): natMoved reports the address
// that reaches the registrar now, so the account registers it at once. It was checked only
// behind a NAT, and calls went to the old address until the next refresh.
func TestLocalAddressChangeIsNoticed(t *testing.T) {
	r := &sipRegistrar{acc: &account{Account: Account{Transport: UDP}}, log: slog.New(slog.DiscardHandler),
		udpListen: &net.UDPAddr{IP: net.IPv4zero, Port: 40003}, current: "127.0.0.1:40005",
		contact: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: 40003}}
	if now, moved := r.natMoved(context.Background()); moved {
		t.Fatalf("moved to %s while the route still leaves from 127.0.0.1", now)
	}
	r.contact.Host = "192.0.2.7" // where we were before
	if now, moved := r.natMoved(context.Background()); !moved || now != "127.0.0.1:40003" {
		t.Fatalf("natMoved = %q %v, want 127.0.0.1:40003 true", now, moved)
	}
	r.udpListen = &net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 40003} // bound to that address: it stays
	if now, moved := r.natMoved(context.Background()); moved {
		t.Fatalf("a socket bound to one address moved to %s", now)
	}
}
