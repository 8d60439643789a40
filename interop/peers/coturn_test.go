package peers

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v3"
	"github.com/pion/turn/v4"
)

// TestCoturnBinding: coturn answers a Binding request with the address the request came
// from, and with two listening IPs it offers the other one for NAT behaviour discovery.
func TestCoturnBinding(t *testing.T) {
	c := StartCoturn(t, CoturnOptions{ListenIPs: []string{"127.0.0.1", "127.0.0.2"}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	for i := range 2 {
		conn, err := net.Dial("udp", c.Addr(i))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		got, err := stunBindingOn(ctx, conn)
		if err != nil {
			t.Fatalf("binding to %s: %v\n%s", c.Addr(i), err, c.Log())
		}
		if want := conn.LocalAddr().String(); got.String() != want {
			t.Errorf("binding to %s: mapped address %s, want our source %s", c.Addr(i), got, want)
		}
	}

	// RFC 5780: OTHER-ADDRESS names the other IP and the alternate port, and a Binding
	// sent there is answered too (this is what a NAT-type probe relies on).
	res := rawBinding(t, ctx, c.Addr(0))
	var other stun.OtherAddress
	if err := other.GetFrom(res); err != nil {
		t.Fatalf("no OTHER-ADDRESS with two listening IPs: %v", err)
	}
	if got, want := net.JoinHostPort(other.IP.String(), strconv.Itoa(other.Port)), c.AltAddr(1); got != want {
		t.Errorf("OTHER-ADDRESS %s, want %s", got, want)
	}
	if _, err := STUNBinding(ctx, nil, c.AltAddr(1)); err != nil {
		t.Errorf("binding to the alternate address %s: %v", c.AltAddr(1), err)
	}
	if _, err := os.Stat(filepath.Join(c.Dir(), "turndb")); err != nil {
		t.Errorf("coturn's user database is not in the test's directory: %v", err)
	}
}

func rawBinding(t *testing.T, ctx context.Context, server string) *stun.Message {
	t.Helper()
	conn, err := net.Dial("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	conn.SetDeadline(dl)
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	if _, err := conn.Write(req.Raw); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("binding to %s: %v", server, err)
	}
	res := new(stun.Message)
	if err := stun.Decode(buf[:n], res); err != nil {
		t.Fatal(err)
	}
	return res
}

// newTURNClient returns a listening pion TURN client on a fresh loopback socket.
func newTURNClient(t *testing.T, c *Coturn, conn net.PacketConn, password string) *turn.Client {
	t.Helper()
	cl, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: c.Addr(0),
		TURNServerAddr: c.Addr(0),
		Username:       c.User(),
		Password:       password,
		Realm:          c.Realm(),
		Conn:           conn,
		RTO:            200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestCoturnRelay: an Allocate with the right credentials gets a relayed address in the
// configured range, the wrong password gets a 401, and data relayed to a loopback peer
// arrives there from the relayed address and back.
func TestCoturnRelay(t *testing.T) {
	const minPort, maxPort = 49400, 49499
	c := StartCoturn(t, CoturnOptions{MinPort: minPort, MaxPort: maxPort, User: "bob", Password: "s3cret"})

	bad, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := newTURNClient(t, c, bad, "wrong").Allocate(); err == nil {
		t.Error("Allocate with a wrong password succeeded")
	} else if !strings.Contains(err.Error(), "401") {
		t.Errorf("Allocate with a wrong password: %v, want a 401", err)
	}

	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl := newTURNClient(t, c, conn, c.Password())
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatalf("Allocate: %v\n%s", err, c.Log())
	}
	defer relay.Close()
	ra := relay.LocalAddr().(*net.UDPAddr)
	if ra.IP.String() != "127.0.0.1" || ra.Port < minPort || ra.Port > maxPort {
		t.Errorf("relayed address %s, want 127.0.0.1:%d-%d", ra, minPort, maxPort)
	}

	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if err := cl.CreatePermission(peer.LocalAddr()); err != nil {
		t.Fatalf("CreatePermission: %v", err)
	}
	msg := []byte("through the relay")
	if _, err := relay.WriteTo(msg, peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatalf("peer got nothing from the relay: %v\n%s", err, c.Log())
	}
	if !bytes.Equal(buf[:n], msg) || from.String() != ra.String() {
		t.Errorf("peer got %q from %s, want %q from the relayed address %s", buf[:n], from, msg, ra)
	}

	reply := []byte("and back")
	if _, err := peer.WriteTo(reply, ra); err != nil {
		t.Fatal(err)
	}
	relay.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err = relay.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no reply through the relay: %v", err)
	}
	if !bytes.Equal(buf[:n], reply) || from.String() != peer.LocalAddr().String() {
		t.Errorf("client got %q from %s, want %q from %s", buf[:n], from, reply, peer.LocalAddr())
	}
}
