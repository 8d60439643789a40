package interop

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// answerForSippUAC starts `dialtone answer` on a free port of 127.0.0.1 with args and returns
// it, and a sipp command that places one call to it with the UAC scenario testdata/<scenario>
// (sipp's own SIP and media ports free, giving up after timeout), run in a directory of its own
// (returned) for its logs. The command is not started.
func answerForSippUAC(t *testing.T, scenario string, timeout time.Duration, args ...string) (*proc, *exec.Cmd, string) {
	t.Helper()
	bin := sippPath(t)
	sf, err := filepath.Abs(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	d := startDialtone(t, nil, append([]string{"answer", "--listen", "127.0.0.1:0", "--json", "--count", "1", "--audio", "null"}, args...)...)
	addr := d.waitEvent("listening", 10*time.Second).str("addr")
	dir := t.TempDir()
	cmd := exec.Command(bin, "-sf", sf, "-t", "u1", "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeEvenUDPPort(t)), "-m", "1", "-nostdin",
		"-timeout", strconv.Itoa(int(timeout.Seconds()))+"s", "-trace_msg", "-message_file", filepath.Join(dir, "msg.log"), addr)
	cmd.Dir = dir
	return d, cmd, dir
}
