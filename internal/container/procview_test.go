package container

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestIdentityTrees: both ways of preparing the identity files give one
// read-only mount per file with the right content. Needs root (mounts).
func TestIdentityTrees(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test mounts file systems: run it as root (make test does)")
	}
	contents := map[string]string{"version": "Linux version 1.2.3\n", "osrelease": "1.2.3\n", "kversion": "#1\n"}
	for name, prepare := range map[string]func() ([]int, error){
		"detached": func() ([]int, error) { return detachedIdentityTrees(contents) },
		"attached": func() ([]int, error) { return attachedIdentityTrees(t.TempDir(), contents) },
	} {
		t.Run(name, func(t *testing.T) {
			trees, err := prepare()
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				for _, fd := range trees {
					unix.Close(fd)
				}
			}()
			if len(trees) != len(kernelIdentityFiles) {
				t.Fatalf("%d trees, want %d", len(trees), len(kernelIdentityFiles))
			}
			for i, f := range kernelIdentityFiles {
				p := "/proc/self/fd/" + strconv.Itoa(trees[i])
				got, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != contents[f.name] {
					t.Errorf("%s: %q, want %q", f.name, got, contents[f.name])
				}
				if err := os.WriteFile(p, []byte("x"), 0); err == nil {
					t.Errorf("%s: writable", f.name)
				}
			}
		})
	}
}
