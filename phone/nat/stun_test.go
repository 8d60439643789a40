package nat

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

// fakeServer answers Binding requests on loopback; before the real answer it may send what
// an attacker or a broken network would.
type fakeServer struct {
	conn    *net.UDPConn
	mapped  netip.AddrPort // what to claim; zero = the real source address
	noisy   bool           // send garbage, a spoofed answer and an error-typed message first
	silent  bool
	refuse  int // answer with this error code instead
	seen    chan struct{}
	spoofer *net.UDPConn // a second socket that sends a "valid" answer from the wrong address
}

func startFake(t *testing.T, f *fakeServer) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f.conn, f.seen = c, make(chan struct{}, 16)
	if f.noisy {
		if f.spoofer, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		c.Close()
		if f.spoofer != nil {
			f.spoofer.Close()
		}
		<-done
	})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			f.seen <- struct{}{}
			if f.silent {
				continue
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil {
				continue
			}
			mapped := f.mapped
			if !mapped.IsValid() {
				mapped = from
			}
			answer := func(tid [12]byte, addr netip.AddrPort) []byte {
				m, err := stun.Build(stun.NewTransactionIDSetter(tid), stun.BindingSuccess,
					&stun.XORMappedAddress{IP: addr.Addr().AsSlice(), Port: int(addr.Port())}, stun.Fingerprint)
				if err != nil {
					t.Error(err)
				}
				return m.Raw
			}
			dst := net.UDPAddrFromAddrPort(from)
			if f.refuse != 0 {
				m, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingError,
					stun.ErrorCodeAttribute{Code: stun.ErrorCode(f.refuse), Reason: []byte("Server Error")}, stun.Fingerprint)
				if err != nil {
					t.Error(err)
				}
				c.WriteTo(m.Raw, dst)
				continue
			}
			if f.noisy {
				c.WriteTo([]byte("\x80\x00garbage that is not STUN"), dst)
				var other [12]byte
				copy(other[:], "spoofed-txid")
				c.WriteTo(answer(other, netip.MustParseAddrPort("203.0.113.66:6666")), dst)
				f.spoofer.WriteTo(answer(req.TransactionID, netip.MustParseAddrPort("203.0.113.77:7777")), dst)
				time.Sleep(10 * time.Millisecond) // let the decoys arrive first
			}
			c.WriteTo(answer(req.TransactionID, mapped), dst)
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func client(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBindingReturnsMappedAddress(t *testing.T) {
	want := netip.MustParseAddrPort("198.51.100.1:40000")
	srv := startFake(t, &fakeServer{mapped: want})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := Binding(ctx, client(t), srv)
	if err != nil || got != want {
		t.Fatalf("Binding = %v, %v; want %v", got, err, want)
	}
}

func TestBindingIgnoresGarbageAndSpoofedAnswers(t *testing.T) {
	want := netip.MustParseAddrPort("198.51.100.1:40002")
	srv := startFake(t, &fakeServer{mapped: want, noisy: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := Binding(ctx, client(t), srv)
	if err != nil || got != want {
		t.Fatalf("Binding = %v, %v; want %v (garbage, a wrong transaction id and a foreign source must be ignored)", got, err, want)
	}
}

func TestBindingGivesUpOnSilentServer(t *testing.T) {
	f := &fakeServer{silent: true}
	srv := startFake(t, f)
	start := time.Now()
	_, err := Binding(context.Background(), client(t), srv)
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("err = %v, want ErrNoAnswer", err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("gave up after %v; the schedule promises ~5 s", took)
	}
	if n := len(f.seen); n != len(retransmits)+1 {
		t.Fatalf("server saw %d requests, want %d (first send plus retransmissions)", n, len(retransmits)+1)
	}
}

// An error response ends the transaction (RFC 8489 7.3.4): the server said no, and waiting
// out the retransmissions delayed every call by 5 s and then reported "no answer".
func TestBindingStopsAtAnErrorResponse(t *testing.T) {
	f := &fakeServer{refuse: 500}
	srv := startFake(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Binding(ctx, client(t), srv)
	var refused *ErrorResponse
	if !errors.As(err, &refused) || refused.Code != 500 || !strings.Contains(err.Error(), "error 500 Server Error") {
		t.Fatalf("err = %v, want the server's 500", err)
	}
	if n := len(f.seen); n != 1 {
		t.Fatalf("server saw %d requests, want 1 (no retransmission after its answer)", n)
	}
}

// A cancel wakes the wait for an answer at once, not at the next retransmission.
func TestBindingEndsAtCancel(t *testing.T) {
	f := &fakeServer{silent: true}
	srv := startFake(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-f.seen; cancel() }()
	conn := &countingConn{PacketConn: client(t)}
	_, err := Binding(ctx, conn, srv)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := conn.writes; n > 1 { // the next would go 500 ms after the first
		t.Fatalf("%d requests sent: the cancel did not end the wait for the first answer", n)
	}
}

// A Binding cut short by its context leaves the socket readable: the wake-up that set a read
// deadline in the past could run after Binding had cleared it, and every later read on the
// socket (the SIP one's, an RTP one's) failed at once.
func TestBindingLeavesNoDeadline(t *testing.T) {
	srv := startFake(t, &fakeServer{silent: true})
	conn := client(t)
	peer := client(t)
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Binding(ctx, conn, srv); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		time.Sleep(5 * time.Millisecond) // a late wake-up would have run by now
		if _, err := peer.WriteTo([]byte("x"), conn.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() { _, _, err := conn.ReadFrom(make([]byte, 16)); got <- err }()
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("read after a cancelled Binding: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("read after a cancelled Binding never returned")
		}
	}
}

// countingConn counts the datagrams sent through it (by one goroutine: Binding's).
type countingConn struct {
	net.PacketConn
	writes int
}

func (c *countingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.writes++
	return c.PacketConn.WriteTo(b, addr)
}

func TestBindingHonoursContext(t *testing.T) {
	srv := startFake(t, &fakeServer{silent: true})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Binding(ctx, client(t), srv); err == nil {
		t.Fatal("no error from a silent server")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("took %v after a 300 ms context", took)
	}
}

func TestParseBindingResponseRejects(t *testing.T) {
	tid := stun.NewTransactionID()
	errResp, _ := stun.Build(stun.NewTransactionIDSetter(tid), stun.BindingError, stun.CodeBadRequest, stun.Fingerprint)
	noAddr, _ := stun.Build(stun.NewTransactionIDSetter(tid), stun.BindingSuccess, stun.Fingerprint)
	ok, _ := stun.Build(stun.NewTransactionIDSetter(tid), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: net.IPv4(198, 51, 100, 1), Port: 5000}, stun.Fingerprint)
	bad := append([]byte(nil), ok.Raw...)
	bad[len(bad)-1] ^= 0xff // fingerprint broken
	for name, b := range map[string][]byte{
		"empty": nil, "rtp": {0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
		"error": errResp.Raw, "no address": noAddr.Raw, "bad fingerprint": bad,
	} {
		if _, err := ParseBindingResponse(b, tid); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseBindingResponse(ok.Raw, stun.NewTransactionID()); err == nil {
		t.Error("accepted an answer to another transaction")
	}
	if got, err := ParseBindingResponse(ok.Raw, tid); err != nil || got.String() != "198.51.100.1:5000" {
		t.Errorf("good answer: %v, %v", got, err)
	}
}

func TestIsSTUNAndIndication(t *testing.T) {
	ind := Indication()
	if !IsSTUN(ind) {
		t.Fatal("our indication is not recognised as STUN")
	}
	m := &stun.Message{Raw: ind}
	if err := m.Decode(); err != nil || m.Type.Class != stun.ClassIndication || m.Type.Method != stun.MethodBinding {
		t.Fatalf("indication decodes as %v, %v", m.Type, err)
	}
	rtp := []byte{0x80, 0x00, 0x12, 0x34, 0, 0, 0, 160, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if IsSTUN(rtp) {
		t.Fatal("an RTP packet taken for STUN")
	}
}

func TestSplitServer(t *testing.T) {
	for in, want := range map[string]string{
		"stun.example.com": "stun.example.com 3478", "stun.example.com:19302": "stun.example.com 19302",
		"198.51.100.10": "198.51.100.10 3478", "[2001:db8::1]:3479": "2001:db8::1 3479", "[2001:db8::1]": "2001:db8::1 3478",
	} {
		h, p, err := SplitServer(in)
		if err != nil || h+" "+strconv.Itoa(int(p)) != want {
			t.Errorf("SplitServer(%q) = %q %d %v, want %q", in, h, p, err, want)
		}
	}
	for _, bad := range []string{"", "host:0", "host:99999", "host:x", ":3478", "a b"} {
		if _, _, err := SplitServer(bad); err == nil {
			t.Errorf("SplitServer(%q) accepted", bad)
		}
	}
}

// An address written out is used only for a socket of its own family: an IPv6 literal for
// the IPv4 media socket used to come back as it was, and the send failed with the kernel's
// "address family not supported".
func TestResolveServerLiteralMatchesFamily(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, c := range []struct{ server, network, want string }{
		{"198.51.100.10", "udp4", "198.51.100.10:3478"},
		{"[::ffff:198.51.100.10]:3479", "udp4", "198.51.100.10:3479"},
		{"[2001:db8::1]", "udp6", "[2001:db8::1]:3478"},
		{"[2001:db8::1]:3479", "udp4", "IPv6 address, for an IPv4 socket"},
		{"198.51.100.10", "udp6", "IPv4 address, for an IPv6 socket"},
	} {
		got, err := ResolveServer(ctx, c.server, c.network)
		if err != nil {
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("ResolveServer(%q, %s): %v, want %q", c.server, c.network, err, c.want)
			}
			continue
		}
		if got.String() != c.want {
			t.Errorf("ResolveServer(%q, %s) = %v, want %s", c.server, c.network, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	local := netip.MustParseAddrPort("192.0.2.10:4000")
	a := netip.MustParseAddrPort("198.51.100.1:4000")
	b := netip.MustParseAddrPort("198.51.100.1:52001")
	var none netip.AddrPort
	for _, c := range []struct {
		first, second netip.AddrPort
		want          Kind
	}{
		{none, none, Unknown}, {a, none, Unknown}, {none, a, Unknown},
		{a, a, Cone}, {a, b, Symmetric}, {local, local, Open}, {local, none, Open},
	} {
		if got := Classify(local, c.first, c.second); got != c.want {
			t.Errorf("Classify(%v, %v) = %v, want %v", c.first, c.second, got, c.want)
		}
	}
}
