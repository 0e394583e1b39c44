package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscage/syscage/internal/sentry"
)

// TestLargeAnnotationHandOff gives a container an annotation of each size
// a pod can carry (pod_annotations in containerd's CRI config; Kubernetes
// allows 256 KiB in all) and more. The sentry must receive the whole
// agent message, hold the listener and serve: uname reports the sandbox's
// release, never the host's. (A sentry that read one 64 KiB message lost
// the listener of a ~70 KB annotation: uname failed with ENOSYS, and a
// workload listener could have answered it with the host's.) A message
// above the sentry's cap must fail create with the reason, leaving
// nothing behind.
func TestLargeAnnotationHandOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		wantErr string // "" : the container must run and its sentry serve
	}{
		{name: "70KB", size: 70 << 10},
		{name: "1MB", size: 1 << 20},
		{name: "over the cap", size: sentry.MaxAgentMessage + 1, wantErr: "did not take the seccomp listener"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := newRuntime(t)
			b := newBundle(t, withArgs("sh", "-c", "uname -r; cat /proc/sys/kernel/osrelease"),
				withAnnotation("example.com/large", strings.Repeat("a", tt.size)))
			id := newID(t)
			res := rt.Run(nil, "run", "--bundle", b, id)
			if strings.Contains(res.Stdout, hostRelease) {
				t.Errorf("the host's release %s reached the container: %s", hostRelease, brief(res.Stdout, res.Stderr))
			}
			if tt.wantErr == "" {
				if want := defaultRelease + "\n" + defaultRelease + "\n"; res.Code != 0 || res.Stdout != want {
					t.Errorf("run: exit %d, stdout %q, want 0 and %q (uname answered by the sentry); %s",
						res.Code, res.Stdout, want, brief("", res.Stderr))
				}
			} else if res.Code == 0 || !strings.Contains(res.Stderr, tt.wantErr) {
				t.Errorf("run: exit %d, want a failure saying %q; %s", res.Code, tt.wantErr, brief(res.Stdout, res.Stderr))
			}
			root, _ := filepath.Abs(rt.Root)
			assertNothingLeft(t, id, filepath.Join(root, id), b)
		})
	}
}

// brief shortens command output for a message (an annotation of a
// megabyte may be echoed in an error).
func brief(stdout, stderr string) string {
	cut := func(s string) string {
		if len(s) > 600 {
			return s[:600] + "..."
		}
		return s
	}
	return "stdout: " + cut(stdout) + " stderr: " + cut(stderr)
}

// processesNaming lists host processes whose command line mentions s.
func processesNaming(s string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), s) {
			found = append(found, ent.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return found
}
