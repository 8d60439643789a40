package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// sippPath is where sipp is installed; the test is skipped without it.
func sippPath(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp is not installed (make test installs it)")
	}
	return bin
}

// runSippScenario runs sipp (bin) once as a UAC with the scenario xml against addr, from
// 127.0.0.1 on a free port, with extra arguments (-t, -mp…) and a 15 s timeout; it returns
// sipp's output and its error log when it failed.
func runSippScenario(t *testing.T, bin, xml, addr string, extra ...string) (out, errs []byte, err error) {
	t.Helper()
	dir := t.TempDir()
	sf := filepath.Join(dir, "scenario.xml")
	if err := os.WriteFile(sf, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)), "-m", "1", "-nostdin",
		"-timeout", "15s", "-trace_err", "-error_file", filepath.Join(dir, "err.log")}, extra...)
	cmd := exec.Command(bin, append(args, addr)...)
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	if err != nil {
		errs, _ = os.ReadFile(filepath.Join(dir, "err.log"))
	}
	return out, errs, err
}
