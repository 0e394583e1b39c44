package test

import (
	"strings"
	"testing"
	"time"
)

// TestKillInvalidSignal refuses signals that do not exist, and the
// container keeps running.
func TestKillInvalidSignal(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.startContainer(bundle)
	for _, tc := range []struct {
		sig  string
		want []string
	}{
		{sig: "FOO", want: []string{"unknown signal", "FOO"}},
		{sig: "SIGNOPE", want: []string{"unknown signal", "SIGNOPE"}},
		{sig: "KILLX", want: []string{"signal", "KILLX"}},
		{sig: "99", want: []string{"signal", "99"}},
		{sig: "0x9", want: []string{"signal", "0x9"}},
		{sig: "-5", want: []string{"signal"}},
	} {
		t.Run(tc.sig, func(t *testing.T) {
			r.fails(tc.want, "kill", id, tc.sig)
		})
	}
	r.fails([]string{"argument"}, "kill", id, "KILL", "extra")
	r.fails([]string{"no-such-container", "does not exist"}, "kill", "no-such-container", "KILL")
	if s := r.state(id); s.Status != "running" || s.Pid != st.Pid || !processExists(st.Pid) {
		t.Errorf("after invalid kills: status %q pid %d, want running pid %d", s.Status, s.Pid, st.Pid)
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}

// TestKillAll sends a signal to every process of the container with
// --all. The init below ignores SIGTERM (no handler, pid 1) but exits
// once its children are gone, so only --all stops it.
func TestKillAll(t *testing.T) {
	t.Parallel()
	for _, sig := range []string{"TERM", "KILL"} {
		t.Run(sig, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t, withArgs("sh", "-c", "sleep 1000 & sleep 1000 & wait"))
			id, st := r.startContainer(bundle)
			var children []int
			for deadline := time.Now().Add(5 * time.Second); len(children) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				children = children[:0]
				for _, p := range processes() {
					if strings.Contains(p.environ, markerEnv+"="+bundle) && p.pid != st.Pid && strings.HasPrefix(p.cmdline, "sleep") {
						children = append(children, p.pid)
					}
				}
			}
			if len(children) != 2 {
				t.Fatalf("want 2 sleep children of the container's init, found %v", children)
			}
			if sig == "TERM" {
				// Plain kill: init has no handler, nothing happens.
				r.ok("kill", id, "TERM")
				if s := r.state(id); s.Status != "running" {
					t.Fatalf("TERM to an init without a handler stopped it: %q", s.Status)
				}
			}
			r.ok("kill", "--all", id, sig)
			r.waitStatus(id, "stopped")
			for _, pid := range append(children, st.Pid) {
				waitGone(t, pid)
			}
			r.ok("delete", id)
			assertClean(t, r.Root, id, bundle)
		})
	}
}
