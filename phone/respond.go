package phone

import "github.com/emiago/sipgo/sip"

// responder answers req on tx: a status, its reason phrase and any headers more. A response
// that cannot be sent is logged at debug level ("respond to INFO"): the transaction layer has
// said why, and the request's sender will retransmit or give up.
func (p *Phone) responder(req *sip.Request, tx sip.ServerTransaction) func(code int, reason string, hdrs ...sip.Header) {
	return func(code int, reason string, hdrs ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		if err := tx.Respond(res); err != nil {
			p.log.Debug("respond to "+string(req.Method), "code", code, "err", err)
		}
	}
}
