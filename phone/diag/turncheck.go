package diag

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/nat"
)

// turnTimeout bounds the allocation: pion retransmits for much longer on a dead server.
const turnTimeout = 8 * time.Second

// checkTURN allocates a relay on the configured TURN server the way a call would (the media
// package's own code, from an RTP/RTCP socket pair) and frees it again. A broken relay is a
// failure where the NAT needs it (symmetric, or not known) and a warning where it does not.
func checkTURN(ctx context.Context, in *Input, kind nat.Kind) *Check {
	c := &Check{Name: "turn", Title: "TURN relay"}
	if in.TURN == nil || in.TURN.Addr == "" {
		c.skip("no turn_server configured")
		if kind == nat.Symmetric {
			c.Fix = "set turn_server, turn_user and a turn_password_* (see nat)"
		}
		return c
	}
	c.add("turn_server", in.TURN.Addr)
	c.add("turn_user", in.TURN.User)
	needed := kind == nat.Symmetric || kind == nat.Unknown
	bad := func(f phone.Failure, verdict, fix string) *Check {
		if needed {
			c.fail(f, verdict, fix)
		} else {
			c.warn(verdict+" (not needed behind this "+kind.String()+" NAT, but calls from a symmetric one would have no audio)", fix)
		}
		return c
	}
	server, err := nat.ResolveServer(ctx, in.TURN.Addr, "udp4")
	if err != nil {
		c.add("error", err.Error())
		return bad(phone.FailureNetwork, "the TURN server "+in.TURN.Addr+" cannot be resolved", "check turn_server (HOST[:PORT])")
	}
	password := ""
	if in.TURN.Password != nil {
		if password, err = in.TURN.Password(ctx); err != nil {
			c.add("error", err.Error())
			return bad(phone.FailureConfig, "the TURN password source gives no password: "+err.Error(), "fix turn_password_env, turn_password_file or turn_password_cmd")
		}
	}
	conn, local, err := routedSocket(server)
	if err != nil {
		return bad(phone.FailureNetwork, "no route to the TURN server "+server.String()+": "+err.Error(), "check the network")
	}
	conn.Close() // only its address was wanted: the media session opens its own pair there
	sess, err := media.Open(media.Config{IP: local.Addr(), Logger: in.Config.Logger})
	if err != nil {
		return bad(phone.FailureNetwork, "no local RTP socket: "+err.Error(), "check the rtp_ports range")
	}
	defer sess.Close()
	actx, cancel := context.WithTimeout(ctx, turnTimeout)
	defer cancel()
	start := time.Now()
	rtp, rtcp, err := sess.UseRelay(actx, media.Relay{Server: server, User: in.TURN.User, Password: password})
	c.add("time_ms", ms(time.Since(start)))
	if err != nil {
		c.add("error", err.Error())
		switch {
		case strings.Contains(err.Error(), "401"), strings.Contains(err.Error(), "Unauthorized"):
			return bad(phone.FailureAuth, "the TURN server rejected the credentials of "+fmt.Sprintf("%q", in.TURN.User),
				"check turn_user and the TURN password")
		case errors.Is(err, context.DeadlineExceeded):
			return bad(phone.FailureNetwork, fmt.Sprintf("the TURN server %s did not answer within %s", server, turnTimeout),
				"check turn_server (host, port 3478/udp) and the firewall")
		}
		return bad(phone.FailureRefused, "the TURN server refused the allocation: "+err.Error(), "send this report to the relay's operator")
	}
	c.add("relayed_rtp", rtp.String())
	c.add("relayed_rtcp", rtcp.String())
	c.Note = "a relay was allocated and freed again"
	return c
}
