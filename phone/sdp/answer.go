package sdp

import (
	"fmt"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// Answer answers a remote offer (RFC 3264 section 6). It accepts the first RTP/AVP audio
// stream that shares a codec with us, taking the first codec in the offerer's order that we
// support, plus telephone-event if both sides want it. Every other m= line is rejected with
// port 0 in its original place, as RFC 3264 requires. When nothing is usable, the error
// wraps ErrNoCommonCodec and the caller sends 488.
func Answer(offer []byte, l Local) ([]byte, Negotiated, error) {
	l, err := l.norm()
	if err != nil {
		return nil, Negotiated{}, err
	}
	sd, err := unmarshal(offer)
	if err != nil {
		return nil, Negotiated{}, err
	}
	return answer(sd, l, true)
}

// answer answers the parsed offer sd for the normalised l; without marshal it only
// negotiates (Offer.Check), and the answer it returns is nil.
func answer(sd *psdp.SessionDescription, l Local, marshal bool) ([]byte, Negotiated, error) {
	ans := session(l)
	var n Negotiated
	found, why := false, "the offer has no audio stream"
	for _, md := range sd.MediaDescriptions {
		if !found && md.MediaName.Media == "audio" {
			switch {
			case proto(md) != "RTP/AVP":
				why = "audio is only offered over " + proto(md) + "; dialtone does plain RTP/AVP (no SRTP)"
			case md.MediaName.Port.Value == 0:
				why = "the offer disables its audio stream (port 0)"
			default:
				m, err := media(sd, md)
				if err != nil {
					return nil, Negotiated{}, err
				}
				if c, ok := pick(m.Formats, l.Codecs); ok {
					var am *psdp.MediaDescription
					n, am = negotiate(m, c, l)
					ans.MediaDescriptions = append(ans.MediaDescriptions, am)
					found = true
					continue
				}
				why = "offered audio formats " + describe(m.Formats) + ", we do " + strings.Join(l.Codecs, " ")
			}
		}
		ans.MediaDescriptions = append(ans.MediaDescriptions, rejected(md))
	}
	if !found {
		return nil, Negotiated{}, fmt.Errorf("%w: %s", ErrNoCommonCodec, why)
	}
	if !marshal {
		return nil, n, nil
	}
	b, err := ans.Marshal()
	return b, n, err
}

// negotiate settles the accepted offered stream m with codec c and returns our m= line.
func negotiate(m *Media, c Format, l Local) (Negotiated, *psdp.MediaDescription) {
	remote := effective(m)
	n := result(m, c, l.DTMF)
	n.LocalDir = direction(remote.recvs() && l.Dir.sends(), remote.sends() && l.Dir.recvs())
	n.Hold = !remote.recvs()
	fs := []Format{c}
	if n.DTMFPT >= 0 {
		ev := dtmfEvents
		for _, f := range m.Formats {
			if int(f.PT) == n.DTMFPT && f.Fmtp != "" {
				ev = f.Fmtp // the offerer's event list; we handle all of 0-16 anyway
			}
		}
		fs = append(fs, Format{PT: uint8(n.DTMFPT), Name: "telephone-event", Rate: 8000, Channels: 1, Fmtp: ev})
	}
	return n, audio(l, fs, n.LocalDir)
}

// Accept reads the answer to our offer l and returns the negotiated result. The codec is
// the first one in the answer that we offered; RFC 3264 lets an answer list extra formats,
// which are ignored, but an answer with none of ours is an error.
func Accept(l Local, answer []byte) (Negotiated, error) {
	l, err := l.norm()
	if err != nil {
		return Negotiated{}, err
	}
	m, err := Parse(answer)
	if err != nil {
		return Negotiated{}, err
	}
	if m.Port == 0 {
		return Negotiated{}, fmt.Errorf("%w: the answer rejects the audio stream (port 0)", ErrNoCommonCodec)
	}
	var c Format
	ok := false
	for _, f := range m.Formats {
		// Our offer uses static PTs, so an offered codec keeps its PT and name.
		if ours, yes := canonical(f); yes && contains(l.Codecs, ours.Name) && ours.PT == supported[ours.Name] {
			c, ok = ours, true
			break
		}
	}
	if !ok {
		return Negotiated{}, fmt.Errorf("%w: the answer picks no codec we offered: %s", ErrNoCommonCodec, describe(m.Formats))
	}
	remote := effective(m)
	n := result(m, c, l.DTMF)
	n.LocalDir = direction(l.Dir.sends() && remote.recvs(), l.Dir.recvs() && remote.sends())
	n.Hold = l.Dir.sends() && !remote.recvs() // their refusal to receive, not one our offer forced
	if n.DTMFPT >= 0 && l.DTMFPT > 0 && int(l.DTMFPT) != n.DTMFPT {
		n.RecvDTMFPT = int(l.DTMFPT)
	}
	return n, nil
}

// result fills in what Answer and Accept share.
func result(m *Media, c Format, dtmf bool) Negotiated {
	n := Negotiated{Codec: c, DTMFPT: -1, RemoteAddr: m.Addr, RemotePort: m.Port, RemoteRTCPPort: m.RTCPPort, Ptime: m.Ptime}
	if dtmf {
		n.DTMFPT = m.DTMFPT
	}
	if n.RemoteRTCPPort == 0 {
		n.RemoteRTCPPort = m.Port + 1
	}
	if n.Ptime == 0 {
		n.Ptime = 20
	}
	return n
}

// effective is the remote's direction once an RFC 2543 hold (c=0.0.0.0) is accounted for:
// a peer without an address cannot receive.
func effective(m *Media) Direction {
	if isUnspecified(m.Addr) {
		return direction(m.Dir.sends(), false)
	}
	return m.Dir
}

// pick returns the first of the offered formats that is one of our codecs.
func pick(offered []Format, ours []string) (Format, bool) {
	for _, f := range offered {
		if c, ok := canonical(f); ok && contains(ours, c.Name) {
			return c, true
		}
	}
	return Format{}, false
}

// canonical returns f in our spelling if it is a codec we can do. G.711 has no
// parameters (RFC 3551), so any fmtp is dropped rather than half-echoed.
func canonical(f Format) (Format, bool) {
	name := strings.ToUpper(f.Name)
	if _, ok := supported[name]; !ok || f.Rate != 8000 || f.Channels != 1 {
		return Format{}, false
	}
	return Format{PT: f.PT, Name: name, Rate: 8000, Channels: 1}, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rejected answers an m= line we do not take: same media and proto, port 0.
func rejected(md *psdp.MediaDescription) *psdp.MediaDescription {
	formats := md.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"} // the grammar needs one; it means nothing on a rejected line
	}
	return &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media: md.MediaName.Media, Protos: md.MediaName.Protos, Formats: formats,
	}}
}

// describe lists formats for error messages, e.g. "opus/48000/2 G729/8000".
func describe(fs []Format) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if f.Name == "" {
			b.WriteString(strconv.Itoa(int(f.PT)))
			continue
		}
		fmt.Fprintf(&b, "%s/%d", f.Name, f.Rate)
		if f.Channels != 1 {
			fmt.Fprintf(&b, "/%d", f.Channels)
		}
	}
	return b.String()
}
