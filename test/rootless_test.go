package test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// Rootless tests run the binary as an unprivileged user (testUserName,
// created if missing, as scripts/setup.sh does) through setpriv: `do`,
// and run/exec/kill/delete on a bundle whose config has a user namespace
// mapping the user's ids.

// testUserName is the unprivileged user of the rootless tests, with
// subordinate ids where useradd gives them (Debian does); noSubIDsUser
// has none, so its sandboxes map its own id alone.
const (
	testUserName = "sctest"
	noSubIDsUser = "sctest-nosub"
)

// rootless is one test's unprivileged environment: the user, a copy of the
// binary the user can run, a private runtime directory (XDG_RUNTIME_DIR,
// where state, sockets and do's bundles go) and a writable working
// directory.
type rootless struct {
	t             *testing.T
	uid, gid      int
	bin, xdg, dir string
}

var (
	userBinOnce sync.Once
	userBin     string
	userBinErr  error
)

// newRootless prepares the test user and its directories for t.
func newRootless(t *testing.T) *rootless { return newRootlessAs(t, testUserName) }

// newRootlessAs prepares user name (created if missing; noSubIDsUser
// without subordinate ids) and its directories for t.
func newRootlessAs(t *testing.T, name string) *rootless {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		args := []string{"--create-home", "--shell", "/bin/sh"}
		if name == noSubIDsUser {
			args = append(args, "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0")
		}
		if out, err := exec.Command("useradd", append(args, name)...).CombinedOutput(); err != nil {
			t.Fatalf("creating the test user %s: %v\n%s", name, err, out)
		}
		if u, err = user.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The test binary lives in a 0700 directory: give the user a copy.
	userBinOnce.Do(func() {
		d, err := os.MkdirTemp("", "syscage-rootless-bin-")
		userBinDir = d
		if err == nil {
			err = os.Chmod(d, 0o755)
		}
		if err == nil {
			userBin = filepath.Join(d, "syscage")
			err = sandboxtest.CopyFile(env.Binary, userBin, 0o755)
		}
		userBinErr = err
	})
	if userBinErr != nil {
		t.Fatalf("a copy of the binary for %s: %v", name, userBinErr)
	}
	r := &rootless{t: t, uid: uid, gid: gid, bin: userBin}
	base := sandboxtest.ShortTempDir(t, "scu")
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	r.xdg, r.dir = filepath.Join(base, "xdg"), filepath.Join(base, "work")
	for _, d := range []string{r.xdg, r.dir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(r.checkLeftovers)
	return r
}

// env is the user's environment: nothing of root's.
func (r *rootless) env() []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + r.dir, "XDG_RUNTIME_DIR=" + r.xdg, markerEnv + "=" + r.dir,
	}
}

// syscage runs the binary as the user in its working directory.
func (r *rootless) syscage(stdin string, args ...string) result {
	r.t.Helper()
	return runAs(r.t, r.uid, r.gid, r.dir, r.env(), stdin, r.bin, args...)
}

// checkLeftovers: state, sockets and bundles in the runtime directory, and
// the user's sandboxed processes, are gone.
func (r *rootless) checkLeftovers() {
	for _, sub := range []string{"syscage", "syscage-agent", "syscage-do"} {
		entries, _ := os.ReadDir(filepath.Join(r.xdg, sub))
		for _, e := range entries {
			r.t.Errorf("left behind: %s", filepath.Join(r.xdg, sub, e.Name()))
		}
	}
	if left := env.MarkedProcesses(r.dir); len(left) > 0 {
		r.t.Errorf("processes left behind: %q", left)
	}
}

// runAs runs name args... as uid:gid (setpriv, no capabilities, no
// supplementary groups) in dir, with env only.
func runAs(t *testing.T, uid, gid int, dir string, env []string, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sandboxtest.CmdTimeout)
	defer cancel()
	full := append([]string{"--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), "--clear-groups", "--inh-caps=-all", "--", name}, args...)
	cmd := exec.CommandContext(ctx, "setpriv", full...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin = strings.NewReader(stdin)
	// Files, not pipes: a detached container (create) inherits them and
	// would keep a pipe's reader waiting.
	stdout, stderr := outputFile(t), outputFile(t)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	res := result{Args: args, Stdout: readBack(stdout), Stderr: readBack(stderr), Code: cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		res.Stderr += err.Error()
	}
	return res
}

// TestRootlessDo is the must-show list as an unprivileged user:
// the working directory writable, /usr read-only (EROFS), the sandbox's
// kernel release, unshare -U refused, no network but lo, the refusal in
// the audit stream; and bad input refused with nothing left behind.
func TestRootlessDo(t *testing.T) {
	release, err := sandboxtest.SandboxRelease()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{"writes the working directory", []string{"--", "sh", "-c", "echo hi > ./f && cat f"}, 0, "hi", nil},
		{"/usr is read-only", []string{"--", "sh", "-c", "echo x > /usr/syscage-do-test"}, 2, "", []string{"Read-only file system"}},
		{"kernel release", []string{"--", "uname", "-r"}, 0, release, nil},
		{"host release files masked", []string{"--", "cat", "/proc/version", "/proc/sys/kernel/osrelease"}, 0, "", nil},
		{"unshare -U refused", []string{"--", "unshare", "-U", "true"}, 1, "", []string{"Operation not permitted"}},
		{"no network but lo", []string{"--", "sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"}, 0, "lo", nil},
		{"audit", []string{"--strace", "--", "unshare", "-U", "true"}, 1, "", []string{`"syscall":"unshare"`, `"decision":"deny"`, `"errno":"EPERM"`}},
		{"exit status", []string{"--", "sh", "-c", "exit 9"}, 9, "", nil},
		{"unwritable --rw", []string{"--rw", "/etc", "--", "true"}, 1, "", []string{"--rw /etc", "not writable"}},
		{"limits without delegation", []string{"--memory", "64m", "--", "true"}, 1, "", []string{"--memory and --cpus need cgroups"}},
		{"no command", []string{"--"}, 1, "", []string{"no command given"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRootless(t)
			res := r.syscage("", append([]string{"do"}, tc.args...)...)
			if res.Code != tc.code {
				t.Fatalf("exit %d, want %d: %s", res.Code, tc.code, res)
			}
			if got := strings.TrimSpace(res.Stdout); got != tc.stdout {
				t.Errorf("stdout %q, want %q", got, tc.stdout)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr does not mention %q: %s", w, res)
				}
			}
		})
	}
}

// withRootless makes a bundle's config rootless for uid:gid, as
// `syscage spec --rootless` does for its caller.
func withRootless(uid, gid int) specOpt {
	return func(s *specs.Spec) {
		specconv.ToRootless(s)
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(uid), Size: 1}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(gid), Size: 1}}
	}
}

// TestRootlessBundle: run, and create/start/state/kill/delete, on a
// bundle as the user, under the sentry; exec and bad configs refused by
// name.
func TestRootlessBundle(t *testing.T) {
	release, err := sandboxtest.SandboxRelease()
	if err != nil {
		t.Fatal(err)
	}
	r := newRootless(t)
	script := "uname -r; unshare -U true 2>/dev/null; echo unshare=$?"
	bundle := newBundle(t, withRootless(r.uid, r.gid), withArgs("sh", "-c", script))
	res := r.syscage("", "run", "-b", bundle, newID(t))
	if want := release + "\nunshare=1"; res.Code != 0 || strings.TrimSpace(res.Stdout) != want {
		t.Fatalf("run: stdout %q, want %q: %s", strings.TrimSpace(res.Stdout), want, res)
	}

	id := newID(t)
	bundle = newBundle(t, withRootless(r.uid, r.gid))
	for _, step := range [][]string{
		{"create", "-b", bundle, id},
		{"start", id},
	} {
		if res := r.syscage("", step...); res.Code != 0 {
			t.Fatalf("%s: %s", step[0], res)
		}
	}
	// exec is refused by name for a user (rootlessExec explains why);
	// rootless Podman, root of its user namespace, execs.
	res = r.syscage("", "exec", id, "uname", "-r")
	checkFailure(t, res, "rootless", "exec", "pidfd_getfd")
	res = r.syscage("", "state", id)
	if res.Code != 0 || !strings.Contains(res.Stdout, `"status": "running"`) {
		t.Errorf("state: %s", res)
	}
	for _, step := range [][]string{{"kill", id, "KILL"}, {"delete", "--force", id}} {
		if res := r.syscage("", step...); res.Code != 0 {
			t.Errorf("%s: %s", step[0], res)
		}
	}

	// A config without a user namespace, and one that maps ids the user
	// has no subordinate range for.
	plain := newBundle(t)
	res = r.syscage("", "run", "-b", plain, newID(t))
	checkFailure(t, res, "rootless", "user namespace")
	wide := newBundle(t, withRootless(r.uid, r.gid), func(s *specs.Spec) {
		s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: 3000000000, Size: 10})
	})
	res = r.syscage("", "run", "-b", wide, newID(t))
	checkFailure(t, res, "rootless", "3000000000")
}

// outputFile is a temporary file for a command's output, removed with t.
func outputFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readBack reads what was written to f.
func readBack(f *os.File) string {
	data, _ := os.ReadFile(f.Name())
	return string(data)
}

// TestRootlessFailClosed: the sentry of a rootless sandbox, killed, takes
// the sandbox with it (its watchdog, also the user's, kills the
// container): nothing runs on unsupervised.
func TestRootlessFailClosed(t *testing.T) {
	r := newRootless(t)
	full := []string{"--reuid=" + strconv.Itoa(r.uid), "--regid=" + strconv.Itoa(r.gid), "--clear-groups", "--inh-caps=-all", "--",
		r.bin, "do", "--", "sh", "-c", "echo ready; exec sleep 1000"}
	cmd := exec.Command("setpriv", full...)
	cmd.Dir, cmd.Env = r.dir, r.env()
	stdout, stderr := outputFile(t), outputFile(t)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	if !waitFor(30*time.Second, func() bool { return strings.Contains(readBack(stdout), "ready") }) {
		t.Fatalf("the command did not start: %s", readBack(stderr))
	}
	// The sentry: the user's `syscage sentry` whose state dir is in r.xdg.
	var pid int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 1 && args[1] == "sentry" && strings.Contains(string(cmdline), "\x00"+r.xdg+"/") {
			pid, _ = strconv.Atoi(e.Name())
		}
	}
	if pid == 0 {
		t.Fatal("no sentry found for the sandbox")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done // a sandbox that outlived its sentry would hang here (the test's timeout)
	if code := cmd.ProcessState.ExitCode(); code != 128+int(syscall.SIGKILL) {
		t.Errorf("exit %d, want %d (killed): %s", code, 128+int(syscall.SIGKILL), readBack(stderr))
	}
}

// TestRootlessNoSubIDs: a user without subordinate ids gets a single
// mapping (its own id as the sandbox's root) and a sandbox that works;
// a bundle that maps more ids is refused, naming the missing range.
func TestRootlessNoSubIDs(t *testing.T) {
	r := newRootlessAs(t, noSubIDsUser)
	res := r.syscage("", "do", "--", "sh", "-c", "cat /proc/self/uid_map; echo hi > f; cat f")
	if res.Code != 0 {
		t.Fatalf("do: %s", res)
	}
	fields := strings.Fields(res.Stdout)
	if len(fields) != 4 || fields[0] != "0" || fields[1] != strconv.Itoa(r.uid) || fields[2] != "1" || fields[3] != "hi" {
		t.Errorf("uid_map and output %q, want 0 %d 1 and hi", fields, r.uid)
	}
	wide := newBundle(t, withRootless(r.uid, r.gid), func(s *specs.Spec) {
		s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1, HostID: 100000, Size: 65536})
	})
	res = r.syscage("", "run", "-b", wide, newID(t))
	checkFailure(t, res, "rootless", "100000", "subordinate")
}

// TestRootlessSubIDs: a user with a subordinate range in /etc/subuid
// gets it mapped as the sandbox's ids 1.. (after its own id as root).
func TestRootlessSubIDs(t *testing.T) {
	r := newRootless(t)
	want := "0 " + strconv.Itoa(r.uid) + " 1"
	data, _ := os.ReadFile("/etc/subuid")
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Split(l, ":"); len(f) == 3 && (f[0] == testUserName || f[0] == strconv.Itoa(r.uid)) {
			want += " 1 " + f[1] + " " + f[2]
			break
		}
	}
	res := r.syscage("", "do", "--", "cat", "/proc/self/uid_map")
	if got := strings.Join(strings.Fields(res.Stdout), " "); res.Code != 0 || got != want {
		t.Errorf("uid_map %q, want %q: %s", got, want, res)
	}
}

// userBinDir holds the unprivileged user's copy of the binary; TestMain
// removes it when the tests are done.
var userBinDir string

func removeUserBinary() {
	if userBinDir != "" {
		os.RemoveAll(userBinDir)
	}
}
