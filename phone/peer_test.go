package phone

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// testClient is a sipgo client of the test's own, to send a phone requests as another party
// would; it is closed when the test ends.
func testClient(t *testing.T) *sipgo.Client {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	c, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// doRequest sends req with c and returns its final answer, within 10 s.
func doRequest(t *testing.T, c *sipgo.Client, req *sip.Request) *sip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// peerRequest is a request of method to the phone at addr, addressed to toUser: From
// fromUser@127.0.0.1 with fromTag, To toUser@127.0.0.1 with toTag ("" for none), the Call-ID
// and CSeq given.
func peerRequest(method sip.RequestMethod, addr, fromUser, fromTag, toUser, toTag, callID string, cseq uint32) *sip.Request {
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: toUser, Host: strings.Split(addr, ":")[0]})
	req.SetDestination(addr)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: fromUser, Host: "127.0.0.1"}, Params: sip.NewParams()}
	from.Params.Add("tag", fromTag)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: toUser, Host: "127.0.0.1"}, Params: sip.NewParams()}
	if toTag != "" {
		to.Params.Add("tag", toTag)
	}
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	return req
}

// udpPeer is a UDP socket on loopback to send the phone at addr raw datagrams from, and
// addr resolved; the socket is closed when the test ends.
func udpPeer(t *testing.T, addr string) (*net.UDPConn, *net.UDPAddr) {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, to
}
