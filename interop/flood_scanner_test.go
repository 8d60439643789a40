package interop

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scanAgents are the User-Agents of the scanner flood: two scanners that Kamailio's default
// configuration drops (friendly-scanner is sipvicious's default), none at all, and two
// ordinary ones.
var scanAgents = []string{"friendly-scanner", "sipvicious", "", "Zoiper rv2.10.20.2", "Asterisk PBX 20.5.0"}

// isScanAgent: the agents dialtone must not answer.
func isScanAgent(ua string) bool { return ua == "friendly-scanner" || ua == "sipvicious" }

// scanKey classifies a request or its answer: "OPTIONS friendly-scanner", "REGISTER ", ...
type scanKey struct{ method, agent string }

// scanResult is what a scanner flood sent and got back.
type scanResult struct {
	sent    map[scanKey]int
	codes   map[scanKey]map[int]int // answers by status code
	bad     []string                // answers missing what they must carry
	elapsed time.Duration
}

// scanFlood sends total out-of-dialog OPTIONS and REGISTERs to target from sources ports of
// src (another loopback address: a foreign host), rate a second, cycling through the methods
// and scanAgents, and collects the answers until a second after the last request.
func scanFlood(t *testing.T, src, target string, total, sources, rate int) scanResult {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp4", target)
	if err != nil {
		t.Fatal(err)
	}
	var conns []*net.UDPConn
	for range sources {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(src)})
		if err != nil {
			t.Skipf("cannot send from %s (a second loopback address): %v", src, err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetReadBuffer(1 << 20)
		conns = append(conns, c)
	}
	r := scanResult{sent: map[scanKey]int{}, codes: map[scanKey]map[int]int{}}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	stop := make(chan struct{})
	for _, c := range conns {
		wg.Go(func() {
			buf := make([]byte, 8192)
			for {
				_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					select {
					case <-stop:
						return
					default:
						continue
					}
				}
				msg := string(buf[:n])
				k, code, problem := parseScanAnswer(msg)
				mu.Lock()
				if r.codes[k] == nil {
					r.codes[k] = map[int]int{}
				}
				r.codes[k][code]++
				if problem != "" && len(r.bad) < 10 {
					r.bad = append(r.bad, problem+": "+msg)
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	const burst = 10
	for i := range total {
		k := scanKey{[]string{"OPTIONS", "REGISTER"}[i%2], scanAgents[(i/2)%len(scanAgents)]}
		c := conns[i%len(conns)]
		req := scanRequest(k, target, c.LocalAddr().String(), i)
		if _, err := c.WriteToUDP([]byte(req), to); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		r.sent[k]++
		if i%burst == burst-1 { // pace: burst requests, then wait for the schedule
			if d := time.Until(start.Add(time.Duration(i+1) * time.Second / time.Duration(rate))); d > 0 {
				time.Sleep(d)
			}
		}
	}
	r.elapsed = time.Since(start)
	time.Sleep(time.Second) // the last answers
	close(stop)
	wg.Wait()
	return r
}

// scanRequest is one scanner request; its Call-ID carries the method and agent index so the
// answer can be classified.
func scanRequest(k scanKey, target, from string, i int) string {
	ua := ""
	if k.agent != "" {
		ua = "User-Agent: " + k.agent + "\r\n"
	}
	agent := 0
	for j, a := range scanAgents {
		if a == k.agent {
			agent = j
		}
	}
	host, _, _ := net.SplitHostPort(target)
	return fmt.Sprintf("%s sip:%d@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-scan%d;rport\r\nMax-Forwards: 70\r\n"+
		"From: \"%d\" <sip:%d@%s>;tag=s%d\r\nTo: \"%d\" <sip:%d@%s>\r\nCall-ID: scan.%s.%d.%d\r\nCSeq: 1 %s\r\n"+
		"Contact: <sip:%d@%s>\r\n%sAccept: application/sdp\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
		k.method, 100+i%900, host, from, i, 100+i%900, 100+i%900, host, i, 100+i%900, 100+i%900, host,
		k.method, agent, i, k.method, 100+i%900, from, ua)
}

// parseScanAnswer classifies an answer by its Call-ID and checks what it must carry: an
// Allow header on both, Accept on the 200 to OPTIONS, a To tag.
func parseScanAnswer(msg string) (scanKey, int, string) {
	line, _, _ := strings.Cut(msg, "\r\n")
	f := strings.Fields(line)
	code := 0
	if len(f) >= 2 && f[0] == "SIP/2.0" {
		code, _ = strconv.Atoi(f[1])
	}
	var k scanKey
	cid := strings.Split(sipHeader(msg, "Call-ID"), ".")
	if len(cid) == 4 {
		k.method = cid[1]
		if a, err := strconv.Atoi(cid[2]); err == nil && a >= 0 && a < len(scanAgents) {
			k.agent = scanAgents[a]
		}
	}
	switch {
	case code == 0:
		return k, code, "not a SIP response"
	case sipHeader(msg, "Allow") == "":
		return k, code, "no Allow"
	case k.method == "OPTIONS" && code == 200 && sipHeader(msg, "Accept") == "":
		return k, code, "no Accept"
	case !strings.Contains(sipHeader(msg, "To"), ";tag="):
		return k, code, "no To tag"
	}
	return k, code, ""
}

// sipHeader is the value of the first header name in msg, "" when absent.
func sipHeader(msg, name string) string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
