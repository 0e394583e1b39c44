package test

import (
	"regexp"
	"strings"
	"testing"
)

// stdioProbe prints what the process's fds 0-2 are (stat -L: "fifo" for
// a pipe, "regular file" for a file) and where fd 1 leads, then copies
// its stdin to stdout and exits 7.
const stdioProbe = `for f in 0 1 2; do stat -L -c %F /proc/self/fd/$f; done; readlink /proc/self/fd/1; cat; exit 7`

// pipeOutput is stdioProbe's stdout when fds 0-2 are pipes and stdin
// carries "in".
var pipeOutput = regexp.MustCompile(`^fifo\nfifo\nfifo\npipe:\[\d+\]\nin\n$`)

// TestForegroundStdioPipes runs and execs a process in the foreground
// without a terminal while the runtime's stdout and stderr are files (the
// harness gives every command unlinked temporary files): the process must
// get pipes, never the caller's files (it could fstat, seek and truncate
// them, and read their host path), and its stdin, output and exit code
// must still go through.
func TestForegroundStdioPipes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, r *runtime) result
	}{
		{"run", func(t *testing.T, r *runtime) result {
			bundle := newBundle(t, withArgs("sh", "-c", stdioProbe))
			id := newID(t)
			res := r.runStdin("in\n", "run", "--bundle", bundle, id)
			assertClean(t, r.Root, id, bundle)
			return res
		}},
		{"exec", func(t *testing.T, r *runtime) result {
			bundle := newBundle(t)
			id, _ := r.startContainer(bundle)
			defer func() {
				r.stopAndDelete(id)
				assertClean(t, r.Root, id, bundle)
			}()
			return r.runStdin("in\n", "exec", id, "sh", "-c", stdioProbe)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.run(t, newRuntime(t))
			if res.Code != 7 {
				t.Errorf("exit %d, want the process's 7: %s", res.Code, res)
			}
			if !pipeOutput.MatchString(res.Stdout) {
				t.Errorf("the process's stdio is not three pipes (or its stdin did not arrive):\n%s", res.Stdout)
			}
			if strings.Contains(res.Stdout, "/") {
				t.Errorf("the process saw a host path on its stdout:\n%s", res.Stdout)
			}
		})
	}
}
