// This file is the harness of the integration tests (see doc.go): building
// the binary, making bundles, running commands, reading state, and
// checking that nothing is left behind.

package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

var (
	// binary is the syscage binary TestMain built.
	binary string
	// baseSpec is the config.json every bundle starts from: the output of
	// `syscage spec` when the binary has that command, else runc's example.
	baseSpec []byte
	// specSource says where baseSpec came from.
	specSource string
	// template is a busybox root file system that bundles hard-link from.
	template string
	// markerEnv is set in every container process's environment (with the
	// bundle path as its value) so leftover processes can be found.
	markerEnv = "SYSCAGE_TEST_BUNDLE"
	// idSeq makes container ids unique within a run; runTag across runs.
	idSeq  atomic.Int64
	runTag = strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
)

// cmdTimeout bounds every single invocation of the binary.
const cmdTimeout = 60 * time.Second

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "FAIL: syscage integration tests must run as root (they create containers)")
		return 1
	}
	dir, err := os.MkdirTemp("", "syscage-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: integration test setup:", err)
		return 1
	}
	return m.Run()
}

// setup builds the binary, the busybox template and the base spec.
func setup(dir string) error {
	modRoot, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(modRoot, "go.mod")); err != nil {
		return fmt.Errorf("module root not found above the test directory: %w", err)
	}
	binary = filepath.Join(dir, "syscage")
	build := exec.Command("go", "build", "-tags", "seccomp", "-o", binary, "./cmd/syscage")
	build.Dir = modRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building syscage: %v\n%s", err, out)
	}
	template = filepath.Join(dir, "rootfs")
	if err := makeRootfs(template); err != nil {
		return fmt.Errorf("busybox rootfs: %w", err)
	}
	probe := filepath.Join(dir, "spec-probe")
	if err := os.Mkdir(probe, 0o755); err != nil {
		return err
	}
	cmd := exec.Command(binary, "spec", "--bundle", probe)
	cmd.Dir = probe
	out, err := cmd.CombinedOutput()
	if data, rerr := os.ReadFile(filepath.Join(probe, "config.json")); err == nil && rerr == nil {
		baseSpec, specSource = data, "syscage spec"
	} else {
		fmt.Fprintf(os.Stderr, "note: `syscage spec` unavailable (%v: %s); bundles use specconv.Example()\n",
			err, bytes.TrimSpace(out))
		baseSpec, err = json.Marshal(specconv.Example())
		if err != nil {
			return err
		}
		specSource = "specconv.Example"
	}
	return nil
}

// makeRootfs fills dir with a busybox root file system.
func makeRootfs(dir string) error { return sandboxtest.MakeRootfs(dir, nil) }

// cloneRootfs gives a bundle its own rootfs from the template.
func cloneRootfs(dst string) error { return sandboxtest.CloneRootfs(template, dst) }

// specOpt changes a bundle's spec before it is written.
type specOpt func(*specs.Spec)

// withArgs sets process.args.
func withArgs(args ...string) specOpt {
	return func(s *specs.Spec) { s.Process.Args = args }
}

// withTerminal sets process.terminal.
func withTerminal(on bool) specOpt {
	return func(s *specs.Spec) { s.Process.Terminal = on }
}

// loadBaseSpec decodes a fresh copy of the base spec.
func loadBaseSpec(t *testing.T) *specs.Spec {
	t.Helper()
	var s specs.Spec
	if err := json.Unmarshal(baseSpec, &s); err != nil {
		t.Fatalf("base spec (%s): %v", specSource, err)
	}
	return &s
}

// newBundle makes a bundle in a fresh directory: a busybox rootfs and a
// config.json whose process runs `sleep 1000` without a terminal, with the
// marker variable in its environment, changed by opts.
func newBundle(t *testing.T, opts ...specOpt) string {
	t.Helper()
	dir := t.TempDir()
	if err := cloneRootfs(filepath.Join(dir, "rootfs")); err != nil {
		t.Fatalf("bundle rootfs: %v", err)
	}
	s := loadBaseSpec(t)
	s.Root = &specs.Root{Path: "rootfs", Readonly: true}
	s.Process.Terminal = false
	s.Hostname = "syscage-it"
	s.Process.Args = []string{"sleep", "1000"}
	s.Process.Env = append(s.Process.Env, markerEnv+"="+dir)
	for _, o := range opts {
		o(s)
	}
	writeSpec(t, dir, s)
	return dir
}

// writeSpec writes s as dir/config.json.
func writeSpec(t *testing.T, dir string, s *specs.Spec) {
	t.Helper()
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shortTempDir is a directory under /tmp with a short path (unix socket
// paths are limited to 108 bytes), removed when the test ends.
func shortTempDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// runtime is one state root: every command a test runs goes through it.
type runtime struct {
	t    *testing.T
	root string
}

// newRuntime gives the test its own --root; when the test ends every
// container still there is force-deleted.
func newRuntime(t *testing.T) *runtime {
	t.Helper()
	r := &runtime{t: t, root: filepath.Join(shortTempDir(t, "scr"), "root")}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(r.root)
		for _, e := range entries {
			if res := r.run("delete", "--force", e.Name()); res.code != 0 {
				t.Errorf("cleanup: %s", res)
			}
		}
	})
	return r
}

// newID returns a container id unique to this run, derived from the name
// of the test so leftovers can be traced back to it.
func newID(t *testing.T) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return fmt.Sprintf("it%s-%d-%s", runTag, idSeq.Add(1), strings.Trim(strings.ToLower(name), "-"))
}

// result is one finished invocation of the binary.
type result struct {
	args           []string
	stdout, stderr string
	code           int // -1 when it did not exit normally
}

func (r result) String() string {
	return fmt.Sprintf("syscage %s: exit %d\nstdout: %s\nstderr: %s",
		strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// command prepares `syscage --root R args...`. Its stdout and stderr are
// files, not pipes: a detached container inherits them and would
// otherwise keep the caller waiting for EOF.
type command struct {
	cmd            *exec.Cmd
	cancel         context.CancelFunc
	stdout, stderr *os.File
	args           []string
}

func (r *runtime) command(args ...string) *command {
	r.t.Helper()
	full := append([]string{"--root", r.root}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	c := &command{cmd: exec.CommandContext(ctx, binary, full...), cancel: cancel, args: args}
	c.stdout, c.stderr = unlinkedFile(r.t), unlinkedFile(r.t)
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	return c
}

// wait waits for the command and collects its output.
func (c *command) wait() result {
	err := c.cmd.Wait()
	defer c.cancel()
	defer c.stdout.Close()
	defer c.stderr.Close()
	res := result{args: c.args, code: c.cmd.ProcessState.ExitCode()}
	if err != nil && c.cmd.ProcessState == nil {
		res.code, res.stderr = -1, err.Error()
	}
	out, errOut := readAll(c.stdout), readAll(c.stderr)
	res.stdout, res.stderr = string(out), res.stderr+string(errOut)
	return res
}

// start starts the command without waiting for it.
func (c *command) start(t *testing.T) {
	t.Helper()
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting syscage %v: %v", c.args, err)
	}
}

// run runs the binary to completion.
func (r *runtime) run(args ...string) result {
	r.t.Helper()
	c := r.command(args...)
	if err := c.cmd.Start(); err != nil {
		r.t.Fatalf("starting syscage %v: %v", args, err)
	}
	return c.wait()
}

// runStdin runs the binary with stdin from a string.
func (r *runtime) runStdin(stdin string, args ...string) result {
	r.t.Helper()
	c := r.command(args...)
	c.cmd.Stdin = strings.NewReader(stdin)
	c.start(r.t)
	return c.wait()
}

// ok runs the binary and fails the test unless it exits 0.
func (r *runtime) ok(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
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
	if res.code == 0 {
		t.Errorf("want failure, got success: %s", res)
		return
	}
	if res.code < 0 {
		t.Errorf("did not exit normally: %s", res)
	}
	msg := strings.ToLower(res.stderr + res.stdout)
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
	res := r.ok("state", id)
	var s state
	if err := json.Unmarshal([]byte(res.stdout), &s); err != nil {
		r.t.Fatalf("state output is not JSON: %v\n%s", err, res)
	}
	if s.ID != id {
		r.t.Fatalf("state id = %q, want %q", s.ID, id)
	}
	return s
}

// waitStatus polls until the container exists and has the wanted status.
func (r *runtime) waitStatus(id, want string) state {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res := r.run("state", id)
		var s state
		if res.code == 0 {
			if err := json.Unmarshal([]byte(res.stdout), &s); err != nil {
				r.t.Fatalf("state output is not JSON: %v\n%s", err, res)
			}
			if s.Status == want {
				return s
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("container %s: waited 15s for status %q, last: %s", id, want, res)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	deadline := time.Now().Add(10 * time.Second)
	for processExists(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still exists 10s later", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leftovers lists what a container may leave behind on the host; empty
// means clean. It checks the state directory under root, cgroup
// directories named after id in every hierarchy, the sentry's agent
// socket, mounts under the bundle in our mount table, and processes (the
// container's, its sentry) that mention the bundle or the id in their
// command line or carry the bundle's marker in their environment.
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
		if sock := sentrySocket(filepath.Join(root, id)); fileExists(sock) {
			out = append(out, "sentry socket "+sock)
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
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		out = append(out, proc{pid: pid, cmdline: strings.ReplaceAll(string(cmd), "\x00", " "), environ: string(env)})
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

// readTrim reads a small file and trims white space.
func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// readPidFile reads a pid file and checks it holds a positive number.
func readPidFile(t *testing.T, path string) int {
	t.Helper()
	s := readTrim(t, path)
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		t.Fatalf("pid file %s holds %q, want a positive pid", path, s)
	}
	return pid
}

// sleepBrief waits a little before checking again.
func sleepBrief() { time.Sleep(100 * time.Millisecond) }

// waitSigCaught waits until pid has a handler for sig (SigCgt in
// /proc/PID/status), so a signal sent next is not lost to a process that
// has not yet installed its trap.
func waitSigCaught(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		for _, line := range strings.Split(string(data), "\n") {
			if hex, ok := strings.CutPrefix(line, "SigCgt:"); ok {
				mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
				if err == nil && mask&(1<<(uint(sig)-1)) != 0 {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d installed no handler for %v within 10s", pid, sig)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sentrySocket is where the runtime puts the agent socket of the sentry of
// the container with this state directory (internal/container/sentry.go:
// agentSocket; sockets are named by digest because paths under a client's
// --root can exceed the 108 bytes a socket path may have).
func sentrySocket(stateDir string) string {
	sum := sha256.Sum256([]byte(stateDir))
	return filepath.Join("/run/syscage-agent", hex.EncodeToString(sum[:16])+".sock")
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
	_ = os.Remove(sentrySocket(filepath.Join(root, id)))
}

// unlinkedFile is an open temporary file whose name is already gone, so
// nothing is left in /tmp however the test ends.
func unlinkedFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp("", "syscage-out-")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(f.Name())
	return f
}

// readAll reads what has been written to f so far, from the start.
func readAll(f *os.File) []byte {
	data, _ := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	return data
}
