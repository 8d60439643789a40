package peers

import (
	"log/slog"
	"os"

	"github.com/emiago/sipgo/sip"
)

// PEERS_SIP_DEBUG=1 dumps every SIP message sipgo sends or receives in the
// tests, which together with Kamailio.Log() is usually enough to see where a
// request went.
func init() {
	if os.Getenv("PEERS_SIP_DEBUG") != "" {
		sip.SIPDebug = true
		sip.SetDefaultLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
}
