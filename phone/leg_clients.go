package phone

import (
	"log/slog"
	"sync"

	"github.com/emiago/sipgo"
)

// clientCache keeps the sipgo clients of a stack by what they were made with, so that a call
// (every incoming one especially) does not build its own: a sipgo.Client holds nothing of a
// call (the user agent, our host and port, the socket to send from), and making one was ~3 µs
// of INVITE → 200 OK (more on a cold cache).
type clientCache struct {
	mu      sync.Mutex
	clients map[clientKey]*sipgo.Client
}

// clientKey is every option legFor makes a client with; "" host for a client without options
// (TCP and TLS, which find their connection by destination).
type clientKey struct {
	host     string // WithClientHostname
	port     int    // WithClientPort
	connAddr string // WithClientConnectionAddr
}

// maxClients bounds the cache: a phone has a few local addresses, but a key is cheap to make
// from whatever legFor sees, and a cache must not grow without bound.
const maxClients = 64

// get returns the client for k, made with opts (which k describes) the first time.
func (cc *clientCache) get(ua *sipgo.UserAgent, log *slog.Logger, k clientKey, opts ...sipgo.ClientOption) (*sipgo.Client, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c, ok := cc.clients[k]; ok {
		return c, nil
	}
	c, err := sipgo.NewClient(ua, append([]sipgo.ClientOption{sipgo.WithClientLogger(log)}, opts...)...)
	if err != nil {
		return nil, err
	}
	if cc.clients == nil {
		cc.clients = map[clientKey]*sipgo.Client{}
	}
	if len(cc.clients) < maxClients {
		cc.clients[k] = c
	}
	return c, nil
}
