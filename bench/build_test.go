package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Builds of dialtone for the whole-process benchmarks: the tree's, and a git revision's for a
// before/after in the same run.

// buildDialtone builds cmd/dialtone of the module at root.
func buildDialtone(b *testing.B, root string) string {
	bin := filepath.Join(b.TempDir(), "dialtone")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/dialtone")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build dialtone in %s: %v\n%s", root, err, out)
	}
	return bin
}

// buildBaseline builds dialtone as it was at git revision rev, from an archive of that commit.
func buildBaseline(b *testing.B, rev string) string {
	dir := b.TempDir()
	tarball := filepath.Join(b.TempDir(), "src.tar")
	archive := exec.Command("git", "archive", "--format=tar", "-o", tarball, rev)
	archive.Dir = ".."
	if out, err := archive.CombinedOutput(); err != nil {
		b.Fatalf("git archive %s: %v %s", rev, err, out)
	}
	if out, err := exec.Command("tar", "-x", "-C", dir, "-f", tarball).CombinedOutput(); err != nil {
		b.Fatalf("tar: %v %s", err, out)
	}
	return buildDialtone(b, dir)
}

// baselineBin is the dialtone to compare with: rev names a dialtone binary, or a git revision
// to build one from (buildBaseline).
func baselineBin(b *testing.B, rev string) string {
	if st, err := os.Stat(rev); err == nil && st.Mode().IsRegular() {
		return rev
	}
	return buildBaseline(b, rev)
}
