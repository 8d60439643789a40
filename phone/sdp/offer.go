package sdp

import (
	"fmt"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// supported maps the codecs dialtone encodes to their RFC 3551 static payload types.
var supported = map[string]uint8{"PCMU": 0, "PCMA": 8}

// dtmfEvents are the RFC 4733 events we send and understand: digits, *, #, A-D, flash.
const dtmfEvents = "0-16"

// Offer builds our SDP offer: one RTP/AVP audio stream.
func Offer(l Local) ([]byte, error) {
	l, err := l.norm()
	if err != nil {
		return nil, err
	}
	fs := make([]Format, 0, len(l.Codecs)+1)
	for _, c := range l.Codecs {
		fs = append(fs, Format{PT: supported[c], Name: c, Rate: 8000, Channels: 1})
	}
	if l.DTMF {
		fs = append(fs, Format{PT: l.DTMFPT, Name: "telephone-event", Rate: 8000, Channels: 1, Fmtp: dtmfEvents})
	}
	sd := session(l)
	sd.MediaDescriptions = []*psdp.MediaDescription{audio(l, fs, l.Dir)}
	return sd.Marshal()
}

// norm fills in defaults and rejects what we could not put in an SDP.
func (l Local) norm() (Local, error) {
	if l.Username == "" {
		l.Username = "-"
	}
	if strings.ContainsAny(l.Username, " \t\r\n") {
		return l, fmt.Errorf("sdp: username %q contains white space", l.Username)
	}
	if addrType(l.Addr) == "" {
		return l, fmt.Errorf("sdp: local address %q is not an IP literal", l.Addr)
	}
	if l.Port <= 0 || l.Port > 65535 {
		return l, fmt.Errorf("sdp: local RTP port %d out of range", l.Port)
	}
	if l.RTCPPort < 0 || l.RTCPPort > 65535 {
		return l, fmt.Errorf("sdp: local RTCP port %d out of range", l.RTCPPort)
	}
	if len(l.Codecs) == 0 {
		return l, fmt.Errorf("sdp: no local codecs")
	}
	codecs := make([]string, 0, len(l.Codecs))
	for _, c := range l.Codecs {
		c = strings.ToUpper(c)
		if _, ok := supported[c]; !ok {
			return l, fmt.Errorf("sdp: unsupported codec %q (we do PCMU and PCMA)", c)
		}
		for _, d := range codecs {
			if d == c {
				return l, fmt.Errorf("sdp: codec %s listed twice", c)
			}
		}
		codecs = append(codecs, c)
	}
	l.Codecs = codecs
	if l.DTMFPT == 0 {
		l.DTMFPT = 101
	}
	if l.DTMFPT < 96 || l.DTMFPT > 127 {
		return l, fmt.Errorf("sdp: telephone-event payload type %d is not dynamic (96-127)", l.DTMFPT)
	}
	if l.Ptime == 0 {
		l.Ptime = 20
	}
	if l.Ptime < 0 || l.Ptime > 150 {
		return l, fmt.Errorf("sdp: ptime %d ms out of range", l.Ptime)
	}
	if l.Dir < SendRecv || l.Dir > Inactive {
		return l, fmt.Errorf("sdp: bad direction %d", int(l.Dir))
	}
	return l, nil
}

// session returns the session-level lines of our SDP.
func session(l Local) *psdp.SessionDescription {
	at := addrType(l.Addr)
	return &psdp.SessionDescription{
		Origin: psdp.Origin{
			Username: l.Username, SessionID: l.SessionID, SessionVersion: l.SessionVersion,
			NetworkType: "IN", AddressType: at, UnicastAddress: l.Addr,
		},
		SessionName: "-", // RFC 3264 section 5 recommends a dash for unicast sessions
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN", AddressType: at, Address: &psdp.Address{Address: l.Addr},
		},
		TimeDescriptions: []psdp.TimeDescription{{}}, // t=0 0
	}
}

// audio returns an RTP/AVP audio m= line. The rtpmap of static types is redundant but
// customary, and spares peers that (wrongly) require it.
func audio(l Local, fs []Format, dir Direction) *psdp.MediaDescription {
	md := &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media: "audio", Port: psdp.RangedPort{Value: l.Port}, Protos: []string{"RTP", "AVP"},
	}}
	for _, f := range fs {
		pt := strconv.Itoa(int(f.PT))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, psdp.Attribute{Key: "rtpmap", Value: pt + " " + f.Name + "/" + strconv.Itoa(f.Rate)})
		if f.Fmtp != "" {
			md.Attributes = append(md.Attributes, psdp.Attribute{Key: "fmtp", Value: pt + " " + f.Fmtp})
		}
	}
	if l.RTCPPort != 0 && l.RTCPPort != l.Port+1 {
		md.Attributes = append(md.Attributes, psdp.Attribute{Key: "rtcp",
			Value: strconv.Itoa(l.RTCPPort) + " IN " + addrType(l.Addr) + " " + l.Addr})
	}
	md.Attributes = append(md.Attributes,
		psdp.Attribute{Key: "ptime", Value: strconv.Itoa(l.Ptime)},
		psdp.Attribute{Key: dir.String()}) // always explicit: some peers mishandle the default
	return md
}
