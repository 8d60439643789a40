package sdp

import (
	"fmt"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/dialtone/dialtone/phone/srtp"
)

// dtmfEvents are the RFC 4733 events we send and understand: digits, *, #, A-D, flash.
const dtmfEvents = "0-16"

// Offer builds our SDP offer: one audio stream, RTP/AVP, or RTP/SAVP under
// EncryptionSDESRequired, with all of l.Crypto as a=crypto unless Encryption is none.
func Offer(l Local) ([]byte, error) {
	l, err := l.norm()
	if err != nil {
		return nil, err
	}
	sd := session(l)
	sd.MediaDescriptions = []*psdp.MediaDescription{audio(l, l.Encryption.proto(), offerFormats(l), l.Crypto, l.Dir)}
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
	codecs, err := normCodecs(l.Codecs)
	if err != nil {
		return l, err
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
	return l.normCrypto()
}

// normCrypto checks our keys against the policy; with none, they are dropped.
func (l Local) normCrypto() (Local, error) {
	switch l.Encryption {
	case EncryptionNone:
		l.Crypto = nil
		return l, nil
	case EncryptionSDES, EncryptionSDESRequired:
	default:
		return l, fmt.Errorf("sdp: bad media encryption %d", int(l.Encryption))
	}
	if len(l.Crypto) == 0 {
		return l, fmt.Errorf("sdp: media encryption %s without local a=crypto keys", l.Encryption)
	}
	for i, c := range l.Crypto {
		if !c.Suite.Valid() || len(c.Key) != c.Suite.KeySaltLen() || c.Tag < 0 || c.Tag > 999999999 {
			return l, fmt.Errorf("sdp: local a=crypto %d (%s): bad suite, key length or tag", i, c.Suite)
		}
		for _, d := range l.Crypto[:i] {
			if d.Tag == c.Tag {
				return l, fmt.Errorf("sdp: local a=crypto tag %d used twice", c.Tag)
			}
		}
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

// audio returns an audio m= line over proto with formats fs and a=crypto lines cs. The
// rtpmap of static types is redundant but customary, and spares peers that (wrongly)
// require it.
func audio(l Local, proto string, fs []Format, cs []srtp.Crypto, dir Direction) *psdp.MediaDescription {
	md := &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media: "audio", Port: psdp.RangedPort{Value: l.Port}, Protos: strings.Split(proto, "/"),
	}}
	for _, f := range fs {
		pt := strconv.Itoa(int(f.PT))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		enc := f.Name + "/" + strconv.Itoa(f.Rate)
		if f.Channels > 1 {
			enc += "/" + strconv.Itoa(f.Channels)
		}
		md.Attributes = append(md.Attributes, psdp.Attribute{Key: "rtpmap", Value: pt + " " + enc})
		if f.Fmtp != "" {
			md.Attributes = append(md.Attributes, psdp.Attribute{Key: "fmtp", Value: pt + " " + f.Fmtp})
		}
	}
	for _, c := range cs {
		md.Attributes = append(md.Attributes, psdp.Attribute{Key: "crypto", Value: c.String()})
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

// CheckPtime checks a packet duration to ask for (a=ptime): whole tens of milliseconds from 10
// to 60, the ones G.711 and G.722 phones and gateways send.
func CheckPtime(ms int) error {
	if ms < 10 || ms > 60 || ms%10 != 0 {
		return fmt.Errorf("ptime %d ms: want 10, 20, 30, 40, 50 or 60", ms)
	}
	return nil
}
