package phone

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the layers apart (docs/ARCHITECTURE.md): the core never learns about
// terminals or sound cards, the UI never about SIP or RTP, codec and audio stay stdlib-only.
func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped in -short mode")
	}
	const mod = "github.com/dialtone/dialtone/"
	// direct: the rule applies to the package's own imports only. The pure packages must not
	// open sockets themselves, but pion/sdp reaches net/url and net/netip for its own parsing.
	forbidden := []struct {
		pkgPrefix string
		deny      []string
		direct    bool
	}{
		{mod + "phone", []string{"charm.land/", "github.com/charmbracelet/", "github.com/gordonklaus/portaudio", mod + "ui", mod + "cmd", mod + "audio/portaudio"}, false},
		{mod + "phone/media", []string{"github.com/emiago/sipgo"}, false},
		{mod + "phone/call", []string{"github.com/emiago/sipgo"}, false},
		{mod + "phone/sdp", []string{"github.com/emiago/sipgo"}, false},
		{mod + "phone/call", []string{"net"}, true},
		{mod + "phone/sdp", []string{"net"}, true},
		// The UI uses the phone's types, so it links what phone links; what it may not do is
		// reach past the core's API into SIP, RTP or the sound card itself.
		{mod + "ui", []string{"github.com/emiago/sipgo", "github.com/pion/", "github.com/gordonklaus/portaudio", mod + "audio", mod + "codec"}, true},
		{mod + "ui", []string{"github.com/gordonklaus/portaudio"}, false},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Deps " "}}:{{join .Imports " "}}`, "github.com/dialtone/dialtone/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		pkg, depList, importList := parts[0], strings.Fields(parts[1]), strings.Fields(parts[2])
		for _, rule := range forbidden {
			if pkg != rule.pkgPrefix && !strings.HasPrefix(pkg, rule.pkgPrefix+"/") {
				continue
			}
			if rule.pkgPrefix == mod+"phone" && (strings.HasPrefix(pkg, mod+"phone/phonetest")) {
				continue
			}
			checked++
			list := depList
			if rule.direct {
				list = importList
			}
			for _, d := range list {
				for _, deny := range rule.deny {
					if d == deny || strings.HasPrefix(d, deny) && (strings.HasSuffix(deny, "/") || strings.HasPrefix(d, deny+"/")) {
						t.Errorf("%s depends on %s, which its layer must not", pkg, d)
					}
				}
			}
		}
		// codec and audio (except audio/portaudio) use the standard library only.
		if (strings.HasPrefix(pkg, mod+"codec") || strings.HasPrefix(pkg, mod+"audio")) && !strings.HasPrefix(pkg, mod+"audio/portaudio") {
			checked++
			for _, d := range depList {
				if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") && !strings.HasPrefix(d, mod) {
					t.Errorf("%s depends on %s; codec and audio stay stdlib-only", pkg, d)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package was checked: the rules no longer match the module")
	}
}
