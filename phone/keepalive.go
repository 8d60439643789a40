package phone

import (
	"context"
	"net"
	"time"
)

// defaultKeepAlive is how often a registration sends a keep-alive (CRLF over UDP, a CRLFCRLF
// ping over TCP and TLS). NATs commonly forget an idle UDP mapping after 30 to 60 s, and the
// mapping is the only way incoming calls reach a phone behind one; 25 s stays under the
// shortest common timeout. TCP mappings live longer (RFC 5626 suggests 95 to 120 s), but one
// setting for both keeps the configuration simple and a ping is only 4 bytes.
const defaultKeepAlive = 25 * time.Second

// keepAliveEvery is the configured keep-alive interval; 0 means off.
func (p *Phone) keepAliveEvery() time.Duration {
	switch {
	case p.cfg.KeepAlive < 0:
		return 0
	case p.cfg.KeepAlive == 0:
		return defaultKeepAlive
	}
	return p.cfg.KeepAlive
}

// startKeepAlive starts what keeps account i's registration reachable (owned by regWG): CRLF
// keep-alives from the SIP socket over UDP; over TCP and TLS, CRLFCRLF pings on the
// registration's connection and a watch that reports its death to the loop (flow.go).
func (p *Phone) startKeepAlive(ctx context.Context, stack *stack, i int, acc *account, wire *sipRegistrar, lost chan<- flowLoss) {
	every := p.keepAliveEvery()
	switch {
	case acc.Transport != UDP:
		p.keepFlow(ctx, stack, i, acc, lost)
	case every > 0:
		p.regWG.Go(func() { p.keepAlive(ctx, stack, i, wire, every, lost) })
	}
}

// sleptMin is the shortest suspend after which a registration is made again at once.
const sleptMin = 10 * time.Second

// wakeMark is a reading of two clocks (markNow): one that runs on while the machine is
// suspended (boot) and one that stops (mono).
type wakeMark struct{ boot, mono time.Duration }

// asleep is how long the machine was suspended between the readings prev and now. Every
// timer runs on Go's monotonic clock, which stops in a suspend (CLOCK_MONOTONIC on Linux), so
// after a resume a refresh that fell due during the sleep still waits out its remaining awake
// time, and the binding, which the registrar dropped meanwhile, reads as valid: incoming
// calls failed for up to half the binding's lifetime. A variable for tests.
var asleep = func(prev, now wakeMark) time.Duration {
	return max(0, (now.boot-prev.boot)-(now.mono-prev.mono))
}

// natCheckTicks is how many keep-alives go between two checks of the NAT's mapping (with the
// default 25 s interval, one OPTIONS every 100 s).
const natCheckTicks = 4

// keepAlive sends a double CRLF (RFC 5626 section 4.4.1) from the SIP socket to account i's
// registrar (or outbound proxy) every interval while the account has a binding: registered,
// or after a refresh that failed, until the binding's lifetime runs out (the registrar still
// sends calls there meanwhile, and they must still find the NAT's mapping). Registrars ignore
// it; the NAT in between sees traffic and keeps the mapping.
//
// Every natCheckTicks keep-alives, an OPTIONS asks the registrar where it sees us when behind
// NAT, and the routing table which address reaches it when not (sipRegistrar.natMoved): a
// mapping the NAT has changed, or a local address that changed, is reported on lost, and the
// account registers again at once, as for a TCP connection that died. So is a suspend of the
// machine (asleep) found at a tick.
func (p *Phone) keepAlive(ctx context.Context, stack *stack, i int, wire *sipRegistrar, interval time.Duration, lost chan<- flowLoss) {
	crlf := []byte("\r\n\r\n")
	var until time.Time // the end of the last binding granted
	ticks := 0
	woke := markNow()
	tell := func(l flowLoss) { // the account registers again at once
		select {
		case lost <- l:
		default: // a report waits already
		}
	}
	for {
		t := p.clock.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		p.mu.Lock()
		st := p.statuses[i]
		p.mu.Unlock()
		switch st.State {
		case Registered:
			until = st.Time.Add(st.Expires)
		case Unregistered:
			until = time.Time{}
		}
		prev := woke
		woke = markNow()
		if slept := asleep(prev, woke); slept >= sleptMin && st.State == Registered {
			p.log.Info("the computer was asleep; registering again", "account", wire.acc.Name, "for", slept.Round(time.Second).String())
			tell(flowLoss{flow: flowOf(st.Contact), reason: "the computer was asleep for " + slept.Round(time.Second).String(), slept: true})
			continue
		}
		target := wire.lastTarget()
		if !p.clock.Now().Before(until) || target == "" {
			continue
		}
		addr, err := net.ResolveUDPAddr("udp", target) // already an ip:port: no DNS
		if err != nil {
			continue
		}
		conn := stack.udp
		if stack.udp6 != nil && isIPv6Target(target) {
			conn = stack.udp6 // the socket the registration went out of
		}
		if _, err := conn.WriteTo(crlf, addr); err != nil {
			p.log.Debug("keep-alive", "account", wire.acc.Name, "err", err)
		}
		if ticks++; ticks%natCheckTicks != 0 || st.State != Registered {
			continue
		}
		if now, moved := wire.natMoved(ctx); moved {
			p.log.Info("our address as the registrar sees it changed; registering again", "account", wire.acc.Name, "was", st.Contact, "now", now)
			tell(flowLoss{flow: flowOf(st.Contact), reason: "our address changed (now " + now + ")"})
		}
	}
}
