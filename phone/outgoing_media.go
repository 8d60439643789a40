package phone

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
)

// What an SDP answer (or offer) settled, as the media session's parameters.

// acceptAnswer reads the far end's SDP answer to our offer local: the terms it settles and
// the media parameters they make for audio a (the INVITE's answer, a re-INVITE's, an ACK's).
func acceptAnswer(local sdp.Local, answer []byte, a CallAudio) (sdp.Negotiated, media.Params, error) {
	n, err := sdp.Accept(local, answer)
	if err != nil {
		return n, media.Params{}, err
	}
	params, err := mediaParams(n, a)
	return n, params, err
}

// mediaParams turns a negotiation into media parameters.
func mediaParams(n sdp.Negotiated, a CallAudio) (media.Params, error) {
	cd, ok := codecByName(n.Codec.Name)
	if !ok {
		return media.Params{}, fmt.Errorf("negotiated codec %s is not supported", n.Codec.Name)
	}
	ip, err := netip.ParseAddr(n.RemoteAddr)
	if err != nil {
		return media.Params{}, fmt.Errorf("remote media address %q: %w", n.RemoteAddr, err)
	}
	dir := n.LocalDir
	var recvAlt codec.Codec // the other G.711 law, when the answer listed it (sdp.Negotiated)
	if n.RecvAlt.Name != "" {
		recvAlt, _ = codecByName(n.RecvAlt.Name)
	}
	other, events := recvOthers(n, recvAlt != nil) // what else it may send
	var rtcp netip.AddrPort
	if n.RemoteRTCPPort > 0 {
		rtcpIP := ip
		if a, err := netip.ParseAddr(n.RemoteRTCPAddr); err == nil { // a=rtcp named its own (RFC 3605)
			rtcpIP = a
		}
		rtcp = netip.AddrPortFrom(rtcpIP.Unmap(), uint16(n.RemoteRTCPPort))
	}
	return media.Params{
		Remote:        netip.AddrPortFrom(ip.Unmap(), uint16(n.RemotePort)),
		RemoteRTCP:    rtcp,
		Codec:         cd,
		PT:            int(n.Codec.PT),
		RecvPT:        n.RecvPT,
		SRTP:          n.SRTP,
		DTMFPT:        n.DTMFPT,
		DTMFRate:      n.DTMFRate,
		RecvDTMFPT:    n.RecvDTMFPT,
		RecvAlt:       recvAlt,
		RecvAltPT:     n.RecvAlt.PT,
		RecvOther:     other,
		RecvDTMFOther: events,
		Ptime:         time.Duration(n.Ptime) * time.Millisecond, // what the far end asked to receive
		Send:          dir == sdp.SendRecv || dir == sdp.SendOnly,
		Receive:       dir == sdp.SendRecv || dir == sdp.RecvOnly,
		Source:        a.Source,
		Sink:          a.Sink,
	}, nil
}

// recvOthers is what else the far end may send besides the settled codec and its events (the
// other G.711 law when alt): the answer's other codecs this build has and its telephone-events
// at other rates. A payload type that names two things (an answer that renumbered one of ours
// onto another of ours) keeps the first meaning: the codec settled, then the events, then the
// rest.
func recvOthers(n sdp.Negotiated, alt bool) ([]media.RecvCodec, []uint8) {
	taken := map[int]bool{int(n.Codec.PT): true, n.RecvPT: true}
	if alt {
		taken[int(n.RecvAlt.PT)] = true
	}
	var events []uint8
	if n.DTMFPT >= 0 {
		taken[n.DTMFPT] = true
		if n.RecvDTMFPT > 0 {
			taken[n.RecvDTMFPT] = true
		}
		for _, pt := range n.RecvDTMFOther {
			if !taken[pt] {
				taken[pt] = true
				events = append(events, uint8(pt))
			}
		}
	}
	var other []media.RecvCodec
	for _, f := range n.RecvOther {
		if c, ok := codecByName(f.Name); ok && !taken[int(f.PT)] {
			taken[int(f.PT)] = true
			other = append(other, media.RecvCodec{PT: f.PT, Codec: c})
		}
	}
	return other, events
}
