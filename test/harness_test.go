// This file is the harness of the integration tests (see doc.go): what
// they add to test/internal/sandboxtest (which builds the binary, makes
// bundles and runs commands) — reading state, driving the lifecycle, and
// checking that nothing is left behind.

package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// env is the binary, template rootfs and base spec TestMain built.
var env *sandboxtest.Env

// markerEnv is set in every container process's environment (with the
// bundle path as its value) so leftover processes can be found.
const markerEnv = "SYSCAGE_TEST_BUNDLE"

func TestMain(m *testing.M) {
	code := sandboxtest.Main(m, "integration", sandboxtest.Options{
		ModuleRoot: "..",
		Marker:     markerEnv,
		IDPrefix:   "it",
		Hostname:   "syscage-it",
		Args:       []string{"sleep", "1000"},
		// Without `syscage spec` the other tests still run; TestSpec fails.
		FallbackSpec: specconv.Example(),
	}, func(e *sandboxtest.Env) error { env = e; return nil })
	removeUserBinary()
	os.Exit(code)
}

// The shared harness, under the names these tests use.
type (
	specOpt = sandboxtest.SpecOpt
	result  = sandboxtest.Result
	command = sandboxtest.Command
)

var (
	readTrim     = sandboxtest.ReadTrim
	readPidFile  = sandboxtest.ReadPidFile
	withArgs     = sandboxtest.WithArgs
	writeSpec    = sandboxtest.WriteSpec
	shortTempDir = sandboxtest.ShortTempDir
	waitFor      = sandboxtest.WaitFor
)

// newBundle makes a bundle in a fresh directory: a busybox rootfs and a
// config.json whose process runs `sleep 1000` without a terminal, with the
// marker variable in its environment, changed by opts.
func newBundle(t *testing.T, opts ...specOpt) string { return env.NewBundle(t, opts...) }

// newID returns a container id unique to this run, derived from the name
// of the test so leftovers can be traced back to it.
func newID(t *testing.T) string { return env.NewID(t) }

// withTerminal sets process.terminal.
func withTerminal(on bool) specOpt {
	return func(s *specs.Spec) { s.Process.Terminal = on }
}

// runtime is one state root (a sandboxtest.Runtime): every command a test
// runs goes through it.
type runtime struct {
	*sandboxtest.Runtime
	t *testing.T
}

// newRuntime gives the test its own --root; when the test ends every
// container still there is force-deleted.
func newRuntime(t *testing.T) *runtime {
	t.Helper()
	return &runtime{Runtime: env.NewRuntime(t), t: t}
}

// command prepares `syscage --root R args...` for a test that starts it
// and waits for it itself.
func (r *runtime) command(args ...string) *command {
	r.t.Helper()
	return r.Command(nil, args...)
}

// run runs the binary to completion.
func (r *runtime) run(args ...string) result {
	r.t.Helper()
	return r.Run(nil, args...)
}

// runStdin runs the binary with stdin from a string.
func (r *runtime) runStdin(stdin string, args ...string) result {
	r.t.Helper()
	c := r.command(args...)
	c.Cmd.Stdin = strings.NewReader(stdin)
	c.Start()
	return c.Wait()
}

// ok runs the binary and fails the test unless it exits 0.
func (r *runtime) ok(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.Code != 0 {
		r.t.Fatalf("want success: %s", res)
	}
	return res
}

// fails runs the binary and checks that it exits non-zero with each of
// wants in its output (stderr or the log), case-insensitively.
func (r *runtime) fails(wants []string, args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	checkFailure(r.t, res, wants...)
	return res
}

// checkFailure asserts a non-zero exit whose message names the problem.
func checkFailure(t *testing.T, res result, wants ...string) {
	t.Helper()
	if res.Code == 0 {
		t.Errorf("want failure, got success: %s", res)
		return
	}
	if res.Code < 0 {
		t.Errorf("did not exit normally: %s", res)
	}
	msg := strings.ToLower(res.Stderr + res.Stdout)
	for _, w := range wants {
		if !strings.Contains(msg, strings.ToLower(w)) {
			t.Errorf("error message does not mention %q: %s", w, res)
		}
	}
}

// state is the part of `syscage state` the tests read.
type state struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations"`
}

// state reads a container's state, failing the test if it cannot.
func (r *runtime) state(id string) state {
	r.t.Helper()
	s := r.parseState(r.ok("state", id))
	if s.ID != id {
		r.t.Fatalf("state id = %q, want %q", s.ID, id)
	}
	return s
}

// parseState decodes the output of `syscage state`, failing the test if
// it is not JSON.
func (r *runtime) parseState(res result) state {
	r.t.Helper()
	var s state
	if err := json.Unmarshal([]byte(res.Stdout), &s); err != nil {
		r.t.Fatalf("state output is not JSON: %v\n%s", err, res)
	}
	return s
}

// waitStatus polls until the container exists and has the wanted status.
func (r *runtime) waitStatus(id, want string) state {
	r.t.Helper()
	var s state
	var res result
	if !waitFor(15*time.Second, func() bool {
		if res = r.run("state", id); res.Code != 0 {
			return false
		}
		s = r.parseState(res)
		return s.Status == want
	}) {
		r.t.Fatalf("container %s: waited 15s for status %q, last: %s", id, want, res)
	}
	return s
}

// create creates a container from bundle and checks it is "created".
func (r *runtime) create(bundle string, extra ...string) (string, state) {
	r.t.Helper()
	id := newID(r.t)
	r.ok(append(append([]string{"create", "--bundle", bundle}, extra...), id)...)
	return id, r.waitStatus(id, "created")
}

// startContainer creates and starts a container and waits until it runs.
func (r *runtime) startContainer(bundle string) (string, state) {
	r.t.Helper()
	id, _ := r.create(bundle)
	r.ok("start", id)
	return id, r.waitStatus(id, "running")
}

// stopAndDelete kills a container, waits for it to stop and deletes it.
func (r *runtime) stopAndDelete(id string) {
	r.t.Helper()
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	r.ok("delete", id)
}

// processExists says whether pid is alive (not a zombie).
func processExists(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesized command name.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// waitGone waits for pid to exit.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	if !waitFor(10*time.Second, func() bool { return !processExists(pid) }) {
		t.Fatalf("pid %d still exists 10s later", pid)
	}
}

// leftovers lists what a container may leave behind on the host; empty
// means clean. It checks the state directory under root, cgroup
// directories named after id in every hierarchy, the sentry's agent
// socket and its watchdog's control socket, mounts under the bundle in
// our mount table, and processes (the container's, its sentry and
// watchdog) that mention the bundle or the id in their command line or
// carry the bundle's marker in their environment.
func leftovers(root, id, bundle string) []string {
	var out []string
	// An id with a slash must not have created anything where it points
	// either (root/../x is outside the root).
	name := filepath.Base(id)
	if id != "" && name != "." && name != ".." && name != "/" {
		if _, err := os.Lstat(filepath.Join(root, id)); err == nil {
			out = append(out, "state directory "+filepath.Join(root, id))
		}
		for _, d := range cgroupDirs() {
			if filepath.Base(d) == name {
				out = append(out, "cgroup "+d)
			}
		}
		if sock := sandboxtest.AgentSocket(filepath.Join(root, id)); fileExists(sock) {
			out = append(out, "sentry socket "+sock)
		}
		if sock := sandboxtest.ControlSocket(filepath.Join(root, id)); fileExists(sock) {
			out = append(out, "watchdog socket "+sock)
		}
	}
	if bundle != "" {
		for _, m := range mounts() {
			if m == bundle || strings.HasPrefix(m, bundle+"/") {
				out = append(out, "mount "+m)
			}
		}
	}
	for _, p := range processes() {
		if (bundle != "" && (strings.Contains(p.cmdline, bundle) || strings.Contains(p.environ, markerEnv+"="+bundle))) ||
			(id != "" && containsWord(p.cmdline, id)) {
			out = append(out, fmt.Sprintf("process %d: %s", p.pid, p.cmdline))
		}
	}
	return out
}

// containsWord says whether s has w as one of its NUL/space separated words.
func containsWord(s, w string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == 0 || r == ' ' }) {
		if f == w {
			return true
		}
	}
	return false
}

// assertClean fails the test if the container left anything behind. Some
// teardown is asynchronous (a killed init is reaped by its parent, the
// kernel frees a cgroup), so it retries briefly before failing.
func assertClean(t *testing.T, root, id, bundle string) {
	t.Helper()
	var left []string
	for i := 0; i < 50; i++ {
		if left = leftovers(root, id, bundle); len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("container %q left behind:\n  %s", id, strings.Join(left, "\n  "))
}

// cgroupDirs lists every cgroup directory in every hierarchy.
func cgroupDirs() []string {
	var dirs []string
	_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a cgroup removed while we walk
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	return dirs
}

// mounts lists the mount points in our mount namespace.
func mounts() []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 4 {
			out = append(out, unescapeMount(f[4]))
		}
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

type proc struct {
	pid              int
	cmdline, environ string
}

// processes lists live processes (not zombies) other than ourselves.
func processes() []proc {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || !processExists(pid) {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		out = append(out, proc{pid: pid, cmdline: strings.ReplaceAll(string(cmd), "\x00", " "), environ: string(environ)})
	}
	return out
}

// cgroupFile finds file in the container's cgroup directory of a v1
// controller (or the unified hierarchy) and returns its path.
func cgroupFile(t *testing.T, controller, id, file string) string {
	t.Helper()
	var found []string
	_ = filepath.WalkDir(filepath.Join("/sys/fs/cgroup", controller), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == id {
			found = append(found, filepath.Join(path, file))
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("cgroup %s of container %s: found %v, want exactly one", controller, id, found)
	}
	return found[0]
}

// sleepBrief waits a little before checking again.
func sleepBrief() { time.Sleep(100 * time.Millisecond) }

// waitSigCaught waits until pid has a handler for sig (SigCgt in
// /proc/PID/status), so a signal sent next is not lost to a process that
// has not yet installed its trap.
func waitSigCaught(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if !waitFor(10*time.Second, func() bool { return sigCaught(pid, sig) }) {
		t.Fatalf("pid %d installed no handler for %v within 10s", pid, sig)
	}
}

// sigCaught says whether pid has a handler for sig.
func sigCaught(pid int, sig syscall.Signal) bool {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if hex, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// rescue removes by hand what a container whose state the runtime lost
// still holds on the host — its processes (killed by pid), cgroups and
// sentry socket — so a test that exposes such a bug does not leak into the
// tests that follow. It reports nothing; the test has already failed.
func rescue(root, id, bundle string) {
	for _, p := range processes() {
		if containsWord(p.cmdline, id) || strings.Contains(p.environ, markerEnv+"="+bundle) {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
	time.Sleep(200 * time.Millisecond)
	dirs := cgroupDirs()
	for i := len(dirs) - 1; i >= 0; i-- { // children before parents
		if filepath.Base(dirs[i]) == id {
			_ = os.Remove(dirs[i])
		}
	}
	_ = os.Remove(sandboxtest.AgentSocket(filepath.Join(root, id)))
}
