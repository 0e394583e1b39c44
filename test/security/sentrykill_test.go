package security

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestSentryKilledFailsClosed kills a running container's sentry with
// SIGKILL while its program loops over uname (emulated by the sentry) and
// keyctl (always denied; a notification when auditing is on), with a
// second process beside it. Losing the sentry must stop the workload:
// every process of the container dies, no mediated call ever returns the
// host's answer in between, `state` says the sentry is gone and why, and
// `events` reports it; the container can then be deleted with nothing
// left behind. (Before the watchdog, the workload ran on with every
// notified call failing ENOSYS, free to install a listener of its own.)
func TestSentryKilledFailsClosed(t *testing.T) {
	t.Parallel()
	for _, audited := range []bool{false, true} {
		name := "audit-off"
		if audited {
			name = "audit-on"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sentryKill(t, audited)
		})
	}
}

func sentryKill(t *testing.T, audited bool) {
	rt := newRuntime(t)
	ctl, err := os.MkdirTemp("/tmp", "scc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ctl) })
	b := newBundle(t, withArgs("sh", "-c", "sleep 100000 & exec /t/loop >/ctl/out 2>&1"), withBind(ctl, "/ctl"))
	var global []string
	if audited {
		global = []string{"--strace-log", filepath.Join(ctl, "audit.jsonl")}
	}
	id := newID(t)
	if res := rt.Run(global, "run", "-d", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	out := func() string {
		data, _ := os.ReadFile(filepath.Join(ctl, "out"))
		return string(data)
	}
	if !waitFor(15*time.Second, func() bool { return strings.Contains(out(), "READY\n") }) {
		t.Fatalf("the loop never saw uname work through the sentry; output:\n%s", out())
	}
	before := lines(out(), "B ")
	if len(before) == 0 || !strings.HasPrefix(before[0], "0 0 "+defaultRelease+" -1 1") {
		t.Errorf("before the kill: %q, want uname 0 with %s and keyctl EPERM", before, defaultRelease)
	}
	if ps := markedProcesses(b); len(ps) < 2 {
		t.Fatalf("want the loop and a sleep in the container, found %v", ps)
	}

	root, _ := filepath.Abs(rt.Root)
	stateDir := filepath.Join(root, id)
	pidData, err := os.ReadFile(filepath.Join(stateDir, "sentry.pid"))
	if err != nil {
		t.Fatalf("sentry pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidData)))
	if err != nil || pid <= 1 {
		t.Fatalf("sentry pid file holds %q", pidData)
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if !strings.Contains(string(cmdline), "\x00sentry\x00") || !strings.Contains(string(cmdline), stateDir) {
		t.Fatalf("pid %d is not this container's sentry: %q", pid, cmdline)
	}
	if v := stateField(rt, id, "sentry"); v != "running" {
		t.Errorf("state's sentry field is %q before the kill, want \"running\"", v)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the sentry: %v", err)
	}

	// Every process of the container dies.
	if !waitFor(15*time.Second, func() bool { return len(markedProcesses(b)) == 0 }) {
		t.Errorf("container processes still alive after their sentry was killed: %v", markedProcesses(b))
	}
	if !waitFor(15*time.Second, func() bool { return status(rt, id) == "stopped" }) {
		t.Errorf("container status %q after its sentry was killed, want stopped", status(rt, id))
	}
	if strings.Contains(out(), hostRelease) {
		t.Errorf("the host's release %s reached the container:\n%s", hostRelease, out())
	}
	for _, l := range lines(out(), "B ") {
		if strings.HasPrefix(l, "0 ") && !strings.HasPrefix(l, "0 0 "+defaultRelease) {
			t.Errorf("a uname succeeded without the sentry: %q", l)
		}
	}
	// Before and after the kill, the workload never became its own agent.
	if l := lines(out(), "LISTENER "); len(l) > 0 {
		t.Errorf("the workload installed a seccomp listener of its own (fd %s)", l[0])
	}

	// state and events say why.
	res := rt.Run(nil, "state", id)
	var st struct {
		Status     string `json:"status"`
		Sentry     string `json:"sentry"`
		SentryExit *struct {
			Reason string `json:"reason"`
			Killed bool   `json:"killed"`
		} `json:"sentryExit"`
	}
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &st) != nil {
		t.Fatalf("state: %s", res)
	}
	if st.Sentry != "gone" || st.SentryExit == nil || !st.SentryExit.Killed ||
		!strings.Contains(st.SentryExit.Reason, "killed by signal 9") {
		t.Errorf("state after the sentry's death: %s\nwant sentry \"gone\" and sentryExit with the reason (killed by signal 9) and killed: true", res.Stdout)
	}
	if ev := sentryGoneEvent(t, rt, id); !strings.Contains(ev, "killed by signal 9") {
		t.Errorf("events: sentry-gone event %q, want one with the reason (killed by signal 9)", ev)
	}

	// Nothing runs in the container any more: exec fails.
	res = rt.Run(nil, "exec", id, "uname", "-r")
	if strings.Contains(res.Stdout+res.Stderr, hostRelease) {
		t.Errorf("exec after the sentry's death printed the host's release: %s", res)
	}
	if res.Code == 0 {
		t.Errorf("exec of `uname -r` succeeded without a sentry: %s", res)
	}

	if res := rt.Run(nil, "delete", id); res.Code != 0 {
		t.Errorf("delete: %s", res)
	}
	assertNothingLeft(t, id, stateDir, b)
	if res := rt.Run(nil, "list", "-q"); strings.Contains(res.Stdout, id) {
		t.Errorf("list still shows %s: %s", id, res)
	}
}

// assertNothingLeft fails t for anything container id (state dir
// stateDir, bundle b) left behind: its state, its sentry's socket, its
// processes, its sentry or watchdog, its cgroups.
func assertNothingLeft(t *testing.T, id, stateDir, b string) {
	t.Helper()
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("state dir %s left behind (stat: %v)", stateDir, err)
	}
	if sock := agentSocket(stateDir); fileExists(sock) {
		t.Errorf("sentry socket %s left behind", sock)
	}
	if ps := markedProcesses(b); len(ps) > 0 {
		t.Errorf("container processes left behind: %v", ps)
	}
	if ps := processesNaming(stateDir); len(ps) > 0 {
		t.Errorf("sentry or watchdog left behind: %v", ps)
	}
	if cg := cgroupLeftovers(id); len(cg) > 0 {
		t.Errorf("cgroups left behind: %v", cg)
	}
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// status is the container's status from `state`, or "" if unknown.
func status(rt *runtime, id string) string { return stateField(rt, id, "status") }

// stateField is one string field of `state`'s JSON, or "" if unknown.
func stateField(rt *runtime, id, field string) string {
	res := rt.Run(nil, "state", id)
	var st map[string]any
	if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &st) != nil {
		return ""
	}
	v, _ := st[field].(string)
	return v
}

// sentryGoneEvent runs `events` for up to 3 s and returns the first
// "sentry-gone" event line it prints ("" if none).
func sentryGoneEvent(t *testing.T, rt *runtime, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "--root", rt.Root, "events", "--interval", "100ms", id)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"type":"sentry-gone"`) {
			return sc.Text()
		}
	}
	return ""
}

// TestSentryKilledSharedPidNamespace: a container that joins another's
// pid namespace (Kubernetes shareProcessNamespace) is "stopped" once its
// init exits, while a child it left runs on under its filter, served by
// its sentry. Losing that sentry must still kill the child.
func TestSentryKilledSharedPidNamespace(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	host := newBundle(t, withArgs("sleep", "100000"))
	hostID := newID(t)
	if res := rt.Run(nil, "run", "-d", "--bundle", host, hostID); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	var hs struct {
		Pid int `json:"pid"`
	}
	if res := rt.Run(nil, "state", hostID); res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &hs) != nil || hs.Pid <= 0 {
		t.Fatalf("state: %s", res)
	}
	b := newBundle(t, withArgs("sh", "-c", "sleep 100001 & exit 0"), func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(hs.Pid) + "/ns/pid"
			}
		}
	})
	id := newID(t)
	if res := rt.Run(nil, "run", "-d", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	// The init exits; its child stays.
	if !waitFor(15*time.Second, func() bool { return status(rt, id) == "stopped" }) {
		t.Fatalf("the sharing container's init did not exit: %s", status(rt, id))
	}
	if ps := markedProcesses(b); len(ps) != 1 || !strings.Contains(ps[0], "sleep 100001") {
		t.Fatalf("want the orphaned sleep in the sharing container, found %v", ps)
	}
	pidData, err := os.ReadFile(filepath.Join(rt.Root, id, "sentry.pid"))
	if err != nil {
		t.Fatalf("sentry pid file: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidData)))
	if pid <= 1 {
		t.Fatalf("sentry pid %q", pidData)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the sentry: %v", err)
	}
	if !waitFor(15*time.Second, func() bool { return len(markedProcesses(b)) == 0 }) {
		t.Errorf("the orphaned process runs on without its sentry: %v", markedProcesses(b))
	}
	if res := rt.Run(nil, "delete", "--force", id); res.Code != 0 {
		t.Errorf("delete: %s", res)
	}
}

// TestSentryKilledFromInside: the sentry serves from the container's pid
// namespace, where the container's root (CAP_KILL over the host's user
// namespace) can name it and SIGKILL it. That is the tenant stopping its
// own container, and nothing more: the watchdog kills every process of
// the container, as for any other death of the sentry, and says why.
func TestSentryKilledFromInside(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("sh", "-c", "sleep 100000 & exec sleep 100000"))
	id := newID(t)
	if res := rt.Run(nil, "run", "-d", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	root, _ := filepath.Abs(rt.Root)
	stateDir := filepath.Join(root, id)
	pidData, err := os.ReadFile(filepath.Join(stateDir, "sentry.pid"))
	if err != nil {
		t.Fatalf("sentry pid file: %v", err)
	}
	status, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pidData)) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var inside string
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "NSpid:" {
			inside = f[2]
		}
	}
	if inside == "" {
		t.Fatalf("the sentry is not in a pid namespace of the container's:\n%s", status)
	}
	// exec's own process dies with the rest: its exit status is not the point.
	rt.Run(nil, "exec", id, "kill", "-KILL", inside)
	if !waitFor(15*time.Second, func() bool { return len(markedProcesses(b)) == 0 }) {
		t.Errorf("container processes still alive after their sentry was killed from inside: %v", markedProcesses(b))
	}
	res := rt.Run(nil, "state", id)
	if !strings.Contains(res.Stdout, "killed by signal 9") || !strings.Contains(res.Stdout, `"killed": true`) {
		t.Errorf("state after the sentry was killed from inside: %s\nwant the reason (killed by signal 9) and killed: true", res.Stdout)
	}
	if res := rt.Run(nil, "delete", id); res.Code != 0 {
		t.Errorf("delete: %s", res)
	}
	assertNothingLeft(t, id, stateDir, b)
}
