// Package sandboxtest is the harness of syscage's root tests that run the
// real binary on busybox bundles (test, test/security, test/policy): it
// builds the binary and static C test programs once, makes bundles from a
// template root file system, runs the binary with a per-test --root, and
// reads the sentry's audit stream. It is a test helper: nothing in the
// runtime imports it.
package sandboxtest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// CmdTimeout bounds every invocation of the binary.
const CmdTimeout = 90 * time.Second

// Env is what Setup built: the binary, the template root file system and
// the base spec every bundle starts from.
type Env struct {
	// Binary is the syscage binary.
	Binary string
	// Marker is the environment variable set in every container process
	// (value: the bundle path), so leftover processes can be found.
	Marker string
	// IDPrefix starts every container id (with RunTag).
	IDPrefix string
	// RunTag tells this run's container ids (and anything else a test
	// names) from those of other runs.
	RunTag string

	template string
	baseSpec []byte
	hostname string
	args     []string
	idSeq    atomic.Int64
}

// Options configure Setup.
type Options struct {
	// ModuleRoot is the directory of go.mod, relative to the test's.
	ModuleRoot string
	// Programs are C sources testdata/<name>.c, built static into /t/<name>.
	Programs []string
	// Dirs are extra directories made in the root file system.
	Dirs []string
	// Marker and IDPrefix: see Env.
	Marker, IDPrefix string
	// Hostname is every bundle's hostname; "sandbox" when empty.
	Hostname string
	// Args is every bundle's process unless a SpecOpt changes it; the
	// base spec's when empty.
	Args []string
	// FallbackSpec, when set, is the base spec if the binary cannot write
	// one with `syscage spec` (Setup fails otherwise).
	FallbackSpec *specs.Spec
}

// Main is the body of a TestMain for tests that run the binary; its result
// is the exit code. It fails unless run as root, builds an Env (Setup) in
// a temporary directory removed afterwards, hands it to ready and runs the
// tests. what names the tests in messages ("integration").
func Main(m *testing.M, what string, o Options, ready func(*Env) error) int {
	if os.Geteuid() != 0 {
		fmt.Fprintf(os.Stderr, "FAIL: syscage %s tests must run as root (they create containers)\n", what)
		return 1
	}
	dir, err := os.MkdirTemp("", "syscage-"+what+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	e, err := Setup(dir, o)
	if err == nil {
		err = ready(e)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %s test setup: %v\n", what, err)
		return 1
	}
	return m.Run()
}

// Setup builds everything under dir (which the caller removes).
func Setup(dir string, o Options) (*Env, error) {
	modRoot, err := filepath.Abs(o.ModuleRoot)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(modRoot, "go.mod")); err != nil {
		return nil, fmt.Errorf("module root %s: %w", modRoot, err)
	}
	e := &Env{
		Binary:   filepath.Join(dir, "syscage"),
		Marker:   o.Marker,
		IDPrefix: o.IDPrefix,
		RunTag:   strconv.FormatInt(time.Now().UnixNano()%1e6, 36),
		template: filepath.Join(dir, "rootfs"),
		hostname: cmp.Or(o.Hostname, "sandbox"),
		args:     o.Args,
	}
	build := exec.Command("go", "build", "-tags", "seccomp", "-o", e.Binary, "./cmd/syscage")
	build.Dir = modRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building syscage: %v\n%s", err, out)
	}
	if err := MakeRootfs(e.template, o.Dirs); err != nil {
		return nil, fmt.Errorf("busybox rootfs: %w", err)
	}
	for _, p := range o.Programs {
		src, err := filepath.Abs(filepath.Join("testdata", p+".c"))
		if err != nil {
			return nil, err
		}
		cc := exec.Command("gcc", "-static", "-O2", "-pthread", "-Wall", "-o", filepath.Join(e.template, "t", p), src)
		if out, err := cc.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("compiling %s: %v\n%s", src, err, out)
		}
	}
	probe := filepath.Join(dir, "spec")
	if err := os.Mkdir(probe, 0o755); err != nil {
		return nil, err
	}
	if e.baseSpec, err = baseSpec(e.Binary, probe, o.FallbackSpec); err != nil {
		return nil, err
	}
	return e, nil
}

// baseSpec is the config.json `syscage spec` writes into dir, or fallback
// (if set) when the binary cannot write one.
func baseSpec(binary, dir string, fallback *specs.Spec) ([]byte, error) {
	out, err := exec.Command(binary, "spec", "--bundle", dir).CombinedOutput()
	if err == nil {
		var data []byte
		if data, err = os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
			return data, nil
		}
	}
	if fallback == nil {
		return nil, fmt.Errorf("syscage spec: %v: %s", err, out)
	}
	fmt.Fprintf(os.Stderr, "note: `syscage spec` unavailable (%v: %s); bundles use the fallback spec\n",
		err, bytes.TrimSpace(out))
	return json.Marshal(fallback)
}

// MakeRootfs fills dir with a static busybox, a symlink per applet (never
// over the binary itself), /etc/passwd and /etc/group, /t for test
// programs and the extra directories.
func MakeRootfs(dir string, extra []string) error {
	for _, d := range append([]string{"bin", "proc", "sys", "dev", "tmp", "etc", "root", "t"}, extra...) {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := CopyFile("/bin/busybox", filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return fmt.Errorf("busybox --list: %w", err)
	}
	for _, name := range strings.Fields(string(out)) {
		if name == "busybox" || strings.Contains(name, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", name)); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "etc", "group"), []byte("root:x:0:\n"), 0o644)
}

// CopyFile copies src to dst, created (or truncated) with mode's
// permission bits.
func CopyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// CloneRootfs gives a bundle its own copy of template: files hard-linked
// (copied if linking fails), directories (with their modes) and symlinks
// new.
func CloneRootfs(template, dst string) error {
	return filepath.WalkDir(template, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(template, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode()&(fs.ModePerm|fs.ModeSticky))
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			if os.Link(path, target) == nil {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return CopyFile(path, target, info.Mode().Perm())
		}
	})
}

// SpecOpt changes a bundle's spec before it is written.
type SpecOpt func(*specs.Spec)

// WithArgs sets the container's process arguments.
func WithArgs(args ...string) SpecOpt {
	return func(s *specs.Spec) { s.Process.Args = args }
}

// WithWritableTmp mounts a tmpfs on /tmp (the root stays read-only).
func WithWritableTmp() SpecOpt {
	return func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{
			Destination: "/tmp", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "mode=1777", "size=64m"},
		})
	}
}

// WithBind bind-mounts a host directory read-write into the container.
func WithBind(src, dst string) SpecOpt {
	return func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{
			Destination: dst, Type: "bind", Source: src, Options: []string{"rbind", "rw"},
		})
	}
}

// WithAnnotation sets an OCI annotation.
func WithAnnotation(k, v string) SpecOpt {
	return func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

// SandboxRelease is the kernel release syscage documents for a container
// that pins none: the host's MAJOR.MINOR with ".0-syscage" (the feature
// level, not the build). Written here independently of the runtime's own
// code, so the tests check the documented rule.
func SandboxRelease() (string, error) {
	out, err := exec.Command("uname", "-r").Output()
	if err != nil {
		return "", fmt.Errorf("uname -r: %w", err)
	}
	m := regexp.MustCompile(`^(\d+)\.(\d+)\.`).FindStringSubmatch(string(out))
	if m == nil {
		return "", fmt.Errorf("host release %q has no MAJOR.MINOR", out)
	}
	return m[1] + "." + m[2] + ".0-syscage", nil
}

// WithUser runs the container's process as uid:gid (Kubernetes
// runAsUser, Docker --user), with no capabilities: what an unprivileged
// process has.
func WithUser(uid, gid uint32) SpecOpt {
	return func(s *specs.Spec) {
		s.Process.User = specs.User{UID: uid, GID: gid}
		s.Process.Capabilities = &specs.LinuxCapabilities{}
	}
}

// WithUserNamespace gives the container a user namespace in which its
// root is host uid and gid hostID (size ids mapped): Kubernetes
// hostUsers: false, Podman --userns. The bundle directories must be
// searchable by that uid (NewBundle makes them so).
func WithUserNamespace(hostID, size uint32) SpecOpt {
	return func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: hostID, Size: size}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: hostID, Size: size}}
	}
}

// Identity is who a container's workload runs as. Most production
// containers are not host root, so tests of the sandbox run under each
// of Identities.
type Identity struct {
	Name string
	Opt  SpecOpt
	// UID is the workload's uid as it sees it itself.
	UID int
}

// Identities are the test matrix's identities: host root, an
// unprivileged uid (runAsNonRoot), and root in a user namespace whose
// root is an unprivileged host uid (hostUsers: false).
var Identities = []Identity{
	{Name: "root", Opt: func(*specs.Spec) {}, UID: 0},
	{Name: "uid1000", Opt: WithUser(1000, 1000), UID: 1000},
	{Name: "userns", Opt: WithUserNamespace(100000, 65536), UID: 0},
}

// NewRootfs gives dst its own copy of the template root file system.
func (e *Env) NewRootfs(t *testing.T, dst string) {
	t.Helper()
	if err := CloneRootfs(e.template, dst); err != nil {
		t.Fatalf("bundle rootfs: %v", err)
	}
}

// Spec is the config of a bundle in dir before opts change it: the base
// spec with the rootfs read-only, no terminal, the Env's hostname and
// process arguments, and the marker variable (naming dir) in the
// environment.
func (e *Env) Spec(t *testing.T, dir string, opts ...SpecOpt) *specs.Spec {
	t.Helper()
	var s specs.Spec
	if err := json.Unmarshal(e.baseSpec, &s); err != nil {
		t.Fatalf("base spec: %v", err)
	}
	s.Root = &specs.Root{Path: "rootfs", Readonly: true}
	s.Process.Terminal = false
	s.Hostname = e.hostname
	if len(e.args) > 0 {
		s.Process.Args = slices.Clone(e.args)
	}
	s.Process.Env = append(s.Process.Env, e.Marker+"="+dir)
	for _, o := range opts {
		o(&s)
	}
	return &s
}

// WriteSpec writes s as dir/config.json.
func WriteSpec(t *testing.T, dir string, s *specs.Spec) {
	t.Helper()
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// NewBundle makes a bundle in a fresh directory: the template rootfs and
// the config Spec makes with opts.
func (e *Env) NewBundle(t *testing.T, opts ...SpecOpt) string {
	t.Helper()
	dir := t.TempDir()
	// A user-namespaced container's root is an unprivileged host uid: it
	// must be able to reach the bundle (t.TempDir makes both 0700).
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.NewRootfs(t, filepath.Join(dir, "rootfs"))
	WriteSpec(t, dir, e.Spec(t, dir, opts...))
	return dir
}

// ShortTempDir is a new directory under /tmp, removed when t ends: its
// path is short, as a unix socket's must be (at most 108 bytes).
func ShortTempDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Runtime is one test's own --root (short, under /tmp: socket paths are
// limited to 108 bytes).
type Runtime struct {
	env  *Env
	t    *testing.T
	Root string
}

// NewRuntime gives t its own state root; containers left in it are
// force-deleted when t ends, and a failed delete fails t.
func (e *Env) NewRuntime(t *testing.T) *Runtime {
	t.Helper()
	r := &Runtime{env: e, t: t, Root: filepath.Join(ShortTempDir(t, "sct"), "r")}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(r.Root)
		for _, ent := range entries {
			if res := r.Run(nil, "delete", "--force", ent.Name()); res.Code != 0 {
				t.Errorf("cleanup: %s", res)
			}
		}
	})
	return r
}

// NewID is a container id unique to this run, naming the test.
func (e *Env) NewID(t *testing.T) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	if len(name) > 32 {
		name = name[len(name)-32:]
	}
	return fmt.Sprintf("%s%s-%d-%s", e.IDPrefix, e.RunTag, e.idSeq.Add(1), strings.Trim(strings.ToLower(name), "-"))
}

// Result is one finished invocation of the binary.
type Result struct {
	Args           []string
	Stdout, Stderr string
	Code           int // -1 when it did not exit normally
}

func (r Result) String() string {
	return fmt.Sprintf("syscage %s: exit %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// Command is an invocation of the binary that the caller starts and waits
// for itself: to give it stdin, extra files or a working directory through
// Cmd first, to signal it, or to read its output while it runs. Its stdout
// and stderr are files, not pipes: a detached container inherits them and
// would otherwise keep Wait waiting for EOF.
type Command struct {
	// Cmd is the process to run: set its Stdin, ExtraFiles or Dir
	// before Start.
	Cmd *exec.Cmd

	t              *testing.T
	ctx            context.Context
	cancel         context.CancelFunc
	stdout, stderr *os.File
}

// Command prepares `syscage --root R [global...] args...`, which runs for
// at most CmdTimeout.
func (r *Runtime) Command(global []string, args ...string) *Command {
	r.t.Helper()
	full := append(append([]string{"--root", r.Root}, global...), args...)
	c := &Command{t: r.t}
	c.ctx, c.cancel = context.WithTimeout(context.Background(), CmdTimeout)
	c.Cmd = exec.CommandContext(c.ctx, r.env.Binary, full...)
	c.stdout, c.stderr = unlinkedFile(r.t), unlinkedFile(r.t)
	c.Cmd.Stdout, c.Cmd.Stderr = c.stdout, c.stderr
	return c
}

// Start starts the command, failing the test if it cannot.
func (c *Command) Start() {
	c.t.Helper()
	if err := c.Cmd.Start(); err != nil {
		c.t.Fatalf("starting %v: %v", c.Cmd.Args, err)
	}
}

// Stdout is what the command has written to its stdout so far; it is
// empty once Wait has returned.
func (c *Command) Stdout() string { return string(readAll(c.stdout)) }

// Wait waits for the command and collects its output. It does not fail
// the test, so it may run on a goroutine of its own.
func (c *Command) Wait() Result {
	defer c.cancel()
	defer c.stdout.Close()
	defer c.stderr.Close()
	err := c.Cmd.Wait()
	res := Result{Args: c.Cmd.Args[1:], Code: c.Cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		res.Stderr = err.Error() + "\n"
	}
	if c.ctx.Err() != nil {
		res.Stderr += "(timed out after " + CmdTimeout.String() + ")\n"
	}
	res.Stdout, res.Stderr = c.Stdout(), res.Stderr+string(readAll(c.stderr))
	return res
}

// Run runs `syscage --root R [global...] args...` and waits for it.
func (r *Runtime) Run(global []string, args ...string) Result {
	r.t.Helper()
	c := r.Command(global, args...)
	c.Start()
	return c.Wait()
}

// unlinkedFile is an open temporary file whose name is already gone, so
// nothing is left in /tmp however the test ends.
func unlinkedFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp("", "sct-out-")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(f.Name())
	return f
}

// readAll reads what has been written to f so far, from the start,
// leaving the offset the writer shares alone.
func readAll(f *os.File) []byte {
	data, _ := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	return data
}

// Container runs bundle in the foreground (`run`) under a fresh id and
// returns the result; global carries flags such as --strace-log.
func (r *Runtime) Container(bundle string, global []string, extra ...string) Result {
	r.t.Helper()
	args := append([]string{"run", "--bundle", bundle}, extra...)
	args = append(args, r.env.NewID(r.t))
	return r.Run(global, args...)
}

// AuditEvent is one line of the sentry's audit stream.
type AuditEvent struct {
	Time      time.Time         `json:"time"`
	Container string            `json:"container"`
	Pid       int               `json:"pid"`
	Tid       int               `json:"tid"`
	Syscall   string            `json:"syscall"`
	Nr        int               `json:"nr"`
	Args      map[string]string `json:"args"`
	Decision  string            `json:"decision"`
	Result    int64             `json:"result"`
	Errno     string            `json:"errno"`
	LatencyNs int64             `json:"latency_ns"`
}

// ReadAudit parses an audit file; every line must be a whole JSON event.
func ReadAudit(t *testing.T, path string) []AuditEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	var evs []AuditEvent
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit log line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// AgentSocket is where the runtime puts a state dir's sentry socket
// (internal/container/sentry.go).
func AgentSocket(stateDir string) string {
	sum := sha256.Sum256([]byte(stateDir))
	return filepath.Join("/run/syscage-agent", hex.EncodeToString(sum[:16])+".sock")
}

// ControlSocket is where the runtime puts a state dir's watchdog control
// socket (internal/container/sentry.go).
func ControlSocket(stateDir string) string {
	return strings.TrimSuffix(AgentSocket(stateDir), ".sock") + ".ctl"
}

// MarkedProcesses lists host processes whose environment carries the
// marker of bundle.
func (e *Env) MarkedProcesses(bundle string) []string {
	var found []string
	want := []byte(e.Marker + "=" + bundle + "\x00")
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		if _, err := strconv.Atoi(ent.Name()); err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "environ"))
		if err == nil && bytes.Contains(env, want) {
			cmd, _ := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
			found = append(found, ent.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return found
}

// CgroupLeftovers lists cgroup directories named for the container.
func CgroupLeftovers(id string) []string {
	var found []string
	_ = filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Count(strings.TrimPrefix(path, "/sys/fs/cgroup"), "/") > 3 {
			return fs.SkipDir
		}
		if d.Name() == id {
			found = append(found, path)
		}
		return nil
	})
	return found
}

// Lines returns the lines of s that start with prefix, prefix removed.
func Lines(s, prefix string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			out = append(out, v)
		}
	}
	return out
}

// WaitFor polls cond every 20ms until it holds or d passes.
func WaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// ReadTrim reads a small file and trims white space; a read error fails t.
func ReadTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// ReadPidFile reads a pid file and checks it holds a positive number.
func ReadPidFile(t *testing.T, path string) int {
	t.Helper()
	s := ReadTrim(t, path)
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		t.Fatalf("pid file %s holds %q, want a positive pid", path, s)
	}
	return pid
}
