package main

import (
	"encoding/json"
	"fmt"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// redirectedRecord is the NDJSON line of an outgoing call redirected by a 3xx: peer is where
// the call goes now, redirected_from where it went before.
type redirectedRecord struct {
	Event          string `json:"event"`
	Time           string `json:"time"`
	Account        string `json:"account,omitempty"`
	CallID         string `json:"call_id"`
	Peer           string `json:"peer"`
	RedirectedFrom string `json:"redirected_from"`
	Code           int    `json:"code,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// redirected prints that an outgoing call goes on to another target (phone.CallRedirected).
func (p *printer) redirected(e phone.CallRedirected) {
	if p.justRedirected == nil {
		p.justRedirected = map[string]bool{}
	}
	p.justRedirected[e.CallID] = true
	if p.json {
		b, err := json.Marshal(redirectedRecord{Event: "redirected", Time: stamp(e.Time), Account: e.Account,
			CallID: e.CallID, Peer: e.To, RedirectedFrom: e.From, Code: e.Code, Reason: e.Reason})
		if err != nil {
			b = []byte(fmt.Sprintf(`{"event":"error","time":%q,"error":%q}`, stamp(e.Time), err.Error()))
		}
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	why := "no answer there"
	if e.Code != 0 {
		why = fmt.Sprintf("%d %s", e.Code, e.Reason)
	}
	// The targets and the reason come from the network: cleaned of control characters.
	fmt.Fprintln(p.w, common.Clean(fmt.Sprintf("%s %s: redirected to %s (%s)", e.Time.Format("15:04:05"), e.CallID, p.names.label(e.To, ""), why)))
}
