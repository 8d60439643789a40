package main

import (
	"encoding/json"
	"fmt"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// transferRecord is the NDJSON line of a transfer's progress. It is its own type because
// "final" must be printed when false too: a script waits for the line with "final":true.
type transferRecord struct {
	Event   string `json:"event"`
	Time    string `json:"time"`
	Account string `json:"account,omitempty"`
	CallID  string `json:"call_id"`
	Code    int    `json:"code"`
	Reason  string `json:"reason,omitempty"`
	Final   bool   `json:"final"`
}

// transfer prints how a transfer we asked for goes (the transferee's NOTIFYs).
func (p *printer) transfer(e phone.TransferProgress) {
	if p.json {
		b, err := json.Marshal(transferRecord{Event: "transfer", Time: stamp(e.Time), Account: e.Account,
			CallID: e.CallID, Code: e.Code, Reason: e.Reason, Final: e.Final})
		if err != nil {
			b = []byte(fmt.Sprintf(`{"event":"error","time":%q,"error":%q}`, stamp(e.Time), err.Error()))
		}
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	what := "transfer"
	switch {
	case e.Final && e.Code >= 200 && e.Code < 300:
		what = "transfer done"
	case e.Final:
		what = "transfer failed"
	}
	// The reason is the transferee's NOTIFY's (network text): an ESC in it would rewrite the terminal.
	fmt.Fprintln(p.w, common.Clean(fmt.Sprintf("%s %s: %s (%d %s)", e.Time.Format("15:04:05"), e.CallID, what, e.Code, e.Reason)))
}

// replacedRecord is the NDJSON line of a call that goes on as another one.
type replacedRecord struct {
	Event     string `json:"event"`
	Time      string `json:"time"`
	Account   string `json:"account,omitempty"`
	CallID    string `json:"call_id"`
	NewCallID string `json:"new_call_id"`
}

// replaced prints that a call goes on as another (we were transferred, or replaced by an
// INVITE with Replaces); the events that follow are the new call's.
func (p *printer) replaced(e phone.CallReplaced) {
	if p.json {
		b, err := json.Marshal(replacedRecord{Event: "replaced", Time: stamp(e.Time), Account: e.Account, CallID: e.CallID, NewCallID: e.NewCallID})
		if err != nil {
			b = []byte(fmt.Sprintf(`{"event":"error","time":%q,"error":%q}`, stamp(e.Time), err.Error()))
		}
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintf(p.w, "%s %s: continues as %s\n", e.Time.Format("15:04:05"), e.CallID, e.NewCallID)
}
