//go:build linux

package phone

import (
	"strings"
	"testing"
)

// TestTCPFlowCloseIsNoticedWithoutPolling: with keep-alives off, nothing but the kernel's
// word (the epoll watch on the connection) can tell the keeper that the registrar closed the
// connection before its fallback look, flowFallback (30 s) later; nextState gives up after 15 s.
func TestTCPFlowCloseIsNoticedWithoutPolling(t *testing.T) {
	r := startTCPRegistrar(t)
	events := startTCPPhone(t, r.ln.Addr().String(), -1)
	first := nextState(t, events, Registered)
	r.closeAll()
	rec := nextState(t, events, Recovering)
	if !strings.Contains(rec.Reason, "closed") {
		t.Fatalf("recovering reason %q, want it to say the connection closed", rec.Reason)
	}
	again := nextState(t, events, Registered)
	checkReplaced(t, r, first.Contact, again.Contact)
}
