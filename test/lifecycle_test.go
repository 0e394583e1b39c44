package test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// trapTERM is an init that exits 7 on SIGTERM: an init without a handler
// ignores SIGTERM sent from outside its pid namespace.
var trapTERM = withArgs("sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait")

// TestLifecycle walks create → created → start → running → kill → stopped
// → delete → gone, killing with each way of naming a signal.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sig  []string // kill's signal argument; none means the default
		opts []specOpt
	}{
		{name: "KILL", sig: []string{"KILL"}},
		{name: "SIGKILL", sig: []string{"SIGKILL"}},
		{name: "9", sig: []string{"9"}},
		{name: "TERM", sig: []string{"TERM"}, opts: []specOpt{trapTERM}},
		{name: "15", sig: []string{"15"}, opts: []specOpt{trapTERM}},
		{name: "sigterm-lowercase", sig: []string{"sigterm"}, opts: []specOpt{trapTERM}},
		{name: "default-is-TERM", opts: []specOpt{trapTERM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t, tc.opts...)
			pidFile := filepath.Join(t.TempDir(), "init.pid")
			id, st := r.create(bundle, "--pid-file", pidFile)

			if st.Pid <= 0 || !processExists(st.Pid) {
				t.Fatalf("created: pid %d is not a live process", st.Pid)
			}
			if got := readPidFile(t, pidFile); got != st.Pid {
				t.Errorf("--pid-file holds %d, state says pid %d", got, st.Pid)
			}
			if st.Bundle != bundle {
				t.Errorf("state bundle = %q, want %q", st.Bundle, bundle)
			}
			if want := filepath.Join(bundle, "rootfs"); st.Rootfs != want {
				t.Errorf("state rootfs = %q, want %q", st.Rootfs, want)
			}
			if st.Created.IsZero() || time.Since(st.Created) > time.Minute {
				t.Errorf("state created = %v, want a recent time", st.Created)
			}
			if fi, err := os.Stat(filepath.Join(r.Root, id)); err != nil || !fi.IsDir() {
				t.Errorf("state directory %s: %v", filepath.Join(r.Root, id), err)
			}

			r.ok("start", id)
			run := r.waitStatus(id, "running")
			if len(tc.opts) > 0 {
				waitSigCaught(t, run.Pid, syscall.SIGTERM)
			}
			if run.Pid != st.Pid {
				t.Errorf("running pid %d, created pid %d", run.Pid, st.Pid)
			}
			r.fails([]string{"running"}, "start", id)
			r.fails([]string{"running"}, "delete", id)
			if s := r.state(id); s.Status != "running" {
				t.Fatalf("a refused delete changed the status to %q", s.Status)
			}

			r.ok(append([]string{"kill", id}, tc.sig...)...)
			if s := r.waitStatus(id, "stopped"); s.Pid != 0 {
				t.Errorf("stopped container reports pid %d, want 0", s.Pid)
			}
			waitGone(t, st.Pid)
			r.fails([]string{"not running"}, "kill", id, "KILL")
			r.fails([]string{"stopped"}, "start", id)

			r.ok("delete", id)
			r.fails([]string{id, "does not exist"}, "state", id)
			r.fails([]string{"does not exist"}, "delete", id)
			assertClean(t, r.Root, id, bundle)
		})
	}
}

// TestDeleteCreated deletes a container that was created but never
// started; its waiting init must go with it.
func TestDeleteCreated(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.create(bundle)
	r.ok("delete", id)
	waitGone(t, st.Pid)
	assertClean(t, r.Root, id, bundle)
}

// TestDeleteForce deletes a running container with --force.
func TestDeleteForce(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.startContainer(bundle)
	r.ok("delete", "--force", id)
	waitGone(t, st.Pid)
	r.fails([]string{"does not exist"}, "state", id)
	assertClean(t, r.Root, id, bundle)
}

// TestRunExitCode runs containers in the foreground: run returns the
// container's exit code and removes the container afterwards.
func TestRunExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		script string
		code   int
		stdout string
	}{
		{name: "zero", script: "echo hello from $(hostname)", code: 0, stdout: "hello from"},
		{name: "three", script: "echo to-stderr >&2; exit 3", code: 3},
		{name: "false", script: "false", code: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t, withArgs("sh", "-c", tc.script))
			id := newID(t)
			res := r.run("run", "--bundle", bundle, id)
			if res.Code != tc.code {
				t.Errorf("exit code %d, want %d: %s", res.Code, tc.code, res)
			}
			if !strings.Contains(res.Stdout, tc.stdout) {
				t.Errorf("stdout %q does not contain %q", res.Stdout, tc.stdout)
			}
			r.fails([]string{"does not exist"}, "state", id)
			assertClean(t, r.Root, id, bundle)
		})
	}
}

// TestRunKilled kills a foreground run's container from outside: run
// exits 128+9, as a shell reports a process killed by SIGKILL.
func TestRunKilled(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id := newID(t)
	fg := r.command("run", "--bundle", bundle, id)
	fg.Start()
	st := r.waitStatus(id, "running")
	r.ok("kill", id, "KILL")
	res := fg.Wait()
	if res.Code != 128+9 {
		t.Errorf("run of a SIGKILLed container: exit %d, want 137: %s", res.Code, res)
	}
	waitGone(t, st.Pid)
	assertClean(t, r.Root, id, bundle)
}

// TestRunKeep keeps the stopped container after a foreground run.
func TestRunKeep(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withArgs("sh", "-c", "exit 5"))
	id := newID(t)
	if res := r.run("run", "--keep", "--bundle", bundle, id); res.Code != 5 {
		t.Errorf("exit %d, want 5: %s", res.Code, res)
	}
	if s := r.state(id); s.Status != "stopped" {
		t.Errorf("kept container status %q, want stopped", s.Status)
	}
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}

// TestRunDetached runs a container with run -d: the command returns while
// the container keeps running, and its pid-file matches its state.
func TestRunDetached(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id := newID(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	r.ok("run", "-d", "--pid-file", pidFile, "--bundle", bundle, id)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("run -d took %v", d)
	}
	st := r.waitStatus(id, "running")
	if got := readPidFile(t, pidFile); got != st.Pid {
		t.Errorf("--pid-file holds %d, state says %d", got, st.Pid)
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}

// TestContainerStdout checks that a container without a terminal writes
// to the stdout and stderr the runtime was given (how shims collect logs).
func TestContainerStdout(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withArgs("sh", "-c", "echo out; echo err >&2"))
	res := r.run("run", "--bundle", bundle, newID(t))
	if res.Code != 0 || res.Stdout != "out\n" || !strings.Contains(res.Stderr, "err\n") {
		t.Errorf("want exit 0, stdout \"out\\n\", stderr with \"err\": %s", res)
	}
}

// TestKillCreated kills a container that was created but not started.
func TestKillCreated(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.create(bundle)
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	waitGone(t, st.Pid)
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}

// TestRunForwardsSignals sends SIGTERM to a foreground `run`: it reaches
// the container's init, whose exit code run returns.
func TestRunForwardsSignals(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, trapTERM)
	id := newID(t)
	fg := r.command("run", "--bundle", bundle, id)
	fg.Start()
	st := r.waitStatus(id, "running")
	waitSigCaught(t, st.Pid, syscall.SIGTERM)
	if err := fg.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if res := fg.Wait(); res.Code != 7 {
		t.Errorf("run after SIGTERM to it: exit %d, want the container's 7: %s", res.Code, res)
	}
	assertClean(t, r.Root, id, bundle)
}

// TestRunStdin gives a foreground container the runtime's stdin.
func TestRunStdin(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withArgs("sh", "-c", "read x; echo got-$x"))
	id := newID(t)
	res := r.runStdin("abc\n", "run", "--bundle", bundle, id)
	if res.Code != 0 || res.Stdout != "got-abc\n" {
		t.Errorf("want exit 0 and \"got-abc\": %s", res)
	}
	assertClean(t, r.Root, id, bundle)
}

// TestRunTerminalForeground runs a shell on a terminal in the foreground:
// the runtime copies its own stdin and stdout to and from the pty.
func TestRunTerminalForeground(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withTerminal(true), withArgs("sh"))
	id := newID(t)
	res := r.runStdin("test -t 0 && echo tty-$((2+3)); exit 6\n", "run", "--bundle", bundle, id)
	if res.Code != 6 || !strings.Contains(res.Stdout, "tty-5") {
		t.Errorf("want exit 6 and \"tty-5\" on stdout: %s", res)
	}
	assertClean(t, r.Root, id, bundle)
}

// TestPreserveFDs passes an extra file descriptor (fd 3) into the
// container with --preserve-fds.
func TestPreserveFDs(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withArgs("sh", "-c", "echo via-fd3 >&3"))
	id := newID(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	c := r.command("run", "--preserve-fds", "1", "--bundle", bundle, id)
	c.Cmd.ExtraFiles = []*os.File{pw}
	c.Start()
	pw.Close()
	res := c.Wait()
	if res.Code != 0 {
		t.Fatalf("run --preserve-fds 1: %s", res)
	}
	got, _ := io.ReadAll(pr)
	if string(got) != "via-fd3\n" {
		t.Errorf("read %q from the preserved fd, want \"via-fd3\\n\"", got)
	}
	assertClean(t, r.Root, id, bundle)
}

// TestRelativePaths uses a bundle and pid file relative to the caller's
// directory, and the default bundle (the current directory).
func TestRelativePaths(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)

	id := newID(t)
	c := r.command("create", "--bundle", filepath.Base(bundle), "--pid-file", "rel.pid", id)
	c.Cmd.Dir = filepath.Dir(bundle)
	c.Start()
	if res := c.Wait(); res.Code != 0 {
		t.Fatalf("create with a relative bundle: %s", res)
	}
	st := r.waitStatus(id, "created")
	if got := readPidFile(t, filepath.Join(filepath.Dir(bundle), "rel.pid")); got != st.Pid {
		t.Errorf("relative pid file holds %d, state says %d", got, st.Pid)
	}
	if st.Bundle != bundle {
		t.Errorf("state bundle %q, want the absolute %q", st.Bundle, bundle)
	}
	r.ok("delete", id)

	id2 := newID(t)
	c = r.command("create", id2)
	c.Cmd.Dir = bundle
	c.Start()
	if res := c.Wait(); res.Code != 0 {
		t.Fatalf("create without --bundle in the bundle directory: %s", res)
	}
	if st := r.waitStatus(id2, "created"); st.Bundle != bundle {
		t.Errorf("state bundle %q, want %q", st.Bundle, bundle)
	}
	r.ok("delete", id2)
	assertClean(t, r.Root, id, bundle)
	assertClean(t, r.Root, id2, bundle)
}

// TestDetachedStdio checks that a container created without a terminal
// writes to the stdout and stderr `create` was given, after `create` has
// returned: this is how containerd's shim hands a container its fifos.
func TestDetachedStdio(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withArgs("sh", "-c", "read line; echo out-$line; echo err-$line >&2"))
	dir := t.TempDir()
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	outF, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(filepath.Join(dir, "err"))
	if err != nil {
		t.Fatal(err)
	}
	id := newID(t)
	c := r.command("create", "--bundle", bundle, id)
	c.Cmd.Stdin, c.Cmd.Stdout, c.Cmd.Stderr = stdinR, outF, errF
	c.Start()
	stdinR.Close()
	outF.Close()
	errF.Close()
	if res := c.Wait(); res.Code != 0 {
		t.Fatalf("create: exit %d; stderr in %s", res.Code, errF.Name())
	}
	r.ok("start", id)
	if _, err := stdinW.WriteString("ping\n"); err != nil {
		t.Fatal(err)
	}
	r.waitStatus(id, "stopped")
	if got := readTrim(t, outF.Name()); got != "out-ping" {
		t.Errorf("container stdout %q, want \"out-ping\"", got)
	}
	if got := readTrim(t, errF.Name()); !strings.Contains(got, "err-ping") {
		t.Errorf("container stderr %q, want \"err-ping\"", got)
	}
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}

// TestIdentities runs the lifecycle with the workload as each identity a
// production container has — host root, uid 1000 (runAsNonRoot) and root
// in a user namespace mapped to host uid 100000 (hostUsers: false):
// create, start, the sandbox's answers to the init and to an exec'd
// process (uname and the host name, which glibc takes from uname), kill,
// delete, and nothing left behind.
func TestIdentities(t *testing.T) {
	t.Parallel()
	for _, ident := range sandboxtest.Identities {
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t, ident.Opt)
			id, st := r.startContainer(bundle)
			if st.Pid <= 0 {
				t.Fatalf("running container has pid %d", st.Pid)
			}
			release, err := sandboxtest.SandboxRelease()
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("%d\n%s\nsyscage-it\n", ident.UID, release)
			res := r.ok("exec", id, "sh", "-c", "id -u; uname -r; hostname")
			if res.Stdout != want {
				t.Errorf("exec as %s: got %q, want %q", ident.Name, res.Stdout, want)
			}
			// The init itself (pid 1 of the container) is the identity too.
			res = r.ok("exec", id, "sh", "-c", "awk '/^Uid:/ {print $2}' /proc/1/status")
			if got := strings.TrimSpace(res.Stdout); got != strconv.Itoa(ident.UID) {
				t.Errorf("init runs as uid %s, want %d", got, ident.UID)
			}
			r.stopAndDelete(id)
			assertClean(t, r.Root, id, bundle)
		})
	}
}
