package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// static holds the RFC 3551 static audio payload types, which peers may list without
// a=rtpmap (sipp's and many hardware phones' offers rely on this for 0 and 8).
var static = map[uint8]Format{
	0: {0, "PCMU", 8000, 1, ""}, 3: {3, "GSM", 8000, 1, ""}, 4: {4, "G723", 8000, 1, ""},
	5: {5, "DVI4", 8000, 1, ""}, 6: {6, "DVI4", 16000, 1, ""}, 7: {7, "LPC", 8000, 1, ""},
	8: {8, "PCMA", 8000, 1, ""}, 9: {9, "G722", 8000, 1, ""}, 10: {10, "L16", 44100, 2, ""},
	11: {11, "L16", 44100, 1, ""}, 12: {12, "QCELP", 8000, 1, ""}, 13: {13, "CN", 8000, 1, ""},
	14: {14, "MPA", 90000, 1, ""}, 15: {15, "G728", 8000, 1, ""}, 16: {16, "DVI4", 11025, 1, ""},
	17: {17, "DVI4", 22050, 1, ""}, 18: {18, "G729", 8000, 1, ""},
}

// Parse returns the remote's audio stream: the first audio m= line over a transport we do
// (RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF) that is not disabled, else the first disabled one
// (Port 0). Errors say what is wrong.
func Parse(b []byte) (*Media, error) {
	sd, err := unmarshal(b)
	if err != nil {
		return nil, err
	}
	var pick *psdp.MediaDescription
	other := ""
	for _, md := range sd.MediaDescriptions {
		switch {
		case md.MediaName.Media != "audio":
		case !supportedProto(proto(md)):
			other = proto(md)
		case md.MediaName.Port.Value != 0:
			return media(sd, md)
		case pick == nil:
			pick = md
		}
	}
	switch {
	case pick != nil:
		return media(sd, pick)
	case other != "":
		return nil, refuse(ErrNoCommonCodec, "audio is only offered over %s; dialtone does RTP/AVP and SDES RTP/SAVP, not DTLS-SRTP", other)
	}
	return nil, errors.New("sdp: no audio stream (m=audio)")
}

// unmarshal runs pion's parser, guarding against the inputs it trips over.
func unmarshal(b []byte) (*psdp.SessionDescription, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, errors.New("sdp: empty session description")
	}
	// pion fails with a bare EOF when the last line has no line end, which happens when a
	// proxy trims the body.
	if b[len(b)-1] != '\n' {
		b = append(b[:len(b):len(b)], "\r\n"...)
	}
	var sd psdp.SessionDescription
	if err := protect(func() error { return sd.Unmarshal(b) }); err != nil {
		return nil, fmt.Errorf("sdp: malformed session description: %w", err)
	}
	// pion accepts a lone "v=0", so check that the lines a peer must send are there.
	if sd.Origin.NetworkType == "" || len(sd.TimeDescriptions) == 0 {
		return nil, errors.New("sdp: malformed session description: no o= or t= line")
	}
	return &sd, nil
}

// protect turns a panic in f into an error: a remote peer must not crash the phone.
func protect(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser panic: %v", r)
		}
	}()
	return f()
}

func proto(md *psdp.MediaDescription) string { return strings.Join(md.MediaName.Protos, "/") }

// media converts one audio m= line.
func media(sd *psdp.SessionDescription, md *psdp.MediaDescription) (*Media, error) {
	m := &Media{Proto: proto(md), Port: md.MediaName.Port.Value, DTMFPT: -1}
	conn := md.ConnectionInformation
	if conn == nil {
		conn = sd.ConnectionInformation
	}
	switch {
	case conn != nil:
		addr := ""
		if conn.Address != nil {
			addr = conn.Address.Address
		}
		if addrType(addr) != conn.AddressType {
			return nil, fmt.Errorf("sdp: c= address %q is not an %s literal (hostnames and multicast are not supported)", addr, conn.AddressType)
		}
		m.Addr = addr
	case m.Port != 0: // a rejected stream needs no address
		return nil, errors.New("sdp: the audio stream has no c= line, neither its own nor a session-level one")
	}
	if len(md.MediaName.Formats) == 0 {
		return nil, errors.New("sdp: the audio m= line lists no payload types")
	}

	rtpmap := map[uint8]Format{}
	fmtp := map[uint8]string{}
	dir, hasDir := SendRecv, false
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			if f, ok := parseRtpmap(a.Value); ok {
				rtpmap[f.PT] = f
			}
		case "fmtp":
			pt, params, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
			if n, err := strconv.ParseUint(pt, 10, 7); err == nil {
				fmtp[uint8(n)] = strings.TrimSpace(params)
			}
		case "ptime":
			// Bounded so a hostile value cannot make us build datagrams over the MTU.
			if n, err := strconv.Atoi(strings.TrimSpace(a.Value)); err == nil && n > 0 && n <= 150 {
				m.Ptime = n
			}
		case "maxptime":
			if n, err := strconv.Atoi(strings.TrimSpace(a.Value)); err == nil && n > 0 && n <= 150 {
				m.MaxPtime = n
			}
		case "crypto": // parsed when negotiated: a malformed line is only fatal if no other will do
			m.Crypto = append(m.Crypto, a.Value)
		case "rtcp": // "PORT [IN IP4|IP6 addr]" (RFC 3605): a relay or SBC may name another address
			f := strings.Fields(a.Value)
			if len(f) == 0 {
				break
			}
			if n, err := strconv.Atoi(f[0]); err == nil && n > 0 && n <= 65535 {
				m.RTCPPort = n
				// Taken as written: the media layer parses it, and keeps the RTP address for
				// one that is no IP address (this package opens no sockets and reads no
				// addresses itself).
				if len(f) == 4 && strings.EqualFold(f[1], "IN") && (strings.EqualFold(f[2], "IP4") || strings.EqualFold(f[2], "IP6")) &&
					f[3] != "0.0.0.0" && f[3] != "::" {
					m.RTCPAddr = f[3]
				}
			}
		default:
			if d, err := ParseDirection(a.Key); err == nil && !hasDir {
				dir, hasDir = d, true
			}
		}
	}
	for _, a := range sd.Attributes { // session level applies unless the media level said otherwise
		if d, err := ParseDirection(a.Key); err == nil && !hasDir {
			dir, hasDir = d, true
		}
	}
	m.Dir = dir

	for _, s := range md.MediaName.Formats {
		n, err := strconv.ParseUint(s, 10, 7)
		if err != nil {
			return nil, fmt.Errorf("sdp: audio m= line: payload type %q is not a number from 0 to 127", s)
		}
		pt := uint8(n)
		f, ok := rtpmap[pt]
		if !ok {
			f = static[pt] // zero, with an empty name, for an unknown dynamic PT
			f.PT = pt
		}
		f.Fmtp = fmtp[pt]
		if m.DTMFPT < 0 && isDTMF(f) {
			m.DTMFPT = int(pt)
		}
		m.Formats = append(m.Formats, f)
	}
	return m, nil
}

// isDTMF reports telephone-event at 8 kHz, Media.DTMFPT's (dtmfFor finds the one matching
// a wideband codec's clock).
func isDTMF(f Format) bool { return strings.EqualFold(f.Name, "telephone-event") && f.Rate == 8000 }

// parseRtpmap parses "PT name/rate[/channels]". pion has such a parser but only behind
// GetCodecMap, which merges all m= lines and so confuses audio and video PT 96.
func parseRtpmap(v string) (Format, bool) {
	pt, enc, _ := strings.Cut(strings.TrimSpace(v), " ")
	n, err := strconv.ParseUint(pt, 10, 7)
	if err != nil {
		return Format{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return Format{}, false
	}
	rate, err := strconv.ParseUint(parts[1], 10, 31)
	if err != nil || rate == 0 {
		return Format{}, false
	}
	ch := uint64(1)
	if len(parts) == 3 {
		if ch, err = strconv.ParseUint(parts[2], 10, 8); err != nil || ch == 0 {
			return Format{}, false
		}
	}
	return Format{PT: uint8(n), Name: parts[0], Rate: int(rate), Channels: int(ch)}, true
}
