package peers

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const (
	sippTestTimeout = 10 * time.Second
	sippWaitTimeout = 5 * time.Second
)

// sippCaller is a sipgo UAC (UDP, 127.0.0.1) placing calls to a sipp UAS.
type sippCaller struct {
	client *sipgo.Client
	dialog *sipgo.DialogUA
}

func newSippCaller(t *testing.T) *sippCaller {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("dialtone-test"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	return &sippCaller{
		client: c,
		dialog: &sipgo.DialogUA{
			Client:     c,
			ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1"}},
		},
	}
}

func sippTarget(t *testing.T, s *Sipp, user string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(s.URI(user), &u); err != nil {
		t.Fatalf("parsing %q: %v", s.URI(user), err)
	}
	return u
}

// offerSDP is an audio offer with the caller's RTP socket on rtpPort.
func offerSDP(rtpPort int) []byte {
	return []byte("v=0\r\n" +
		"o=dialtone 1 1 IN IP4 127.0.0.1\r\n" +
		"s=-\r\n" +
		"c=IN IP4 127.0.0.1\r\n" +
		"t=0 0\r\n" +
		"m=audio " + strconv.Itoa(rtpPort) + " RTP/AVP 0 8 101\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=sendrecv\r\n")
}

// responseLog records the status codes a UAC received, for OnResponse.
type responseLog struct {
	mu    sync.Mutex
	codes []int
}

func (l *responseLog) add(r *sip.Response) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.codes = append(l.codes, r.StatusCode)
	return nil
}

func (l *responseLog) get() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.codes...)
}

// sentCodes returns the status codes of the responses sipp sent, in order,
// from its trace, without retransmissions. (sipgo may reorder or drop
// provisional responses: it handles each UDP packet on its own goroutine.)
func sentCodes(s *Sipp) []int {
	var codes []int
	seen := map[string]bool{}
	for _, e := range s.Trace() {
		rest, ok := strings.CutPrefix(e.Text, "SIP/2.0 ")
		if !ok || !e.Sent || len(rest) < 3 || seen[e.Text] {
			continue
		}
		seen[e.Text] = true
		if n, err := strconv.Atoi(rest[:3]); err == nil {
			codes = append(codes, n)
		}
	}
	return codes
}

// waitSipp expects sipp to exit with want, and fails with its traces.
func waitSipp(t *testing.T, s *Sipp, want int) {
	t.Helper()
	code, err := s.Wait(sippWaitTimeout)
	if err != nil || code != want {
		t.Fatalf("sipp exit = %d, %v; want %d\n--- messages ---\n%s\n--- log ---\n%s", code, err, want, s.Messages(), s.Log())
	}
}

// sippInvite sends an INVITE to user at s and waits for the final answer,
// with digest credentials if user/pass are set.
func sippInvite(ctx context.Context, t *testing.T, s *Sipp, c *sippCaller, opts sipgo.AnswerOptions, rtpPort int) (*sipgo.DialogClientSession, *responseLog, error) {
	t.Helper()
	log := &responseLog{}
	opts.OnResponse = log.add
	d, err := c.dialog.Invite(ctx, sippTarget(t, s, "bob"), offerSDP(rtpPort), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatalf("INVITE: %v\n%s", err, s.Log())
	}
	t.Cleanup(func() { d.Close() })
	return d, log, d.WaitAnswer(ctx, opts)
}

func rtpPacket(seq uint16, ts uint32, payload []byte) []byte {
	p := make([]byte, 12, 12+len(payload))
	p[0] = 0x80 // V=2
	p[1] = 0    // PT 0 (PCMU)
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], 0x5eed1234)
	return append(p, payload...)
}

// sdpMediaPort returns the port of the first m=audio line.
func sdpMediaPort(sdp string) (int, error) {
	for l := range strings.Lines(sdp) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "m=audio "); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, errors.New("no m=audio line")
}

func TestSippEcho(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), sippTestTimeout)
	defer cancel()
	s := StartSippUAS(t, SippOptions{Scenario: "uas_echo", RTPEcho: true})
	c := newSippCaller(t)

	rtpConn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtpConn.Close()

	d, log, err := sippInvite(ctx, t, s, c, sipgo.AnswerOptions{}, rtpConn.LocalAddr().(*net.UDPAddr).Port)
	if err != nil {
		t.Fatalf("INVITE answer: %v (responses %v)\n%s", err, log.get(), s.Messages())
	}
	if codes := log.get(); !slices.Contains(codes, 200) {
		t.Errorf("responses = %v, want a 200", codes)
	}
	res := d.InviteResponse
	if ct := res.ContentType(); ct == nil || ct.Value() != "application/sdp" {
		t.Errorf("200 OK Content-Type = %v", ct)
	}
	sdp := string(res.Body())
	for _, want := range []string{
		"c=IN IP4 127.0.0.1",
		fmt.Sprintf("m=audio %d RTP/AVP 0 8 101", s.MediaPort()),
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:8 PCMA/8000",
		"a=rtpmap:101 telephone-event/8000",
	} {
		if !strings.Contains(sdp, want) {
			t.Errorf("answer SDP lacks %q:\n%s", want, sdp)
		}
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatalf("ACK: %v", err)
	}

	// RTP to the advertised port comes back to the socket that sent it.
	port, err := sdpMediaPort(sdp)
	if err != nil {
		t.Fatalf("answer SDP: %v\n%s", err, sdp)
	}
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	buf := make([]byte, 2048)
	for i := range 5 {
		pkt := rtpPacket(uint16(100+i), uint32(160*i), bytes.Repeat([]byte{byte(0xff - i)}, 160))
		if _, err := rtpConn.WriteToUDP(pkt, dst); err != nil {
			t.Fatal(err)
		}
		rtpConn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, from, err := rtpConn.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("packet %d not echoed: %v", i, err)
		}
		if from.Port != port {
			t.Errorf("packet %d echoed from %v, want port %d", i, from, port)
		}
		if !bytes.Equal(buf[:n], pkt) {
			t.Fatalf("packet %d echoed as %x, want %x", i, buf[:n], pkt)
		}
	}

	if err := d.Bye(ctx); err != nil {
		t.Fatalf("BYE: %v\n%s", err, s.Messages())
	}
	waitSipp(t, s, SippExitOK)
	// 180 and 200 for the INVITE, 200 for the BYE.
	if got, want := sentCodes(s), []int{180, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("sipp sent %v, want %v", got, want)
	}
}

// TestSippNoEcho checks that without RTPEcho nothing comes back.
func TestSippNoEcho(t *testing.T) {
	t.Parallel()
	s := StartSippUAS(t, SippOptions{Scenario: "uas_echo"})
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.MediaPort()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(rtpPacket(1, 0, make([]byte, 160))); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := conn.Read(make([]byte, 2048)); err == nil {
		t.Fatalf("got %d bytes back without -rtp_echo", n)
	}
}

func TestSippRejects(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		codes    []int
	}{
		{"uas_busy", []int{100, 486}},
		{"uas_notfound", []int{404}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), sippTestTimeout)
			defer cancel()
			s := StartSippUAS(t, SippOptions{Scenario: tc.scenario})
			c := newSippCaller(t)
			_, log, err := sippInvite(ctx, t, s, c, sipgo.AnswerOptions{}, 40000)
			var de *sipgo.ErrDialogResponse
			final := tc.codes[len(tc.codes)-1]
			if !errors.As(err, &de) || de.Res.StatusCode != final {
				t.Fatalf("INVITE answer = %v, want %d\n%s", err, final, s.Messages())
			}
			// sipp exits 0 only after the ACK of the final response.
			waitSipp(t, s, SippExitOK)
			if got := sentCodes(s); !slices.Equal(got, tc.codes) {
				t.Errorf("sipp sent %v, want %v", got, tc.codes)
			}
			if got := log.get(); !slices.Contains(got, final) {
				t.Errorf("sipgo got %v, want %d among them", got, final)
			}
			if !strings.Contains(s.Messages(), "ACK sip:") {
				t.Errorf("no ACK in the trace:\n%s", s.Messages())
			}
		})
	}
}

func TestSippRingForever(t *testing.T) {
	t.Parallel()
	s := StartSippUAS(t, SippOptions{Scenario: "uas_ring_forever"})
	c := newSippCaller(t)
	// The caller's ring timeout: WaitAnswer sends CANCEL when ctx ends.
	ringCtx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	start := time.Now()
	d, log, err := sippInvite(ringCtx, t, s, c, sipgo.AnswerOptions{}, 40000)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitAnswer = %v, want the ring timeout\n%s", err, s.Messages())
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancelling took %v", el)
	}
	if got := log.get(); !slices.Contains(got, 180) {
		t.Errorf("sipgo got %v, want a 180 among them", got)
	}
	if d.InviteResponse == nil || d.InviteResponse.StatusCode != sip.StatusRequestTerminated {
		t.Fatalf("final INVITE response = %v, want 487\n%s", d.InviteResponse, s.Messages())
	}
	waitSipp(t, s, SippExitOK)
	// 100 and 180 for the INVITE, 200 for the CANCEL, 487 for the INVITE.
	if got, want := sentCodes(s), []int{100, 180, 200, 487}; !slices.Equal(got, want) {
		t.Errorf("sipp sent %v, want %v", got, want)
	}
	msgs := s.Messages()
	for _, want := range []string{"CANCEL sip:", "SIP/2.0 487 Request Terminated", "ACK sip:"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("trace lacks %q:\n%s", want, msgs)
		}
	}
}

func TestSippAuth(t *testing.T) {
	for _, tc := range []struct {
		name, scenario, user, pass string
		want                       int    // final response
		log                        string // in the action log
		digestOK                   bool   // VerifyDigest accepts the credentials
	}{
		{"www/good", "uas_auth", "alice", "secret", sip.StatusOK,
			"digest_ok=true user_ok=true realm_ok=true nonce_ok=true\nAUTH-VALID: true\n", true},
		{"www/wrong-password", "uas_auth", "alice", "wrong", sip.StatusForbidden,
			"digest_ok=false user_ok=true realm_ok=true nonce_ok=true\nAUTH-VALID: false\n", false},
		{"www/wrong-user", "uas_auth", "bob", "secret", sip.StatusForbidden,
			"digest_ok=false user_ok=false realm_ok=true nonce_ok=true\nAUTH-VALID: false\n", false},
		{"proxy/good", "uas_proxy_auth", "alice", "secret", sip.StatusOK,
			"user_ok=true realm_ok=true nonce_ok=true\nAUTH-VALID: true\n", true},
		// sipp cannot check the password of a Proxy-Authorization: the
		// call goes through, and only VerifyDigest notices.
		{"proxy/wrong-password", "uas_proxy_auth", "alice", "wrong", sip.StatusOK,
			"user_ok=true realm_ok=true nonce_ok=true\nAUTH-VALID: true\n", false},
		{"proxy/wrong-user", "uas_proxy_auth", "bob", "secret", sip.StatusForbidden,
			"user_ok=false realm_ok=true nonce_ok=true\nAUTH-VALID: false\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), sippTestTimeout)
			defer cancel()
			s := StartSippUAS(t, SippOptions{Scenario: tc.scenario})
			c := newSippCaller(t)
			d, log, err := sippInvite(ctx, t, s, c, sipgo.AnswerOptions{Username: tc.user, Password: tc.pass}, 40000)
			codes := log.get()
			challenge, challengeHdr, credHdr := 401, "WWW-Authenticate", "Authorization"
			if tc.scenario == "uas_proxy_auth" {
				challenge, challengeHdr, credHdr = 407, "Proxy-Authenticate", "Proxy-Authorization"
			}
			if sent := sentCodes(s); len(sent) == 0 || sent[0] != challenge {
				t.Fatalf("sipp sent %v, want a %d challenge first\n%s", sent, challenge, s.Messages())
			}
			var chal string
			for _, e := range s.Trace() {
				if v, ok := sippHeader(e.Text, challengeHdr); ok && e.Sent {
					chal = v
				}
			}
			for _, want := range []string{`Digest realm="sipp"`, `nonce="`, "algorithm=MD5", `qop="auth"`} {
				if !strings.Contains(chal, want) {
					t.Errorf("%s: %q lacks %q", challengeHdr, chal, want)
				}
			}
			if err := s.VerifyDigest(credHdr, "alice", "secret"); (err == nil) != tc.digestOK {
				t.Errorf("VerifyDigest = %v, want ok=%v", err, tc.digestOK)
			}

			if tc.want != sip.StatusOK {
				var de *sipgo.ErrDialogResponse
				if !errors.As(err, &de) || de.Res.StatusCode != tc.want {
					t.Fatalf("answer = %v (responses %v), want %d\n%s", err, codes, tc.want, s.Messages())
				}
				waitSipp(t, s, SippExitFailed)
			} else {
				if err != nil {
					t.Fatalf("answer = %v (responses %v)\n%s", err, codes, s.Messages())
				}
				if !strings.Contains(string(d.InviteResponse.Body()), "m=audio ") {
					t.Errorf("200 OK without SDP:\n%s", d.InviteResponse)
				}
				if err := d.Ack(ctx); err != nil {
					t.Fatal(err)
				}
				if err := d.Bye(ctx); err != nil {
					t.Fatalf("BYE: %v\n%s", err, s.Messages())
				}
				waitSipp(t, s, SippExitOK)
			}
			if !strings.Contains(s.ActionLog(), tc.log) {
				t.Errorf("action log = %q, want %q", s.ActionLog(), tc.log)
			}
		})
	}
}

// TestSippAuthDigest answers the challenge with hand-made (icholy/digest)
// credentials: right, for another realm or nonce than challenged, or none.
func TestSippAuthDigest(t *testing.T) {
	for _, tc := range []struct {
		scenario, name, user, realm, nonce string
		none                               bool
		want                               int
		log                                string // in the action log
	}{
		{"uas_auth", "good", "alice", "", "", false, sip.StatusOK, "digest_ok=true user_ok=true realm_ok=true nonce_ok=true\nAUTH-VALID: true"},
		{"uas_auth", "user", "mallory", "", "", false, sip.StatusForbidden, "user=mallory "},
		// verifyauth takes realm and nonce from the Authorization itself:
		// digest_ok=true, and only the scenario's own checks refuse them.
		{"uas_auth", "realm", "alice", "other", "", false, sip.StatusForbidden, "digest_ok=true user_ok=true realm_ok=false nonce_ok=true"},
		{"uas_auth", "nonce", "alice", "", "stale", false, sip.StatusForbidden, "digest_ok=true user_ok=true realm_ok=true nonce_ok=false"},
		{"uas_auth", "none", "", "", "", true, sip.StatusForbidden, "AUTHORIZATION: user= realm= nonce= response= digest_ok=false"},
		{"uas_proxy_auth", "good", "alice", "", "", false, sip.StatusOK, "user_ok=true realm_ok=true nonce_ok=true\nAUTH-VALID: true"},
		{"uas_proxy_auth", "realm", "alice", "other", "", false, sip.StatusForbidden, "user_ok=true realm_ok=false nonce_ok=true"},
		{"uas_proxy_auth", "nonce", "alice", "", "stale", false, sip.StatusForbidden, "user_ok=true realm_ok=true nonce_ok=false"},
		{"uas_proxy_auth", "none", "", "", "", true, sip.StatusForbidden, "PROXY-AUTHORIZATION: user= realm= nonce= response= user_ok=false"},
	} {
		t.Run(tc.scenario+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), sippTestTimeout)
			defer cancel()
			s := StartSippUAS(t, SippOptions{Scenario: tc.scenario})
			c := newSippCaller(t)
			challenge, challengeHdr, credHdr := sip.StatusUnauthorized, "WWW-Authenticate", "Authorization"
			if tc.scenario == "uas_proxy_auth" {
				challenge, challengeHdr, credHdr = sip.StatusProxyAuthRequired, "Proxy-Authenticate", "Proxy-Authorization"
			}
			req := sip.NewRequest(sip.INVITE, sippTarget(t, s, "bob"))
			req.AppendHeader(sip.NewHeader("Contact", "<sip:alice@127.0.0.1>"))
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			req.SetBody(offerSDP(40000))
			res, err := c.client.Do(ctx, req)
			if err != nil || res.StatusCode != challenge {
				t.Fatalf("first INVITE = %v, %v; want %d\n%s", res, err, challenge, s.Messages())
			}
			if !tc.none {
				chal, err := digest.ParseChallenge(res.GetHeader(challengeHdr).Value())
				if err != nil {
					t.Fatal(err)
				}
				if tc.realm != "" {
					chal.Realm = tc.realm
				}
				if tc.nonce != "" {
					chal.Nonce = tc.nonce
				}
				cred, err := digest.Digest(chal, digest.Options{
					Method: "INVITE", URI: req.Recipient.Addr(), Username: tc.user, Password: "secret",
					Cnonce: "0a4f113b", Count: 1,
				})
				if err != nil {
					t.Fatal(err)
				}
				req.AppendHeader(sip.NewHeader(credHdr, cred.String()))
			}
			req.CSeq().SeqNo++
			req.RemoveHeader("Via")
			res, err = c.client.Do(ctx, req, sipgo.ClientRequestAddVia)
			if err != nil || res.StatusCode != tc.want {
				t.Fatalf("second INVITE = %v, %v; want %d\n%s\n%s", res, err, tc.want, s.Messages(), s.ActionLog())
			}
			if !strings.Contains(s.ActionLog(), tc.log) {
				t.Errorf("action log lacks %q:\n%s", tc.log, s.ActionLog())
			}
			if tc.want != sip.StatusOK {
				waitSipp(t, s, SippExitFailed)
				if !strings.Contains(s.ActionLog(), "AUTH-VALID: false") {
					t.Errorf("action log lacks AUTH-VALID: false:\n%s", s.ActionLog())
				}
				return
			}
			if err := s.VerifyDigest(credHdr, "alice", "secret"); err != nil {
				t.Error(err)
			}
			// Finish the call by hand: ACK and BYE within the dialog.
			ack := sip.NewRequest(sip.ACK, req.Recipient)
			bye := sip.NewRequest(sip.BYE, req.Recipient)
			for i, r := range []*sip.Request{ack, bye} {
				r.AppendHeader(sip.HeaderClone(req.From()))
				r.AppendHeader(sip.HeaderClone(res.To()))
				r.AppendHeader(sip.HeaderClone(req.CallID()))
				method, seq := sip.ACK, req.CSeq().SeqNo
				if i == 1 {
					method, seq = sip.BYE, seq+1
				}
				r.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
			}
			if err := c.client.WriteRequest(ack); err != nil {
				t.Fatal(err)
			}
			if res, err := c.client.Do(ctx, bye); err != nil || res.StatusCode != sip.StatusOK {
				t.Fatalf("BYE = %v, %v\n%s", res, err, s.Messages())
			}
			waitSipp(t, s, SippExitOK)
		})
	}
}

func TestSippMessage(t *testing.T) {
	for _, scenario := range []string{"uas_message", "uas_message_check"} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), sippTestTimeout)
			defer cancel()
			s := StartSippUAS(t, SippOptions{Scenario: scenario})
			c := newSippCaller(t)
			const text = "hello from dialtone, ünïcode & <xml>"
			req := sip.NewRequest(sip.MESSAGE, sippTarget(t, s, "bob"))
			req.AppendHeader(sip.NewHeader("Content-Type", "text/plain;charset=UTF-8"))
			req.SetBody([]byte(text))
			res, err := c.client.Do(ctx, req)
			if err != nil || res.StatusCode != sip.StatusOK {
				t.Fatalf("MESSAGE = %v, %v; want 200\n%s", res, err, s.Messages())
			}
			waitSipp(t, s, SippExitOK)
			if !strings.Contains(s.Messages(), text) {
				t.Errorf("trace lacks the body:\n%s", s.Messages())
			}
			if scenario != "uas_message_check" {
				return
			}
			log := s.ActionLog()
			for _, want := range []string{
				"MESSAGE-BODY: " + text + "\n",
				"MESSAGE-CONTENT-TYPE: text/plain;charset=UTF-8\n",
				"MESSAGE-FROM: ",
			} {
				if !strings.Contains(log, want) {
					t.Errorf("action log lacks %q:\n%s", want, log)
				}
			}
		})
	}
}

// TestSippCalls handles two calls in one sipp, one of them failing.
func TestSippCalls(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), sippTestTimeout)
	defer cancel()
	s := StartSippUAS(t, SippOptions{Scenario: "uas_auth", Calls: 2, Vars: map[string]string{"auth_pass": "pw2"}})
	c := newSippCaller(t)
	for _, pass := range []string{"pw2", "secret"} {
		d, _, err := sippInvite(ctx, t, s, c, sipgo.AnswerOptions{Username: "alice", Password: pass}, 40000)
		if pass == "secret" {
			if err == nil {
				t.Fatal("the default password was accepted despite Vars")
			}
			continue
		}
		if err != nil {
			t.Fatalf("answer: %v\n%s", err, s.Messages())
		}
		if err := d.Ack(ctx); err != nil {
			t.Fatal(err)
		}
		if err := d.Bye(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitSipp(t, s, SippExitFailed)
}

// TestSippUAC runs sipp's own UAC (sipp -sn uac) against uas_echo.
func TestSippUAC(t *testing.T) {
	t.Parallel()
	s := StartSippUAS(t, SippOptions{Scenario: "uas_echo", RTPEcho: true})
	bin, _ := findBinary("sipp")
	ctx, cancel := context.WithTimeout(context.Background(), sippTestTimeout)
	defer cancel()
	dir := t.TempDir()
	var ports Sipp // the UAC's own free ports (its default media port 6000 may be taken)
	if err := ports.pickPorts(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "-sn", "uac", s.HostPort(),
		"-s", "bob", "-i", "127.0.0.1", "-p", strconv.Itoa(ports.port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(ports.mediaPort),
		"-ci", "127.0.0.1", "-cp", strconv.Itoa(ports.ctlPort), "-m", "1", "-d", "100", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "uac_errors.log"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		e, _ := os.ReadFile(filepath.Join(dir, "uac_errors.log"))
		t.Fatalf("sipp uac: %v\n%s\n%s\n--- uas ---\n%s", err, out, e, s.Messages())
	}
	waitSipp(t, s, SippExitOK)
}

// TestSippScenarioPath runs a scenario given by path, and checks URI, Stop
// and the embedded scenario list.
func TestSippScenarioPath(t *testing.T) {
	t.Parallel()
	if _, ok := findBinary("sipp"); !ok {
		t.Skip("sipp not installed")
	}
	for _, name := range SippScenarios() {
		if _, err := os.Stat(filepath.Join("testdata", "sipp", name+".xml")); err != nil {
			t.Errorf("embedded scenario %s: %v", name, err)
		}
	}
	s := StartSippUAS(t, SippOptions{Scenario: filepath.Join("testdata", "sipp", "uas_notfound.xml")})
	if got, want := s.URI("bob"), "sip:bob@127.0.0.1:"+strconv.Itoa(s.Port()); got != want {
		t.Errorf("URI = %q, want %q", got, want)
	}
	s.Stop()
	if _, err := s.Wait(time.Second); err != nil {
		t.Errorf("stopped sipp: %v", err)
	}
	s.Stop() // no-op
	if _, err := sippScenarioFile(t.TempDir(), "uas_nonesuch"); err == nil || !strings.Contains(err.Error(), "uas_echo") {
		t.Errorf("unknown scenario: err = %v, want one listing the scenarios", err)
	}
}
