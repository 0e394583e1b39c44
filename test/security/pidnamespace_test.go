package security

// Attacks on a sentry that serves from inside the container's pid
// namespace, found by the review of its first version (06b0cbf), where
// both tests failed.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// liveThreads lists the threads of process pid that are not zombies
// (MarkedProcesses cannot see a process whose leader thread has exited:
// its environ is unreadable).
func liveThreads(pid int) []string {
	var live []string
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, task := range tasks {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/stat")
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] != 'Z' {
			live = append(live, task.Name())
		}
	}
	return live
}

// TestLeaderExitThenKillSentry: the container's pid 1 ends its
// thread-group leader with SYS_exit (another thread lives on), so
// /proc/1/stat shows PF_EXITING while the pid namespace lives; it then
// SIGKILLs its sentry. The watchdog must still treat that as a death of
// the sentry and kill the container (fail closed, as for
// TestSentryKilledFromInside). On 06b0cbf pidns.Target.Ending reads the
// leader's flags, the watchdog takes the SIGKILL for the namespace's end
// and exits quietly, and the workload runs on with no sentry and no
// watchdog (its mediated calls answer ENOSYS).
func TestLeaderExitThenKillSentry(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	ctl := t.TempDir()
	b := newBundle(t, withArgs("/t/leaderexit"), withCaps(dockerCaps), withBind(ctl, "/ctl"))
	id := newID(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	if res := rt.Run(nil, "run", "-d", "--pid-file", pidFile, "--bundle", b, id); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	pid := sandboxtest.ReadPidFile(t, pidFile)
	// Registered after the harness's own cleanup, so it runs first: the
	// CLI cannot stop a container whose init's leader thread has exited
	// (state says stopped), so the test kills what it started.
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitFor(15*time.Second, func() bool { return !fileExists("/proc/" + strconv.Itoa(pid)) })
		rt.Run(nil, "delete", "--force", id)
	})
	if !waitFor(15*time.Second, func() bool { return fileExists(filepath.Join(ctl, "killed")) }) {
		t.Fatalf("the init never got to kill its sentry")
	}
	killed, _ := os.ReadFile(filepath.Join(ctl, "killed"))
	if f := strings.Fields(string(killed)); len(f) != 2 || f[1] != "0" {
		t.Fatalf("kill of the sentry from inside: %q", killed)
	}
	if !waitFor(15*time.Second, func() bool { return len(liveThreads(pid)) == 0 }) {
		uname, _ := os.ReadFile(filepath.Join(ctl, "uname"))
		watchdog := "gone"
		if pid, err := os.ReadFile(filepath.Join(rt.Root, id, "watchdog.pid")); err == nil {
			if syscall.Kill(atoiOr0(string(pid)), 0) == nil {
				watchdog = "alive"
			}
		}
		t.Errorf("the container runs on after its init killed the sentry with its leader thread exited: live threads of pid %d: %v; its uname(2) now answers %q; watchdog %s; state %s",
			pid, liveThreads(pid), strings.TrimSpace(string(uname)), watchdog, stateField(rt, id, "status"))
	}
}

func atoiOr0(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

// statePid is the container's init pid from `state`.
func statePid(t *testing.T, rt *runtime, id string) int {
	t.Helper()
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(rt.Run(nil, "state", id).Stdout), &st); err != nil || st.Pid <= 0 {
		t.Fatalf("state %s: pid %d (%v)", id, st.Pid, err)
	}
	return st.Pid
}

// withPidNamespaceOf makes the container join the pid namespace of pid.
func withPidNamespaceOf(pid int) specOpt {
	return func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			if n.Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(pid) + "/ns/pid"
			}
		}
	}
}

// TestSiblingPtraceRefused: container A (Docker's default
// capabilities) has its sentry inside its pid namespace; container B,
// granted CAP_SYS_PTRACE (its own sentry is then placed outside), joins
// A's pid namespace by path, as a pod's containers or a `kubectl debug
// --target` container do. B must not reach A's sentry: either its create
// is refused, or the sentry's fds stay closed to it. On 06b0cbf B
// re-opens the sentry's host cgroup directories through
// /proc/<sentry>/fd/N, walks to their parents (the host's cgroup roots,
// every container's cgroups) and creates a directory there.
func TestSiblingPtraceRefused(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	a := newBundle(t, withArgs("sleep", "100000"), withCaps(dockerCaps))
	idA := newID(t)
	t.Cleanup(func() { rt.Run(nil, "delete", "--force", idA) })
	if res := rt.Run(nil, "run", "-d", "--bundle", a, idA); res.Code != 0 {
		t.Fatalf("run -d A: %s", res)
	}
	if place := stateField(rt, idA, "sentryServesFrom"); place != "the container's pid namespace" {
		t.Fatalf("A's sentry serves from %q; the test needs it inside", place)
	}
	pidA := statePid(t, rt, idA)
	b := newBundle(t, withArgs("sleep", "100000"), withCaps(append(append([]string{}, dockerCaps...), "CAP_SYS_PTRACE")), withPidNamespaceOf(pidA))
	idB := newID(t)
	t.Cleanup(func() { rt.Run(nil, "delete", "--force", idB) })
	res := rt.Run(nil, "run", "-d", "--bundle", b, idB)
	if res.Code != 0 {
		// The secure outcome, for the right reason.
		if !strings.Contains(res.Stderr, "CAP_SYS_PTRACE") || !strings.Contains(res.Stderr, "where the sentry of container") {
			t.Errorf("B refused, but not for CAP_SYS_PTRACE beside A's sentry: %s", res)
		}
		return
	}
	out := rt.Run(nil, "exec", idB, "/t/sentryfds")
	var reached []string
	for _, l := range strings.Split(out.Stdout, "\n") {
		if strings.HasPrefix(l, "reopened ") || strings.HasSuffix(l, " ok") {
			reached = append(reached, l)
		}
	}
	if len(reached) > 0 {
		t.Errorf("B (CAP_SYS_PTRACE, sharing A's pid namespace) reached A's sentry's host files:\n%s\nfull output:\n%s", strings.Join(reached, "\n"), out.Stdout)
	}
}
