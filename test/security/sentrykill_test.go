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
)

// TestSentryKilledFailsClosed kills a running container's sentry with
// SIGKILL while its program loops over uname (emulated by the sentry) and
// keyctl (always denied). Afterwards no mediated call may succeed: uname
// must fail with ENOSYS (the kernel's answer when the listener is gone),
// never return the host's release; keyctl must stay refused — EPERM from
// the filter, or ENOSYS when auditing had turned the denial into a
// notification. An exec into the orphaned container must not run with
// the filter open either, and the container must still be killed and
// deleted with nothing left behind.
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
	b := newBundle(t, withArgs("sh", "-c", "exec /t/loop >/ctl/out 2>&1"), withBind(ctl, "/ctl"))
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
	if v := stateField(rt, id, "sentry"); v == "gone" {
		t.Errorf("state says the sentry is gone before it was killed")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the sentry: %v", err)
	}
	if !waitFor(10*time.Second, func() bool { return !alive(pid) }) {
		t.Fatalf("sentry %d still alive after SIGKILL", pid)
	}
	if v := stateField(rt, id, "sentry"); v != "gone" {
		t.Errorf("state's sentry field is %q after the sentry died, want \"gone\"", v)
	}
	if ev := sentryGoneEvent(t, rt, id); ev == "" {
		t.Errorf("events did not report the sentry gone within 3s")
	}
	if err := os.WriteFile(filepath.Join(ctl, "killed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !waitFor(20*time.Second, func() bool { return strings.Contains(out(), "DONE\n") }) {
		t.Fatalf("the loop did not report after the sentry's death; output:\n%s", out())
	}
	after := map[string]string{}
	for _, l := range lines(out(), "A ") {
		for _, kv := range strings.Fields(l) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				after[k] = v
			}
		}
	}
	const rounds = "500"
	wantKeyctl := "keyctl_eperm" // denied by the filter itself
	if audited {
		wantKeyctl = "keyctl_enosys" // the denial was a notification
	}
	for k, want := range map[string]string{
		"uname_ok": "0", "uname_enosys": rounds, "uname_other": "0",
		"keyctl_ok": "0", wantKeyctl: rounds, "keyctl_other": "0",
		"release_seen": "-",
	} {
		if after[k] != want {
			t.Errorf("after the sentry died: %s=%s, want %s (all: %v)", k, after[k], want, after)
		}
	}
	if strings.Contains(out(), hostRelease) {
		t.Errorf("the host's release %s reached the container:\n%s", hostRelease, out())
	}

	// A new process joining the container cannot bring the sandbox back
	// open: exec must fail, or its uname must fail.
	res := rt.Run(nil, "exec", id, "uname", "-r")
	if strings.Contains(res.Stdout+res.Stderr, hostRelease) {
		t.Errorf("exec after the sentry's death printed the host's release: %s", res)
	}
	if res.Code == 0 {
		t.Errorf("exec of `uname -r` succeeded without a sentry: %s", res)
	}
	t.Logf("exec after the sentry's death: exit %d, %s", res.Code, strings.TrimSpace(res.Stdout+" "+res.Stderr))

	// The container can still be killed and deleted cleanly.
	if res := rt.Run(nil, "kill", id, "KILL"); res.Code != 0 {
		t.Errorf("kill: %s", res)
	}
	if !waitFor(15*time.Second, func() bool { return status(rt, id) == "stopped" }) {
		t.Errorf("container not stopped after SIGKILL: %q", status(rt, id))
	}
	if res := rt.Run(nil, "delete", id); res.Code != 0 {
		t.Errorf("delete: %s", res)
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("state dir %s left behind (stat: %v)", stateDir, err)
	}
	if sock := agentSocket(stateDir); fileExists(sock) {
		t.Errorf("sentry socket %s left behind", sock)
	}
	if ps := markedProcesses(b); len(ps) > 0 {
		t.Errorf("container processes left behind: %v", ps)
	}
	if cg := cgroupLeftovers(id); len(cg) > 0 {
		t.Errorf("cgroups left behind: %v", cg)
	}
	if res := rt.Run(nil, "list", "-q"); strings.Contains(res.Stdout, id) {
		t.Errorf("list still shows %s: %s", id, res)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
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
