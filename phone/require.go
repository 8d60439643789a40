package phone

import (
	"slices"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// knownExtensions are the option tags a request may Require of us (RFC 3261 §8.2.2.3): the
// ones we list in Supported.
var knownExtensions = strings.Split(strings.ReplaceAll(supportedExtensions, " ", ""), ",")

// requireKnown refuses a request that Requires an extension we do not do with 420 Bad
// Extension, naming them in Unsupported, before h sees it. Going on without it was worse: an
// INVITE that Requires 100rel (Asterisk's 100rel=required, carrier SBCs) got an unreliable
// 180 it could not accept, one that Requires timer or precondition a 200 that ignored them.
// With the 420 the caller tries again without the extension. CANCEL and ACK are never
// refused (they reach no handler wrapped with this).
func requireKnown(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if unknown := unsupportedRequired(req); len(unknown) > 0 {
			res := sip.NewResponseFromRequest(req, 420, "Bad Extension", nil)
			res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(unknown, ", ")))
			_ = tx.Respond(res)
			return
		}
		h(req, tx)
	}
}

// unsupportedRequired lists the option tags req's Require headers name that we do not do.
func unsupportedRequired(req *sip.Request) []string {
	var unknown []string
	for _, h := range req.GetHeaders("Require") {
		for tag := range strings.SplitSeq(h.Value(), ",") {
			tag = strings.ToLower(strings.TrimSpace(tag))
			if tag != "" && !slices.Contains(knownExtensions, tag) && !slices.Contains(unknown, tag) {
				unknown = append(unknown, tag)
			}
		}
	}
	return unknown
}

// onStrayCancel answers a CANCEL that matches no transaction of ours (the INVITE was answered
// and its transaction is gone, or it never came): 481, as RFC 3261 §9.2 says, rather than
// sipgo's 405 for a method nobody handles, which our Allow contradicts.
func onStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
}
