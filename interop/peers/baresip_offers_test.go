package peers

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var updateBaresipOffers = flag.Bool("update-baresip-offers", false, "rewrite testdata/baresip_offers.txt from live baresip calls")

const baresipOffersFile = "testdata/baresip_offers.txt"

const baresipOffersHeader = `# SDP bodies sent by baresip 1.0.0 (Debian) in real calls between two
# baresips started by interop/peers (TestBaresipOffersFile checks that baresip
# still sends them, up to ports, session ids, SSRCs and keys; rewrite with
#   go test -run TestBaresipOffersFile ./interop/peers -update-baresip-offers).
# Each section starts with "=== <name>: <what>"; the SDP follows, one line per
# line here (on the wire each line ends in CRLF). Keys are throw-away test keys.
#
# Refusals (no SDP, so not below): a baresip with mediaenc=srtp-mand answers
# an RTP/AVP offer (with or without a=crypto) with "488 Not Acceptable Here"
# and no body, as does a plain baresip an RTP/SAVP offer.
`

// baresipOfferCases are the calls whose offers and answers the file holds.
var baresipOfferCases = []struct {
	name, what     string
	caller, callee BaresipOptions
}{
	{"srtp", "mediaenc=srtp (best effort): RTP/AVP with a=crypto",
		BaresipOptions{MediaEnc: "srtp"}, BaresipOptions{MediaEnc: "srtp"}},
	{"srtp-mand", "mediaenc=srtp-mand: RTP/SAVP with a=crypto",
		BaresipOptions{MediaEnc: "srtp-mand"}, BaresipOptions{MediaEnc: "srtp-mand"}},
	{"savp-to-srtp", "RTP/SAVP offer (srtp-mand) answered by mediaenc=srtp",
		BaresipOptions{MediaEnc: "srtp-mand"}, BaresipOptions{MediaEnc: "srtp"}},
	{"srtp-to-plain", "RTP/AVP+crypto offer (srtp) answered by a plain baresip",
		BaresipOptions{MediaEnc: "srtp"}, BaresipOptions{}},
	{"g722", "audio_codecs=G722,PCMU",
		BaresipOptions{Codecs: []string{"G722", "PCMU"}}, BaresipOptions{Codecs: []string{"G722"}}},
	{"opus", "audio_codecs=opus,G722,PCMU (opus mono: opus_stereo/opus_sprop_stereo no)",
		BaresipOptions{Codecs: []string{"opus", "G722", "PCMU"}}, BaresipOptions{Codecs: []string{"opus"}}},
	{"opus-srtp-mand", "audio_codecs=opus,PCMU with mediaenc=srtp-mand",
		BaresipOptions{Codecs: []string{"opus", "PCMU"}, MediaEnc: "srtp-mand"}, BaresipOptions{Codecs: []string{"opus"}, MediaEnc: "srtp-mand"}},
}

// TestBaresipOffersFile makes each call of baresipOfferCases and compares the
// offer and answer with testdata/baresip_offers.txt.
func TestBaresipOffersFile(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	var live []sdpSection
	for _, c := range baresipOfferCases {
		c.callee.User, c.callee.AutoAnswer = "callee", true
		c.caller.User = "caller"
		callee := StartBaresip(t, c.callee)
		caller := StartBaresip(t, c.caller)
		bsCall(t, caller, callee, callee.AOR(), 200*time.Millisecond)
		live = append(live,
			sdpSection{c.name + " offer", c.what, onlySDP(t, c.name+" offer", caller.SentSDPs())},
			sdpSection{c.name + " answer", c.what, onlySDP(t, c.name+" answer", callee.SentSDPs())})
		caller.Stop()
		callee.Stop()
	}
	if *updateBaresipOffers {
		var sb strings.Builder
		sb.WriteString(baresipOffersHeader)
		for _, s := range live {
			fmt.Fprintf(&sb, "\n=== %s: %s\n%s", s.name, s.what, strings.ReplaceAll(s.sdp, "\r\n", "\n"))
		}
		if err := os.WriteFile(baresipOffersFile, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", baresipOffersFile)
		return
	}
	data, err := os.ReadFile(baresipOffersFile)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]sdpSection{}
	for _, s := range parseSDPSections(string(data)) {
		stored[s.name] = s
	}
	if len(stored) != len(live) {
		t.Errorf("%s has %d sections, want %d", baresipOffersFile, len(stored), len(live))
	}
	for _, s := range live {
		f, ok := stored[s.name]
		if !ok {
			t.Errorf("%s lacks section %q", baresipOffersFile, s.name)
			continue
		}
		if got, want := normaliseSDP(s.sdp), normaliseSDP(f.sdp); got != want {
			t.Errorf("%s: baresip now sends\n%s\nthe file has\n%s", s.name, got, want)
		}
	}
}

type sdpSection struct{ name, what, sdp string }

// parseSDPSections reads the "=== name: what" sections of the offers file.
func parseSDPSections(data string) []sdpSection {
	var out []sdpSection
	for _, part := range strings.Split("\n"+data, "\n=== ")[1:] {
		head, body, _ := strings.Cut(part, "\n")
		name, what, _ := strings.Cut(head, ": ")
		out = append(out, sdpSection{name, what, body})
	}
	return out
}

var sdpVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?m)^o=- \d+ \d+ `), "o=- * * "},
	{regexp.MustCompile(`(?m)^m=audio \d+ `), "m=audio * "},
	{regexp.MustCompile(`(?m)^a=ssrc:\d+ cname:.*$`), "a=ssrc:* cname:*"},
	{regexp.MustCompile(`inline:[A-Za-z0-9+/=]+`), "inline:*"},
}

// normaliseSDP masks what changes from call to call (ports, session ids,
// SSRCs, keys) and drops the line ends' CRs and any trailing newline.
func normaliseSDP(sdp string) string {
	s := strings.TrimRight(strings.ReplaceAll(sdp, "\r\n", "\n"), "\n")
	for _, v := range sdpVolatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}
