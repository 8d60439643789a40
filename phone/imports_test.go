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
	forbidden := []struct {
		pkgPrefix string
		deny      []string
	}{
		{mod + "phone", []string{"charm.land/", "github.com/charmbracelet/", "github.com/gordonklaus/portaudio", mod + "ui", mod + "cmd", mod + "audio/portaudio"}},
		{mod + "phone/media", []string{"github.com/emiago/sipgo"}},
		{mod + "phone/call", []string{"net", "github.com/emiago/sipgo"}},
		{mod + "phone/sdp", []string{"net", "github.com/emiago/sipgo"}},
		{mod + "ui", []string{"github.com/emiago/sipgo", "github.com/pion/", "github.com/gordonklaus/portaudio"}},
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, "github.com/dialtone/dialtone/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		depList := strings.Fields(deps)
		for _, rule := range forbidden {
			if pkg != rule.pkgPrefix && !strings.HasPrefix(pkg, rule.pkgPrefix+"/") {
				continue
			}
			checked++
			for _, d := range depList {
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
