package test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/console"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// The tests of `syscage do` (docs/workstation.md) run as root here and as
// an unprivileged user in rootless_test.go. They run one at a time: do's
// bundles share one directory (/run/syscage-do), which must be empty
// after each.

// doBase is where do prepares its bundles as root.
const doBase = "/run/syscage-do"

// doRun runs `syscage [global...] do args...` in dir with stdin, and with
// the marker variable in the environment (do passes it on to the
// sandboxed command, so leftover processes can be found).
func (r *runtime) doRun(dir, stdin string, args ...string) result {
	r.t.Helper()
	c := r.command(append([]string{"do"}, args...)...)
	c.Cmd.Dir = dir
	c.Cmd.Env = append(os.Environ(), markerEnv+"="+dir)
	c.Cmd.Stdin = strings.NewReader(stdin)
	c.Start()
	return c.Wait()
}

// doLeftovers lists what a finished do left: bundles, containers in the
// state root, cgroups of do containers, processes carrying the marker of
// dir.
func doLeftovers(t *testing.T, root, base, dir string) []string {
	t.Helper()
	var left []string
	for _, d := range []string{root, base} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			left = append(left, filepath.Join(d, e.Name()))
		}
	}
	matches, _ := filepath.Glob("/sys/fs/cgroup/*/do-*")
	more, _ := filepath.Glob("/sys/fs/cgroup/do-*")
	left = append(append(left, matches...), more...)
	return append(left, env.MarkedProcesses(dir)...)
}

func TestDo(t *testing.T) {
	release, err := sandboxtest.SandboxRelease()
	if err != nil {
		t.Fatal(err)
	}
	hostTmp, err := os.CreateTemp("", "do-hidden-")
	if err != nil {
		t.Fatal(err)
	}
	hostTmp.Close()
	defer os.Remove(hostTmp.Name())
	hostIfaces, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string   // the whole of stdout, trimmed, if not ""
		stderr []string // each in stderr
		check  func(t *testing.T, dir string)
		// hostNet: stdout lists the host's interfaces
		hostNet bool
	}{
		{name: "writes the working directory", args: []string{"--", "sh", "-c", "echo hi > ./f"},
			check: func(t *testing.T, dir string) {
				if data, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(data) != "hi\n" {
					t.Errorf("./f on the host: %q, %v", data, err)
				}
			}},
		{name: "/usr is read-only", args: []string{"--", "sh", "-c", "echo x > /usr/syscage-do-test"},
			code: 2, stderr: []string{"Read-only file system"}},
		{name: "kernel release", args: []string{"--", "sh", "-c", "uname -r; cat /proc/sys/kernel/osrelease"},
			stdout: release + "\n" + release},
		{name: "unshare -U refused", args: []string{"--", "unshare", "-U", "true"},
			code: 1, stderr: []string{"Operation not permitted"}},
		{name: "no network but lo", args: []string{"--", "sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"},
			stdout: "lo"},
		{name: "host network", args: []string{"--network", "host", "--", "cat", "/proc/net/dev"}, hostNet: true},
		{name: "exit status", args: []string{"--", "sh", "-c", "exit 7"}, code: 7},
		{name: "killed by a signal", args: []string{"--", "sh", "-c", "kill -TERM $$"}, code: 128 + 15},
		{name: "orphans end with the command", args: []string{"--", "sh", "-c", "sleep 1000 & exit 4"}, code: 4},
		{name: "missing program", args: []string{"--", "/nonexistent/prog"}, code: 127, stderr: []string{"/nonexistent/prog"}},
		{name: "stdin", args: []string{"--", "cat"}, stdin: "through\n", stdout: "through"},
		{name: "env", args: []string{"--env", "DO_A=1", "--", "sh", "-c", "echo $DO_A-${" + markerEnv + ":+passed}"}, stdout: "1-passed"},
		{name: "clear-env", args: []string{"--clear-env", "--env", "DO_A=2", "--", "sh", "-c", "echo $DO_A-${" + markerEnv + ":+passed}"}, stdout: "2-"},
		{name: "private /tmp", args: []string{"--", "test", "-e", hostTmp.Name()}, code: 1},
		{name: "rw and ro paths", args: []string{"--ro", "sub", "--", "sh", "-c", "echo y > sub/x"},
			code: 2, stderr: []string{"Read-only file system"}},
		{name: "hide", args: []string{"--hide", "sub", "--", "sh", "-c", "test -e sub/visible || echo hidden; echo z > sub/z"},
			code: 2, stdout: "hidden", stderr: []string{"Read-only file system"}},
		{name: "memory limit", args: []string{"--memory", "64m", "--", "sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"},
			stdout: "67108864"},
		{name: "strace", args: []string{"--strace", "--", "unshare", "-U", "true"},
			code: 1, stderr: []string{`"syscall":"unshare"`, `"decision":"deny"`}},
		{name: "pid namespace", args: []string{"--", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"},
			stdout: "/.syscage-init do-init -- sh -c cat /proc/1/cmdline | tr '\\0' ' '"},
		// Bad input: an error naming the problem.
		{name: "no command", args: []string{"--"}, code: 1, stderr: []string{"no command given"}},
		{name: "missing --rw", args: []string{"--rw", "/nonexistent-do", "--", "true"}, code: 1, stderr: []string{"--rw /nonexistent-do", "no such file"}},
		{name: "--rw /proc", args: []string{"--rw", "/proc/self", "--", "true"}, code: 1, stderr: []string{"cannot be made writable"}},
		{name: "bad network", args: []string{"--network", "bridge", "--", "true"}, code: 1, stderr: []string{"--network", "bridge", "must be none or host"}},
		{name: "bad memory", args: []string{"--memory", "lots", "--", "true"}, code: 1, stderr: []string{"--memory lots"}},
		{name: "bad env", args: []string{"--env", "NOVALUE", "--", "true"}, code: 1, stderr: []string{"--env", "NOVALUE", "KEY=VALUE"}},
		{name: "bad profile", args: []string{"--profile", "/nonexistent.json", "--", "true"}, code: 1, stderr: []string{"/nonexistent.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t)
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "sub", "visible"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			res := r.doRun(dir, tc.stdin, tc.args...)
			if res.Code != tc.code {
				t.Fatalf("exit %d, want %d: %s", res.Code, tc.code, res)
			}
			if tc.stdout != "" && strings.TrimSpace(res.Stdout) != tc.stdout {
				t.Errorf("stdout %q, want %q", strings.TrimSpace(res.Stdout), tc.stdout)
			}
			if tc.hostNet && !sameInterfaces(res.Stdout, string(hostIfaces)) {
				t.Errorf("--network host: interfaces\n%s\nwant the host's\n%s", res.Stdout, hostIfaces)
			}
			for _, w := range tc.stderr {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr does not mention %q: %s", w, res)
				}
			}
			if tc.check != nil {
				tc.check(t, dir)
			}
			if left := doLeftovers(t, r.Root, doBase, dir); len(left) > 0 {
				t.Errorf("left behind: %q", left)
			}
		})
	}
}

// sameInterfaces compares the interface names of two /proc/net/dev
// contents (the counters move).
func sameInterfaces(a, b string) bool {
	names := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if name, _, ok := strings.Cut(l, ":"); ok && !strings.Contains(name, "|") {
				out = append(out, strings.TrimSpace(name))
			}
		}
		return strings.Join(out, ",")
	}
	return names(a) == names(b)
}

// TestDoSignals: a signal to `syscage do` reaches the command (which is
// not pid 1, so it dies of SIGINT as it would run directly) and do exits
// 128+n, leaving nothing behind.
func TestDoSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			r := newRuntime(t)
			dir := t.TempDir()
			c := r.command("do", "--", "sh", "-c", "echo ready; exec sleep 1000")
			c.Cmd.Dir = dir
			c.Cmd.Env = append(os.Environ(), markerEnv+"="+dir)
			c.Start()
			if !waitFor(30*time.Second, func() bool { return strings.Contains(c.Stdout(), "ready") }) {
				_ = c.Cmd.Process.Kill()
				t.Fatalf("the command did not start: %s", c.Wait())
			}
			if err := c.Cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			res := c.Wait()
			if res.Code != 128+int(sig) {
				t.Errorf("exit %d, want %d: %s", res.Code, 128+int(sig), res)
			}
			if left := doLeftovers(t, r.Root, doBase, dir); len(left) > 0 {
				t.Errorf("left behind: %q", left)
			}
		})
	}
}

// TestDoTerminal: with a terminal on stdin and stdout, the command gets a
// terminal of its own, in its foreground, so Ctrl-C typed at the outer
// terminal interrupts it as it would interrupt the command run directly.
func TestDoTerminal(t *testing.T) {
	r := newRuntime(t)
	dir := t.TempDir()
	master, slavePath, err := console.NewPty()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := r.command("do", "--", "sh", "-c", "test -t 0 && test -t 1 && echo tty-ok; echo ready; exec sleep 1000")
	c.Cmd.Dir = dir
	c.Cmd.Env = append(os.Environ(), markerEnv+"="+dir)
	c.Cmd.Stdin, c.Cmd.Stdout, c.Cmd.Stderr = slave, slave, slave
	c.Start()
	slave.Close()
	var (
		mu  sync.Mutex
		out strings.Builder
	)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	seen := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	if !waitFor(30*time.Second, func() bool { return strings.Contains(seen(), "ready") }) {
		_ = c.Cmd.Process.Kill()
		t.Fatalf("the command did not start: %q %s", seen(), c.Wait())
	}
	if !strings.Contains(seen(), "tty-ok") {
		t.Errorf("the command's stdin and stdout are not terminals: %q", seen())
	}
	if _, err := master.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	res := c.Wait()
	if res.Code != 128+int(syscall.SIGINT) {
		t.Errorf("exit %d, want %d: %q %s", res.Code, 128+int(syscall.SIGINT), seen(), res)
	}
	if left := doLeftovers(t, r.Root, doBase, dir); len(left) > 0 {
		t.Errorf("left behind: %q", left)
	}
}

// TestDoPlantedLinks replays the review's attack on do's paths: one run
// leaves symbolic links in its writable working directory (out -> a host
// directory, .git -> a hidden one), and a later run is given them as
// --rw and --ro. The later run must be refused with the link named, and
// the host directory must stay untouched.
func TestDoPlantedLinks(t *testing.T) {
	r := newRuntime(t)
	dir := t.TempDir()
	victim, secret := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(secret, "id_rsa"), []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := r.doRun(dir, "", "--", "sh", "-c", "ln -s "+victim+" out && ln -s "+secret+" .git"); res.Code != 0 {
		t.Fatalf("planting the links: %s", res)
	}
	res := r.doRun(dir, "", "--rw", filepath.Join(dir, "out"), "--", "sh", "-c", "echo PWNED > "+victim+"/file")
	if res.Code == 0 || !strings.Contains(res.Stderr, filepath.Join(dir, "out")+" is a symbolic link inside") {
		t.Errorf("--rw through a planted link: %s", res)
	}
	if _, err := os.Stat(filepath.Join(victim, "file")); err == nil {
		t.Errorf("the sandbox wrote into %s through a planted link", victim)
	}
	res = r.doRun(dir, "", "--hide", secret, "--ro", filepath.Join(dir, ".git"), "--", "cat", filepath.Join(secret, "id_rsa"))
	if res.Code == 0 || strings.Contains(res.Stdout, "SECRET") {
		t.Errorf("--ro through a planted link undid --hide: %s", res)
	}
	if left := doLeftovers(t, r.Root, doBase, dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
