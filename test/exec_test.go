package test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestExec runs processes in one running container: arguments, the flags
// that change the process, --process files, and exit codes.
func TestExec(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)

	processFile := func(p specs.Process) string {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "process.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	for _, tc := range []struct {
		name   string
		args   []string // after "exec"; "ID" is replaced by the container id
		code   int
		stdout string // exact
	}{
		{name: "args", args: []string{"ID", "echo", "hello", "world"}, stdout: "hello world\n"},
		{name: "sees-own-rootfs", args: []string{"ID", "sh", "-c", "test -x /bin/busybox && hostname"}, stdout: "syscage-it\n"},
		{name: "inherits-env", args: []string{"ID", "sh", "-c", "echo $" + markerEnv}, stdout: bundle + "\n"},
		{name: "exit-code", args: []string{"ID", "sh", "-c", "exit 42"}, code: 42},
		{name: "exit-code-false", args: []string{"ID", "false"}, code: 1},
		{name: "exit-code-signal", args: []string{"ID", "sh", "-c", "kill -9 $$"}, code: 128 + 9},
		{name: "env", args: []string{"--env", "FOO=bar", "--env", "BAZ=qux", "ID", "sh", "-c", "echo $FOO $BAZ"}, stdout: "bar qux\n"},
		{name: "env-overrides-spec", args: []string{"--env", markerEnv + "=overridden", "ID", "sh", "-c", "echo $" + markerEnv}, stdout: "overridden\n"},
		{name: "cwd", args: []string{"--cwd", "/proc", "ID", "pwd"}, stdout: "/proc\n"},
		{name: "user", args: []string{"--user", "1000:1001", "ID", "sh", "-c", "id -u; id -g"}, stdout: "1000\n1001\n"},
		{name: "user-uid-only", args: []string{"--user", "65534", "ID", "id", "-u"}, stdout: "65534\n"},
		{name: "same-pid-namespace", args: []string{"ID", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"}, stdout: "sleep 1000 "},
		{name: "process-file", args: []string{"--process", processFile(specs.Process{
			Args: []string{"sh", "-c", "echo $X; pwd; id -u"},
			Env:  []string{path, "X=from-file"},
			Cwd:  "/dev",
			User: specs.User{UID: 123, GID: 456},
		}), "ID"}, stdout: "from-file\n/dev\n123\n"},
		{name: "process-file-exit-code", args: []string{"--process", processFile(specs.Process{
			Args: []string{"sh", "-c", "exit 9"}, Env: []string{path}, Cwd: "/",
		}), "ID"}, code: 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"exec"}
			for _, a := range tc.args {
				if a == "ID" {
					a = id
				}
				args = append(args, a)
			}
			res := r.run(args...)
			if res.Code != tc.code {
				t.Errorf("exit %d, want %d: %s", res.Code, tc.code, res)
			}
			if tc.stdout != "" && res.Stdout != tc.stdout {
				t.Errorf("stdout %q, want %q: %s", res.Stdout, tc.stdout, res)
			}
		})
	}
}

// TestExecErrors checks the exec requests that must fail, and that a
// failed exec leaves the container running.
func TestExecErrors(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.startContainer(bundle)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"args": "sh"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	noArgs := filepath.Join(t.TempDir(), "noargs.json")
	if err := os.WriteFile(noArgs, []byte(`{"cwd": "/", "args": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{name: "no-such-binary", args: []string{"exec", id, "/no/such/binary"}, want: []string{"/no/such/binary"}},
		{name: "no-command", args: []string{"exec", id}, want: []string{"command"}},
		{name: "no-such-container", args: []string{"exec", "no-such-container", "true"}, want: []string{"no-such-container", "does not exist"}},
		{name: "process-file-missing", args: []string{"exec", "--process", "/no/such/process.json", id}, want: []string{"/no/such/process.json"}},
		{name: "process-file-wrong-type", args: []string{"exec", "--process", bad, id}, want: []string{"args"}},
		{name: "process-file-no-args", args: []string{"exec", "--process", noArgs, id}, want: []string{"args"}},
		{name: "relative-cwd", args: []string{"exec", "--cwd", "tmp", id, "true"}, want: []string{"cwd"}},
		{name: "cwd-missing", args: []string{"exec", "--cwd", "/no/such/cwd", id, "true"}, want: []string{"/no/such/cwd"}},
		{name: "bad-user", args: []string{"exec", "--user", "nobody:x", id, "true"}, want: []string{"user"}},
		{name: "tty-detach-without-console-socket", args: []string{"exec", "--tty", "--detach", id, "sh"}, want: []string{"console-socket"}},
		{name: "pid-file-dir-missing", args: []string{"exec", "--detach", "--pid-file", "/no/such/dir/exec.pid", id, "sleep", "777"},
			want: []string{"pid file", "/no/such/dir/"}},
		{name: "preserve-fds-not-open", args: []string{"exec", "--preserve-fds", "40", id, "sleep", "778"}, want: []string{"preserve-fds"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.fails(tc.want, tc.args...)
		})
	}
	// A failed exec leaves no process behind in the container.
	for _, p := range processes() {
		if strings.Contains(p.environ, markerEnv+"="+bundle) && p.pid != st.Pid {
			t.Errorf("failed exec left process %d: %s", p.pid, p.cmdline)
		}
	}
	if s := r.state(id); s.Status != "running" || s.Pid != st.Pid {
		t.Errorf("after failed execs: status %q pid %d, want running pid %d", s.Status, s.Pid, st.Pid)
	}
}

// TestExecDetach starts a detached exec: the command returns, the
// process runs inside the container under the pid in --pid-file.
func TestExecDetach(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, st := r.startContainer(bundle)
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.ok("exec", "--detach", "--pid-file", pidFile, id, "sleep", "999")
	pid := readPidFile(t, pidFile)
	if pid == st.Pid || !processExists(pid) {
		t.Fatalf("exec pid %d: not a live process distinct from init %d", pid, st.Pid)
	}
	// The pid is the runtime's init until it has exec'd the program.
	var got string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if got = strings.ReplaceAll(string(cmdline), "\x00", " "); got == "sleep 999 " {
			break
		}
	}
	if got != "sleep 999 " {
		t.Errorf("exec'd process runs %q, want \"sleep 999\"", got)
	}
	// It is in the container: the container's pid namespace numbers it.
	res := r.ok("exec", id, "sh", "-c", "ps -o pid,args | grep -c '[s]leep 999'")
	if strings.TrimSpace(res.Stdout) != "1" {
		t.Errorf("detached process not visible inside the container: %s", res)
	}
	r.stopAndDelete(id)
	waitGone(t, pid)
	assertClean(t, r.Root, id, bundle)
}

// TestExecStopped refuses to exec in a container that has exited.
func TestExecStopped(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	r.fails([]string{id, "stopped"}, "exec", id, "true")
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}

// TestExecCreated execs in a created (not yet started) container, which
// runc allows.
func TestExecCreated(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.create(bundle)
	res := r.run("exec", id, "echo", "hi")
	if res.Code != 0 || res.Stdout != "hi\n" {
		t.Errorf("exec in a created container (runc allows it): %s", res)
	}
	r.ok("delete", "--force", id)
	assertClean(t, r.Root, id, bundle)
}

// TestExecPreserveFDs passes an extra descriptor to an exec'd process.
func TestExecPreserveFDs(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	c := r.command("exec", "--preserve-fds", "1", id, "sh", "-c", "echo exec-fd3 >&3")
	c.Cmd.ExtraFiles = []*os.File{pw}
	c.Start()
	pw.Close()
	if res := c.Wait(); res.Code != 0 {
		t.Fatalf("exec --preserve-fds 1: %s", res)
	}
	got, _ := io.ReadAll(pr)
	if string(got) != "exec-fd3\n" {
		t.Errorf("read %q from the preserved fd, want \"exec-fd3\\n\"", got)
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}

// TestExecForwardsSignals sends SIGTERM to a foreground exec: it reaches
// the exec'd process, whose exit code exec returns.
func TestExecForwardsSignals(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	c := r.command("exec", id, "sh", "-c", "trap 'exit 9' TERM; echo ready; sleep 1000 & wait")
	c.Start()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(c.Stdout(), "ready"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the exec'd shell did not get ready within 10s")
		}
	}
	if err := c.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- c.Wait() }()
	select {
	case res := <-done:
		if res.Code != 9 {
			t.Errorf("exec after SIGTERM: exit %d, want the process's 9: %s", res.Code, res)
		}
	case <-time.After(20 * time.Second):
		_ = c.Cmd.Process.Kill()
		<-done
		t.Errorf("exec did not return within 20s of SIGTERM")
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}
