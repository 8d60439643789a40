package phone

import (
	"math/rand/v2"
	"strconv"

	"github.com/emiago/sipgo/sip"
)

// refuseOutOfOrder answers 500 to a request of the far end in call c's dialog whose CSeq is
// lower than one the far end sent before (RFC 3261 12.2.2) and reports whether it did. Without
// it a captured re-INVITE or BYE of the dialog, replayed by anyone who can reach our port, is
// taken again: the replayed re-INVITE moves the media wherever its SDP says, the BYE ends the
// call. sipgo's own check is not used (transfer_dialog.go, checkCSeq, says why); the counter
// is the one REFER and NOTIFY already share, so every method of the far end counts.
func (p *Phone) refuseOutOfOrder(c *call, req *sip.Request, tx sip.ServerTransaction) bool {
	d := p.dialogOf(c.id)
	if d == nil {
		return false // not answered yet, or ended: the request's own handler decides
	}
	err := d.checkCSeq(req)
	if err == nil {
		return false
	}
	p.log.Info("in-dialog request refused", "call", c.id, "method", string(req.Method), "err", err)
	res := sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
	res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(rand.IntN(11)))) // RFC 3261 14.2: 0-10 s
	if err := tx.Respond(res); err != nil {
		p.log.Debug("respond 500 to an out-of-order request", "call", c.id, "err", err)
	}
	return true
}
