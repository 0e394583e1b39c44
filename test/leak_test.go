package test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// hostSnapshot is the host state a container could leak into.
type hostSnapshot struct {
	mounts  []string
	cgroups []string
	procs   map[int]string // pid → cmdline
	fds     int            // our own open file descriptors
}

func snapshot(t *testing.T) hostSnapshot {
	t.Helper()
	s := hostSnapshot{mounts: mounts(), cgroups: cgroupDirs(), procs: map[int]string{}}
	for _, p := range processes() {
		s.procs[p.pid] = p.cmdline
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	s.fds = len(fds)
	return s
}

// added returns the elements of after that are not in before.
func added(before, after []string) []string {
	var out []string
	for _, a := range after {
		if !slices.Contains(before, a) {
			out = append(out, a)
		}
	}
	return out
}

// TestFiftyCycles runs 50 create/start/kill/delete cycles and then compares
// the host with a snapshot taken before: no new mounts, cgroups, state
// directories, processes or file descriptors. It is not parallel, so no
// other test of this package runs meanwhile; whatever appears and is
// attributable to these containers (their ids, bundle, marker or our
// binary) fails the test, and anything else that appears is logged.
func TestFiftyCycles(t *testing.T) {
	r := newRuntime(t)
	bundle := newBundle(t)
	prefix := fmt.Sprintf("leak%s-", env.RunTag)
	before := snapshot(t)
	var ids []string
	var pids []int
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("%s%02d", prefix, i)
		ids = append(ids, id)
		r.ok("create", "--bundle", bundle, id)
		r.ok("start", id)
		st := r.waitStatus(id, "running")
		pids = append(pids, st.Pid)
		r.ok("kill", id, "KILL")
		r.waitStatus(id, "stopped")
		r.ok("delete", id)
		if t.Failed() {
			t.Fatalf("cycle %d failed", i)
		}
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
	checkNoLeaks(t, before, r, prefix, ids, bundle)
}

// TestOtherCycles repeats the other ways containers come and go — run -d,
// a foreground and a detached exec, delete --force, and a foreground run —
// and checks the host as TestFiftyCycles does.
func TestOtherCycles(t *testing.T) {
	r := newRuntime(t)
	bundle := newBundle(t)
	short := newBundle(t, withArgs("true"))
	prefix := fmt.Sprintf("leak%s-other-", env.RunTag)
	before := snapshot(t)
	var ids []string
	// Ten, not fifty: a force-delete after a detached exec takes about
	// 1.5s (runc 1.1.5 takes as long here).
	for i := 0; i < 10; i++ {
		id, fg := fmt.Sprintf("%s%02d", prefix, i), fmt.Sprintf("%s%02d-fg", prefix, i)
		ids = append(ids, id, fg)
		r.ok("run", "-d", "--bundle", bundle, id)
		if res := r.ok("exec", id, "echo", "x"); res.Stdout != "x\n" {
			t.Errorf("exec in cycle %d: %s", i, res)
		}
		r.ok("exec", "-d", id, "sleep", "100")
		r.ok("delete", "--force", id)
		r.ok("run", "--bundle", short, fg)
		if t.Failed() {
			t.Fatalf("cycle %d failed", i)
		}
	}
	checkNoLeaks(t, before, r, prefix, ids, bundle, short)
}

// checkNoLeaks compares the host with the snapshot taken before cycles of
// containers whose ids (all starting with prefix) ran from bundles: what is
// attributable to them fails the test, anything else new is logged.
func checkNoLeaks(t *testing.T, before hostSnapshot, r *runtime, prefix string, ids []string, bundles ...string) {
	t.Helper()
	ours := func(s string) bool {
		if strings.Contains(s, prefix) || strings.Contains(s, r.Root) || strings.Contains(s, env.Binary) {
			return true
		}
		for _, b := range bundles {
			if strings.Contains(s, b) {
				return true
			}
		}
		return false
	}
	var after hostSnapshot
	var leaks []string
	// Teardown finishing in the kernel can lag a little; retry briefly.
	for try := 0; try < 30; try++ {
		after = snapshot(t)
		leaks = leaks[:0]
		entries, _ := os.ReadDir(r.Root)
		for _, e := range entries {
			leaks = append(leaks, "state directory "+e.Name())
		}
		for _, m := range added(before.mounts, after.mounts) {
			if ours(m) {
				leaks = append(leaks, "mount "+m)
			}
		}
		for _, c := range added(before.cgroups, after.cgroups) {
			if ours(c) {
				leaks = append(leaks, "cgroup "+c)
			}
		}
		for _, p := range processes() {
			if _, ok := before.procs[p.pid]; ok {
				continue
			}
			if ours(p.cmdline) || strings.Contains(p.environ, markerEnv+"=") && ours(p.environ) {
				leaks = append(leaks, fmt.Sprintf("process %d: %s", p.pid, p.cmdline))
			}
		}
		if after.fds > before.fds {
			leaks = append(leaks, fmt.Sprintf("the test process has %d open fds, %d before", after.fds, before.fds))
		}
		for _, id := range ids {
			for _, b := range bundles {
				for _, l := range leftovers(r.Root, id, b) {
					leaks = append(leaks, id+": "+l)
				}
			}
		}
		if len(leaks) == 0 {
			break
		}
		sleepBrief()
	}
	if len(leaks) > 0 {
		t.Errorf("%d containers left behind:\n  %s", len(ids), strings.Join(leaks, "\n  "))
	}
	// Changes on the host this test cannot be blamed for, for the record.
	for _, m := range added(before.mounts, after.mounts) {
		if !ours(m) {
			t.Logf("note: mount %s appeared meanwhile (not attributable to this test)", m)
		}
	}
	for _, c := range added(before.cgroups, after.cgroups) {
		if !ours(c) {
			t.Logf("note: cgroup %s appeared meanwhile (not attributable to this test)", c)
		}
	}
}

// TestLeftoverCheckWorks proves the leak checks are not vacuous: a live
// container is reported (state, cgroups, processes), and after delete it
// is not.
func TestLeftoverCheckWorks(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.startContainer(bundle)
	// "running" means start has released the init (as with runc), not that
	// the init has already exec'd the program: wait until it has.
	cmdline := fmt.Sprintf("/proc/%d/cmdline", st.Pid)
	if !sandboxtest.WaitFor(10*time.Second, func() bool {
		b, err := os.ReadFile(cmdline)
		return err == nil && strings.HasPrefix(string(b), "sleep\x00")
	}) {
		t.Fatalf("the container's process %d never became sleep", st.Pid)
	}
	left := strings.Join(leftovers(r.Root, id, bundle), "\n")
	for _, want := range []string{
		"state directory " + r.Root + "/" + id,
		"/sys/fs/cgroup/pids/",
		"/sys/fs/cgroup/memory/",
		"/sys/fs/cgroup/freezer/",
		fmt.Sprintf("process %d: sleep 1000", st.Pid),
	} {
		if !strings.Contains(left, want) {
			t.Errorf("leftovers of a live container do not include %q:\n%s", want, left)
		}
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}
