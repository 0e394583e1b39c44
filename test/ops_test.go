package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestPauseResume freezes a running container and thaws it again, checking
// the state and the freezer cgroup each time.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.startContainer(bundle)
	freezer := cgroupFile(t, "freezer", id, "freezer.state")

	r.ok("pause", id)
	if s := r.state(id); s.Status != "paused" || s.Pid != st.Pid {
		t.Errorf("after pause: status %q pid %d, want paused pid %d", s.Status, s.Pid, st.Pid)
	}
	if got := readTrim(t, freezer); got != "FROZEN" {
		t.Errorf("%s = %q after pause, want FROZEN", freezer, got)
	}
	r.fails([]string{"paused"}, "exec", id, "true")
	r.fails([]string{"paused"}, "pause", id)

	r.ok("resume", id)
	if s := r.state(id); s.Status != "running" {
		t.Errorf("after resume: status %q, want running", s.Status)
	}
	if got := readTrim(t, freezer); got != "THAWED" {
		t.Errorf("%s = %q after resume, want THAWED", freezer, got)
	}
	r.fails([]string{"not paused"}, "resume", id)
	if res := r.ok("exec", id, "echo", "thawed"); res.Stdout != "thawed\n" {
		t.Errorf("exec after resume: %s", res)
	}

	// A paused container can be force-deleted.
	r.ok("pause", id)
	r.ok("delete", "--force", id)
	waitGone(t, st.Pid)
	assertClean(t, r.Root, id, bundle)
}

// TestPauseNotRunning refuses to pause a container that does not run, or
// to update it or read its stats once it has stopped.
func TestPauseNotRunning(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	r.fails([]string{"no-such-container", "does not exist"}, "pause", "no-such-container")
	r.fails([]string{"no-such-container", "does not exist"}, "resume", "no-such-container")
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	r.fails([]string{"not running"}, "pause", id)
	r.fails([]string{"stopped"}, "update", "--pids-limit", "10", id)
	r.fails([]string{"not running"}, "events", "--stats", id)
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}

// TestPs lists the container's processes as JSON: the host pids of init
// and of an exec'd process.
func TestPs(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.startContainer(bundle)
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.ok("exec", "-d", "--pid-file", pidFile, id, "sleep", "998")
	execPid := readPidFile(t, pidFile)

	res := r.ok("ps", "--format", "json", id)
	var pids []int
	if err := json.Unmarshal([]byte(res.Stdout), &pids); err != nil {
		t.Fatalf("ps --format json is not a JSON list of pids: %v\n%s", err, res)
	}
	for _, want := range []int{st.Pid, execPid} {
		if !slices.Contains(pids, want) {
			t.Errorf("ps lists %v, missing pid %d", pids, want)
		}
	}
	// The default table format has a header and a line for init.
	res = r.ok("ps", id)
	if !strings.Contains(res.Stdout, "PID") || !strings.Contains(res.Stdout, strconv.Itoa(st.Pid)) {
		t.Errorf("ps table lacks a PID header or init's pid %d: %s", st.Pid, res)
	}
	// Options after the id are the host ps's, dashes included.
	res = r.ok("ps", id, "-o", "pid,comm")
	if !strings.Contains(res.Stdout, "sleep") || !strings.Contains(res.Stdout, strconv.Itoa(execPid)) {
		t.Errorf("ps %s -o pid,comm lacks the exec'd sleep %d: %s", id, execPid, res)
	}
	r.fails([]string{"PID"}, "ps", id, "-o", "comm")
	r.fails([]string{"format"}, "ps", "--format", "yaml", id)
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}

// TestEventsStats prints one stats event as JSON.
func TestEventsStats(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	res := r.ok("events", "--stats", id)
	var ev struct {
		Type string                     `json:"type"`
		ID   string                     `json:"id"`
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &ev); err != nil {
		t.Fatalf("events --stats is not one JSON object: %v\n%s", err, res)
	}
	if ev.Type != "stats" || ev.ID != id {
		t.Errorf("event type %q id %q, want stats %q", ev.Type, ev.ID, id)
	}
	var pids struct {
		Current int `json:"current"`
	}
	if err := json.Unmarshal(ev.Data["pids"], &pids); err != nil || pids.Current < 1 {
		t.Errorf("stats data.pids.current = %d (%v), want >= 1: %s", pids.Current, err, res.Stdout)
	}
	if _, ok := ev.Data["memory"]; !ok {
		t.Errorf("stats data has no memory section: %s", res.Stdout)
	}
	r.fails([]string{"no-such-container"}, "events", "--stats", "no-such-container")
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}

// TestList lists containers of one root in each status, as JSON and ids.
func TestList(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	if res := r.ok("list", "-q"); strings.TrimSpace(res.Stdout) != "" {
		t.Errorf("list of an empty root: %s", res)
	}
	bundle := newBundle(t)
	created, _ := r.create(bundle)
	running, st := r.startContainer(bundle)

	res := r.ok("list", "--format", "json")
	var list []state
	if err := json.Unmarshal([]byte(res.Stdout), &list); err != nil {
		t.Fatalf("list --format json: %v\n%s", err, res)
	}
	got := map[string]state{}
	for _, s := range list {
		got[s.ID] = s
	}
	if len(got) != 2 || got[created].Status != "created" || got[running].Status != "running" || got[running].Pid != st.Pid {
		t.Errorf("list --format json = %+v, want %s created and %s running pid %d", list, created, running, st.Pid)
	}
	if got[running].Bundle != bundle {
		t.Errorf("list bundle %q, want %q", got[running].Bundle, bundle)
	}
	res = r.ok("list", "-q")
	ids := strings.Fields(res.Stdout)
	slices.Sort(ids)
	want := []string{created, running}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("list -q = %q, want %q", ids, want)
	}
	res = r.ok("list")
	if !strings.Contains(res.Stdout, "ID") || !strings.Contains(res.Stdout, running) {
		t.Errorf("list table: %s", res)
	}
	r.ok("delete", created)
	r.stopAndDelete(running)
	assertClean(t, r.Root, created, bundle)
	assertClean(t, r.Root, running, bundle)
}

// TestUpdate changes a running container's resources from JSON on stdin
// and reads the new limits back from its cgroups.
func TestUpdate(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	pidsMax := cgroupFile(t, "pids", id, "pids.max")
	memLimit := cgroupFile(t, "memory", id, "memory.limit_in_bytes")

	res := r.runStdin(`{"pids": {"limit": 123}, "memory": {"limit": 67108864}}`, "update", "--resources", "-", id)
	if res.Code != 0 {
		t.Fatalf("update --resources -: %s", res)
	}
	if got := readTrim(t, pidsMax); got != "123" {
		t.Errorf("%s = %q, want 123", pidsMax, got)
	}
	if got := readTrim(t, memLimit); got != "67108864" {
		t.Errorf("%s = %q, want 67108864", memLimit, got)
	}
	// From a file instead of stdin.
	resFile := filepath.Join(t.TempDir(), "resources.json")
	if err := os.WriteFile(resFile, []byte(`{"pids": {"limit": 99}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r.ok("update", "--resources", resFile, id)
	if got := readTrim(t, pidsMax); got != "99" {
		t.Errorf("%s = %q after --resources FILE with limit 99", pidsMax, got)
	}
	// The same through flags.
	r.ok("update", "--pids-limit", "77", "--memory", "32m", id)
	if got := readTrim(t, pidsMax); got != "77" {
		t.Errorf("%s = %q after --pids-limit 77", pidsMax, got)
	}
	if got := readTrim(t, memLimit); got != "33554432" {
		t.Errorf("%s = %q after --memory 32m, want 33554432", memLimit, got)
	}
	r.fails([]string{"pids-limit"}, "update", "--pids-limit", "lots", id)
	r.ok("update", "--pids-limit", "123", id)

	checkFailure(t, r.runStdin(`{"pids": {"limit": "many"}}`, "update", "--resources", "-", id), "limit")
	checkFailure(t, r.runStdin(`{not json`, "update", "--resources", "-", id), "json")
	checkFailure(t, r.runStdin(`{}`, "update", "--resources", "-", "no-such-container"), "no-such-container")
	if got := readTrim(t, pidsMax); got != "123" {
		t.Errorf("a failed update changed %s to %q", pidsMax, got)
	}
	r.ok("delete", "--force", id)
	assertClean(t, r.Root, id, bundle)
}

// TestSpec writes a default config.json that parses as an OCI spec, will
// not overwrite one, and runs as a container once given a rootfs.
func TestSpec(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	dir := t.TempDir()
	r.ok("spec", "--bundle", dir)
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("spec's config.json: %v", err)
	}
	if s.Version == "" || s.Process == nil || len(s.Process.Args) == 0 || s.Root == nil || s.Linux == nil {
		t.Errorf("spec's config.json lacks ociVersion, process.args, root or linux:\n%s", data)
	}
	r.fails([]string{"config.json"}, "spec", "--bundle", dir)

	env.NewRootfs(t, filepath.Join(dir, s.Root.Path))
	s.Process.Terminal = false
	s.Process.Args = []string{"sh", "-c", "exit 4"}
	writeSpec(t, dir, &s)
	id := newID(t)
	if res := r.run("run", "--bundle", dir, id); res.Code != 4 {
		t.Errorf("a bundle from `spec`: %s", res)
	}
	assertClean(t, r.Root, id, dir)
}

// TestFeatures prints the OCI features document.
func TestFeatures(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	res := r.ok("features")
	var f struct {
		OCIVersionMin string   `json:"ociVersionMin"`
		OCIVersionMax string   `json:"ociVersionMax"`
		Hooks         []string `json:"hooks"`
		Linux         *struct {
			Namespaces []string `json:"namespaces"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &f); err != nil {
		t.Fatalf("features is not JSON: %v\n%s", err, res)
	}
	if f.OCIVersionMin == "" || f.OCIVersionMax == "" || f.Linux == nil || !slices.Contains(f.Linux.Namespaces, "pid") {
		t.Errorf("features lacks ociVersionMin/Max or linux.namespaces with pid: %s", res.Stdout)
	}
}

// TestVersion prints the runtime and OCI spec versions.
func TestVersion(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	res := r.ok("--version")
	if !strings.Contains(res.Stdout, "syscage") || !strings.Contains(res.Stdout, "spec: "+specs.Version) {
		t.Errorf("--version lacks the name or \"spec: %s\": %s", specs.Version, res)
	}
}

// TestLogJSON writes errors to --log as JSON lines, which containerd's
// go-runc client parses to report why a command failed.
func TestLogJSON(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	logFile := filepath.Join(t.TempDir(), "log.json")
	res := r.run("--log", logFile, "--log-format", "json", "state", "no-such-container")
	checkFailure(t, res, "no-such-container")
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("--log file: %v", err)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if entry.Level == "error" && strings.Contains(entry.Msg, "no-such-container") {
			found = true
		}
	}
	if !found {
		t.Errorf("no error entry naming the container in the JSON log:\n%s", data)
	}
}

// TestEventsStream prints stats events every --interval until the
// container stops, then exits by itself.
func TestEventsStream(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	ev := r.command("events", "--interval", "100ms", id)
	ev.Start()
	var lines []string
	for deadline := time.Now().Add(10 * time.Second); len(lines) < 3 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		lines = strings.Split(strings.TrimSpace(ev.Stdout()), "\n")
	}
	if len(lines) < 3 {
		t.Errorf("events --interval 100ms: %d lines in 10s, want 3: %q", len(lines), lines)
	}
	for _, line := range lines[:len(lines)-1] { // the last may be partial
		var e struct {
			Type, ID string
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Type != "stats" || e.ID != id {
			t.Errorf("event line %q: want a stats event for %s (%v)", line, id, err)
		}
	}
	r.ok("kill", id, "KILL")
	done := make(chan result, 1)
	go func() { done <- ev.Wait() }()
	select {
	case res := <-done:
		if res.Code < 0 {
			t.Errorf("events after the container stopped: %s", res)
		}
	case <-time.After(15 * time.Second):
		_ = ev.Cmd.Process.Kill()
		t.Errorf("events did not exit within 15s of the container stopping")
		<-done
	}
	r.waitStatus(id, "stopped")
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}

// TestKillPaused stops a paused container with SIGKILL; a paused container
// cannot be deleted without --force.
func TestKillPaused(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.startContainer(bundle)
	r.ok("pause", id)
	r.fails([]string{"paused"}, "delete", id)
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	waitGone(t, st.Pid)
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}
