package phone

import (
	"net/netip"
	"strings"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
)

// supportedCodecs are the codecs we offer and accept, in our order of preference. Only G.711
// until the media path is rate-aware (issue 12): codec.All may already hold wideband codecs.
func supportedCodecs() []string {
	var names []string
	for _, c := range codec.All() {
		if c.SampleRate() == codec.SampleRate {
			names = append(names, c.Name())
		}
	}
	return names
}

func codecByName(name string) (codec.Codec, bool) { return codec.ByName(name) }

// mediaConfig is the RTP socket configuration for a call whose SDP names ip.
func (p *Phone) mediaConfig(ip string) media.Config {
	addr, err := netip.ParseAddr(strings.Trim(ip, "[]"))
	if err != nil {
		addr = netip.IPv4Unspecified()
	}
	return media.Config{IP: addr, PortMin: p.cfg.RTPPortMin, PortMax: p.cfg.RTPPortMax, Logger: p.log}
}

// localSDP describes our side of a call's media at the address publicMedia chose.
func (p *Phone) localSDP(m mediaAddr) sdp.Local {
	now := uint64(time.Now().Unix())
	return sdp.Local{
		SessionID: now, SessionVersion: now, Username: "dialtone",
		Addr: strings.Trim(m.IP, "[]"), Port: m.RTP, RTCPPort: m.RTCP,
		Codecs: supportedCodecs(), DTMF: true, DTMFPT: 101, Ptime: 20, Dir: sdp.SendRecv,
	}
}
