// Package policy holds the integration tests of syscage's policy engine
// (issue 4): profile files, their selection by flag, annotation and the
// runtime's default, and learn mode. Each test runs the real binary on
// real bundles: it learns a workload's profile, enforces it on the same
// workload (which must behave the same), and checks that anything else is
// denied with EPERM and audited; malformed profiles must fail create with
// an error naming the file, the field and the problem, leaving nothing
// behind.
//
// Run them as root: `go test -tags seccomp ./test/policy/`. TestMain
// builds the binary and the static C workload in testdata/; it fails (it
// never skips) without root or when something does not build.
package policy

import (
	"bufio"
	"bytes"
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
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

var (
	// binary is the syscage binary TestMain built.
	binary string
	// baseSpec is `syscage spec`'s output: every bundle starts from it.
	baseSpec []byte
	// template is a busybox root file system with the C workload in
	// /t; bundles hard-link from it.
	template string
	idSeq    atomic.Int64
	runTag   = strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
)

// markerEnv is set in every container process (value: the bundle path) so
// leftover processes can be found on the host.
const markerEnv = "SYSCAGE_POLICY_BUNDLE"

// programs are the C sources in testdata/, built static into /t/<name>.
var programs = []string{"app"}

const cmdTimeout = 90 * time.Second

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "FAIL: syscage policy tests must run as root (they create containers)")
		return 1
	}
	dir, err := os.MkdirTemp("", "syscage-pol-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: policy test setup:", err)
		return 1
	}
	return m.Run()
}

func setup(dir string) error {
	modRoot, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(modRoot, "go.mod")); err != nil {
		return fmt.Errorf("module root not found two levels above: %w", err)
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
	for _, p := range programs {
		src, err := filepath.Abs(filepath.Join("testdata", p+".c"))
		if err != nil {
			return err
		}
		cc := exec.Command("gcc", "-static", "-O2", "-pthread", "-Wall", "-o", filepath.Join(template, "t", p), src)
		if out, err := cc.CombinedOutput(); err != nil {
			return fmt.Errorf("compiling %s: %v\n%s", src, err, out)
		}
	}
	probe := filepath.Join(dir, "spec")
	if err := os.Mkdir(probe, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command(binary, "spec", "--bundle", probe).CombinedOutput(); err != nil {
		return fmt.Errorf("syscage spec: %v: %s", err, out)
	}
	if baseSpec, err = os.ReadFile(filepath.Join(probe, "config.json")); err != nil {
		return err
	}
	return nil
}

// makeRootfs fills dir with a static busybox, a symlink per applet, and
// the directories the tests use: /t (programs), /target (a mount point
// for mount attempts), /ctl (bind-mounted from the host by some tests).
func makeRootfs(dir string) error {
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "etc", "root", "t", "target", "ctl"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := copyFile("/bin/busybox", filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
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

func copyFile(src, dst string, mode os.FileMode) error {
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

// cloneRootfs hard-links the template's files into dst (copies if that
// fails) and recreates its directories and symlinks.
func cloneRootfs(dst string) error {
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
			return copyFile(path, target, info.Mode().Perm())
		}
	})
}

// specOpt changes a bundle's spec before it is written.
type specOpt func(*specs.Spec)

func withArgs(args ...string) specOpt {
	return func(s *specs.Spec) { s.Process.Args = args }
}

// withWritableTmp mounts a tmpfs on /tmp (the root stays read-only).
func withWritableTmp() specOpt {
	return func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{
			Destination: "/tmp", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "mode=1777", "size=64m"},
		})
	}
}

func withAnnotation(k, v string) specOpt {
	return func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

// newBundle makes a bundle in a fresh directory: the template rootfs
// (read-only), `syscage spec`'s config without a terminal, the marker
// variable in the environment, then opts.
func newBundle(t *testing.T, opts ...specOpt) string {
	t.Helper()
	dir := t.TempDir()
	if err := cloneRootfs(filepath.Join(dir, "rootfs")); err != nil {
		t.Fatalf("bundle rootfs: %v", err)
	}
	var s specs.Spec
	if err := json.Unmarshal(baseSpec, &s); err != nil {
		t.Fatalf("base spec: %v", err)
	}
	s.Root = &specs.Root{Path: "rootfs", Readonly: true}
	s.Process.Terminal = false
	s.Hostname = "sandbox"
	s.Process.Env = append(s.Process.Env, markerEnv+"="+dir)
	for _, o := range opts {
		o(&s)
	}
	data, err := json.MarshalIndent(&s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runtime is one test's own --root (short, under /tmp).
type runtime struct {
	t    *testing.T
	root string
}

func newRuntime(t *testing.T) *runtime {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "scp")
	if err != nil {
		t.Fatal(err)
	}
	r := &runtime{t: t, root: filepath.Join(dir, "r")}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(r.root)
		for _, e := range entries {
			if res := r.run(nil, "delete", "--force", e.Name()); res.code != 0 {
				t.Errorf("cleanup: %s", res)
			}
		}
		os.RemoveAll(dir)
	})
	return r
}

func newID(t *testing.T) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	if len(name) > 32 {
		name = name[len(name)-32:]
	}
	return fmt.Sprintf("pol%s-%d-%s", runTag, idSeq.Add(1), strings.Trim(strings.ToLower(name), "-"))
}

// result is one finished invocation of the binary.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("syscage %s: exit %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs `syscage --root R [global...] args...` and waits for it; its
// output goes through files so a detached container cannot hold it open.
func (r *runtime) run(global []string, args ...string) result {
	r.t.Helper()
	full := append(append([]string{"--root", r.root}, global...), args...)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	outF, err := os.CreateTemp("", "scp-out-")
	if err != nil {
		r.t.Fatal(err)
	}
	defer os.Remove(outF.Name())
	defer outF.Close()
	errF, err := os.CreateTemp("", "scp-err-")
	if err != nil {
		r.t.Fatal(err)
	}
	defer os.Remove(errF.Name())
	defer errF.Close()
	cmd := exec.CommandContext(ctx, binary, full...)
	cmd.Stdout, cmd.Stderr = outF, errF
	err = cmd.Run()
	res := result{args: full, code: 0}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		res.code = -1
		res.stderr = err.Error() + "\n"
	}
	if ctx.Err() != nil {
		res.stderr += "(timed out after " + cmdTimeout.String() + ")\n"
	}
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	res.stdout, res.stderr = string(o), res.stderr+string(e)
	return res
}

// container runs bundle in the foreground (`run`) under a fresh id and
// returns the result; global carries flags such as --strace-log.
func (r *runtime) container(bundle string, global []string, extra ...string) result {
	r.t.Helper()
	args := append([]string{"run", "--bundle", bundle}, extra...)
	args = append(args, newID(r.t))
	return r.run(global, args...)
}

// auditEvent is one line of the sentry's audit stream.
type auditEvent struct {
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

// readAudit parses an audit file; every line must be a whole JSON event.
func readAudit(t *testing.T, path string) []auditEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	var evs []auditEvent
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit log line %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

// agentSocket is where the runtime puts a state dir's sentry socket
// (internal/container/sentry.go).
func agentSocket(stateDir string) string {
	sum := sha256.Sum256([]byte(stateDir))
	return filepath.Join("/run/syscage-agent", hex.EncodeToString(sum[:16])+".sock")
}

// markedProcesses lists host processes whose environment carries the
// marker of bundle.
func markedProcesses(bundle string) []string {
	var found []string
	want := []byte(markerEnv + "=" + bundle + "\x00")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, want) {
			cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			found = append(found, e.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return found
}

// cgroupLeftovers lists cgroup directories named for the container.
func cgroupLeftovers(id string) []string {
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

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}
