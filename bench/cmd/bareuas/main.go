// Command bareuas is the reference of BenchmarkAnswerTurnaround: the least a sipgo UAS can do
// to answer a call (200 OK with a fixed G.711 answer at once, 200 to BYE), so the benchmark can
// tell dialtone's own answer path from the SIP stack it is built on. With -negotiate it does
// the least a UAS that really answers the offer must add: it reads the offer (pion/sdp), answers
// the first G.711 format offered, and answers in a dialog (sipgo's DialogUA: a To tag, the 200
// retransmitted until the ACK, the BYE matched to the dialog). It is not part of the product
// and is built only by the benchmark.
//
//	bareuas -listen 127.0.0.1:5099 -count 100 [-negotiate]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address to answer on")
	count := flag.Int("count", 1, "exit after this many calls have ended (BYE)")
	negotiate := flag.Bool("negotiate", false, "answer the offer in a dialog instead of with a fixed 200")
	flag.Parse()
	if err := run(*listen, *count, *negotiate); err != nil {
		fmt.Fprintln(os.Stderr, "bareuas:", err)
		os.Exit(1)
	}
}

func run(listen string, count int, negotiate bool) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	slog.SetLogLoggerLevel(slog.LevelWarn)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("bareuas"))
	if err != nil {
		return fmt.Errorf("user agent: %w", err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	var ended atomic.Int64
	bye := func() {
		if ended.Add(1) >= int64(count) {
			cancel()
		}
	}
	if negotiate {
		if err := negotiating(ctx, ua, srv, listen, bye); err != nil {
			return err
		}
	} else {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			host := req.Destination() // the address the INVITE reached: ours
			sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
				"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n")
			res := sip.NewResponseFromRequest(req, 200, "OK", []byte(sdp))
			res.AppendHeader(sip.NewHeader("Contact", "<sip:bareuas@"+host+">"))
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			_ = tx.Respond(res)
		})
		srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			bye()
		})
	}
	err = srv.ListenAndServe(ctx, "udp", listen)
	if ctx.Err() != nil {
		return nil // every call done, or told to stop
	}
	return fmt.Errorf("listen %s: %w", listen, err)
}
