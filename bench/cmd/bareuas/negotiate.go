package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	psdp "github.com/pion/sdp/v3"
)

// negotiating answers each INVITE's offer in a dialog: sipgo's DialogServerCache keeps the
// dialogs, and each answer is the offer's first PCMU or PCMA on a fixed port. No media flows.
func negotiating(ctx context.Context, ua *sipgo.UserAgent, srv *sipgo.Server, listen string, bye func()) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 {
		return fmt.Errorf("listen %s: -negotiate needs a fixed port (its Contact names it)", listen)
	}
	client, err := sipgo.NewClient(ua)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bareuas", Host: host, Port: p}}
	dialogs := sipgo.NewDialogServerCache(client, contact)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		answer, err := answerOffer(req.Body(), host)
		if err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		sess, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
			return
		}
		defer sess.Close()
		if err := sess.RespondSDP(answer); err != nil {
			return // no ACK: the dialog is over
		}
		select { // until the BYE, or the end
		case <-sess.Context().Done():
		case <-ctx.Done():
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = dialogs.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		bye()
	})
	return nil
}

// answerOffer answers an SDP offer's first audio stream with the first of PCMU and PCMA it
// offers (RFC 3264: the offerer's order), on port 40000 at host. Other m= lines are left out
// rather than rejected in place: the benchmark's offer has one.
func answerOffer(offer []byte, host string) ([]byte, error) {
	var sd psdp.SessionDescription
	if err := sd.Unmarshal(offer); err != nil {
		return nil, err
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		i := slices.IndexFunc(md.MediaName.Formats, func(f string) bool { return f == "0" || f == "8" })
		if i < 0 {
			continue
		}
		pt := md.MediaName.Formats[i]
		name := map[string]string{"0": "PCMU", "8": "PCMA"}[pt]
		ans := psdp.SessionDescription{
			Origin:                psdp.Origin{Username: "-", SessionID: 1, SessionVersion: 1, NetworkType: "IN", AddressType: "IP4", UnicastAddress: host},
			SessionName:           "-",
			ConnectionInformation: &psdp.ConnectionInformation{NetworkType: "IN", AddressType: "IP4", Address: &psdp.Address{Address: host}},
			TimeDescriptions:      []psdp.TimeDescription{{}},
			MediaDescriptions: []*psdp.MediaDescription{{
				MediaName: psdp.MediaName{Media: "audio", Port: psdp.RangedPort{Value: 40000}, Protos: md.MediaName.Protos, Formats: []string{pt}},
				Attributes: []psdp.Attribute{
					{Key: "rtpmap", Value: pt + " " + name + "/8000"}, {Key: "ptime", Value: "20"}, {Key: "sendrecv"},
				},
			}},
		}
		return ans.Marshal()
	}
	return nil, errors.New("no G.711 audio offered")
}
