package main

import (
	"fmt"

	"github.com/dialtone/dialtone/phone"
)

// voicemail prints what an account's server says of its mailbox (RFC 3842 message waiting):
// {"event":"voicemail","account":"work","waiting":true,"new":2,"old":8,"urgent_new":1,...}.
// waiting is always there; the counts only when the server gave them.
func (p *printer) voicemail(v phone.Voicemail) {
	waiting := v.Waiting
	r := record{Event: "voicemail", Time: stamp(v.Time), Account: v.Account, Waiting: &waiting, MessageAccount: v.MessageAccount}
	if v.Counted {
		n, o, un, uo := v.New, v.Old, v.UrgentNew, v.UrgentOld
		r.New, r.Old, r.UrgentNew, r.UrgentOld = &n, &o, &un, &uo
	}
	human := fmt.Sprintf("%s %s: %s", v.Time.Format("15:04:05"), v.Account, v.Summary())
	p.emit(r, human)
}
