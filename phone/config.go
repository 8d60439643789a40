package phone

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
)

// Config is everything the phone core needs; front ends build it from files and flags.
type Config struct {
	Accounts []Account
	// ListenAddr is the local SIP address (host:port) for UDP; "" means any free port on all interfaces.
	ListenAddr string
	// UserAgent is sent in the User-Agent header.
	UserAgent string
	// TLS is the client TLS configuration (roots, verification). nil means system roots, verified.
	TLS *tls.Config
	// Logger receives the core's logs; nil discards them.
	Logger *slog.Logger
	// KeepAlive is how often a registration sends a keep-alive to its first hop: a CRLF over
	// UDP, so that a NAT keeps the way in open; a CRLFCRLF ping over TCP and TLS, whose missing
	// pong shows a dead connection. 0 means 25 s, negative turns it off.
	KeepAlive time.Duration
	// MaxCalls is how many calls may exist at once; more incoming calls get 486 Busy Here.
	// 0 means 4.
	MaxCalls int
	// Messages stores instant messages (and answers "seen before?"); nil keeps none, and
	// retransmissions are recognised for a minute in memory.
	Messages MessageStore
	// Calls records every call when it ends; nil keeps none.
	Calls CallStore
	// RTPPortMin and RTPPortMax bound the local RTP ports (RTCP uses port+1); 0 means 10000-60000.
	RTPPortMin, RTPPortMax int
	// MediaTap sees every plain RTP and RTCP packet of every call (a capture file); nil, none.
	MediaTap media.Tap
	// STUNServer is host[:port] (default port 3478) of a STUN server (RFC 5389) asked for our
	// public address when an account names none; "" asks none.
	STUNServer string
	// TURN is the relay used when an account names none; nil uses none.
	TURN *TURNServer
	// Codecs is the codec preference, best first, by codec name ("opus", "G722", "PCMU",
	// "PCMA"), for accounts that name none and for calls without an account; nil means every
	// codec this build has, wideband first.
	Codecs []string
	// Ptime is the packet duration, in ms, our SDP asks the far end to send (a=ptime, RFC 4566
	// §6), for accounts that name none and for calls without an account; 0 means 20. Packets
	// of any duration from 2.5 to 120 ms play whole whatever it says; what we send follows the
	// far end's a=ptime (media.Params.Ptime).
	Ptime int
	// MediaEncryption is the SRTP policy ("none", "sdes", "sdes-required") for accounts that
	// name none and for calls without an account; "" means "sdes" when the call's signalling
	// goes over TLS and "none" otherwise.
	MediaEncryption string
	// Parallel answers calls side by side: answering one does not put the others on hold, as
	// call waiting does for a person. For an automatic answerer serving many callers at once.
	Parallel bool
	// AutoAnswer says the front end answers every incoming call at once (an answering machine,
	// a load target): such a call gets its 200 OK with no 180 Ringing before it unless the
	// answer takes longer than 100 ms, and an RTP port pair is kept bound for the next call.
	AutoAnswer bool
	// AutoAnswerAudio, with AutoAnswer, lets the phone answer each incoming call itself, on
	// the call's own goroutine, as soon as it arrives, with the audio this returns (see
	// AutoAnswerFunc, autoanswer.go); nil leaves the answer to the front end (Phone.Answer).
	AutoAnswerAudio AutoAnswerFunc
	// DNDCode is the response do-not-disturb refuses new calls with until SetDND names another
	// (400-699; 0 means 486 Busy Here, 603 Decline is the other usual choice).
	DNDCode int
	// RTPTimeout ends an answered call that has received no RTP or RTCP for this long (the far
	// end or the network is gone); 0 means 30 s, negative never ends a call for silence.
	RTPTimeout time.Duration
	// DNSServer is the DNS server (host[:port], default port 53) asked for NAPTR, SRV and
	// A/AAAA records when locating SIP servers; "" uses the system's (/etc/resolv.conf).
	DNSServer string
}

// TURNServer is a media relay (RFC 8656) for networks where no direct path works (symmetric
// NAT with a provider that relays nothing).
type TURNServer struct {
	Addr     string // host[:port], default port 3478, UDP
	User     string // long-term credential user name
	Password PasswordFunc
}

// PasswordFunc returns an account's password. It is called only when a server challenges us,
// so that a password command runs only when it is needed.
type PasswordFunc func(ctx context.Context) (string, error)

// Account is one SIP identity.
type Account struct {
	Name          string
	AOR           string // sip:user@domain
	AuthUser      string // digest user name; default the AOR user
	DisplayName   string
	Registrar     string // sip:host[:port]; default sip:<AOR host>
	OutboundProxy string // sip:host[:port]; "" sends to the registrar or request URI directly
	Transport     Transport
	Expires       time.Duration // requested registration lifetime
	Register      bool          // register at start-up
	Password      PasswordFunc
	// STUNServer overrides Config.STUNServer for this account ("" inherits it).
	STUNServer string
	// TURN overrides Config.TURN for this account (nil inherits it).
	TURN *TURNServer
	// Codecs, Ptime and MediaEncryption override Config's for this account's calls (nil, 0,
	// "" inherit).
	Codecs          []string
	Ptime           int
	MediaEncryption string
}

// account is an Account with its URIs parsed once.
type account struct {
	Account
	aor       sip.Uri
	registrar sip.Uri
	proxy     *sip.Uri
}

func parseAccount(a Account) (*account, error) {
	pa := &account{Account: a}
	if a.Name == "" {
		return nil, fmt.Errorf("account has no name")
	}
	if err := sip.ParseUri(a.AOR, &pa.aor); err != nil {
		return nil, fmt.Errorf("account %s: aor %q: %w", a.Name, a.AOR, err)
	}
	if pa.aor.User == "" || pa.aor.Host == "" {
		return nil, fmt.Errorf("account %s: aor %q needs a user and a host (sip:user@domain)", a.Name, a.AOR)
	}
	reg := a.Registrar
	if reg == "" {
		reg = "sip:" + pa.aor.Host
	}
	if err := sip.ParseUri(reg, &pa.registrar); err != nil {
		return nil, fmt.Errorf("account %s: registrar %q: %w", a.Name, reg, err)
	}
	pa.registrar.User = ""
	if a.Ptime != 0 {
		if err := sdp.CheckPtime(a.Ptime); err != nil {
			return nil, fmt.Errorf("account %s: %w", a.Name, err)
		}
	}
	if a.OutboundProxy != "" {
		var p sip.Uri
		if err := sip.ParseUri(a.OutboundProxy, &p); err != nil {
			return nil, fmt.Errorf("account %s: outbound proxy %q: %w", a.Name, a.OutboundProxy, err)
		}
		pa.proxy = &p
	}
	if pa.AuthUser == "" {
		pa.AuthUser = pa.aor.User
		if u, err := url.PathUnescape(pa.AuthUser); err == nil {
			pa.AuthUser = u // "alice%40corp" is URI syntax: the digest user is "alice@corp"
		}
	}
	if pa.Expires <= 0 {
		pa.Expires = 600 * time.Second
	}
	return pa, nil
}
