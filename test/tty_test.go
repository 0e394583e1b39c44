package test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"
)

// consoleSocket listens on a unix socket for the pty master a runtime sends
// with SCM_RIGHTS, as containerd's shim does.
type consoleSocket struct {
	path   string
	ln     *net.UnixListener
	master chan *os.File
	err    chan error
}

func newConsoleSocket(t *testing.T) *consoleSocket {
	t.Helper()
	path := filepath.Join(shortTempDir(t, "scc"), "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cs := &consoleSocket{path: path, ln: ln, master: make(chan *os.File, 1), err: make(chan error, 1)}
	go func() {
		conn, err := ln.AcceptUnix()
		if err != nil {
			cs.err <- err
			return
		}
		defer conn.Close()
		f, err := conn.File()
		if err != nil {
			cs.err <- err
			return
		}
		defer f.Close()
		m, err := utils.RecvFile(f)
		if err != nil {
			cs.err <- err
			return
		}
		defer m.Close()
		// A non-blocking copy so reads can have deadlines.
		fd, err := unix.Dup(int(m.Fd()))
		if err == nil {
			err = unix.SetNonblock(fd, true)
		}
		if err != nil {
			cs.err <- err
			return
		}
		cs.master <- os.NewFile(uintptr(fd), "pty-master")
	}()
	return cs
}

// receive waits for the pty master.
func (cs *consoleSocket) receive(t *testing.T) *os.File {
	t.Helper()
	select {
	case m := <-cs.master:
		t.Cleanup(func() { m.Close() })
		return m
	case err := <-cs.err:
		t.Fatalf("console socket: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("console socket: no pty master within 20s")
	}
	return nil
}

// expect reads from the pty master until want appears.
func expect(t *testing.T, master *os.File, want string) string {
	t.Helper()
	var got bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(got.String(), want) {
		if err := master.SetReadDeadline(deadline); err != nil {
			t.Fatalf("pty master: %v", err)
		}
		n, err := master.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("reading the terminal for %q: %v; read so far %q", want, err, got.String())
		}
	}
	return got.String()
}

// TestConsoleSocket creates a container with a terminal: the runtime hands
// the pty master to our console socket, and a shell answers through it.
func TestConsoleSocket(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withTerminal(true), withArgs("sh"))
	cs := newConsoleSocket(t)
	id, st := r.create(bundle, "--console-socket", cs.path)
	master := cs.receive(t)
	r.ok("start", id)
	r.waitStatus(id, "running")

	// $((6*7)) is expanded by the shell, so the echo of our input alone
	// cannot satisfy the expectation.
	if _, err := master.WriteString("tty; echo answer-$((6*7))\n"); err != nil {
		t.Fatal(err)
	}
	out := expect(t, master, "answer-42")
	if !strings.Contains(out, "/dev/pts/") {
		t.Errorf("the shell's stdin is not a pty: %q", out)
	}
	if _, err := master.WriteString("exit 3\n"); err != nil {
		t.Fatal(err)
	}
	r.waitStatus(id, "stopped")
	waitGone(t, st.Pid)
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}

// TestExecTTY execs a shell with --tty --detach into a running container
// and talks to it through the pty master from the console socket.
func TestExecTTY(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	cs := newConsoleSocket(t)
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.ok("exec", "--tty", "--detach", "--console-socket", cs.path, "--pid-file", pidFile, id, "sh")
	master := cs.receive(t)
	pid := readPidFile(t, pidFile)
	if _, err := master.WriteString("test -t 0 && echo is-a-$((1+1))-tty\n"); err != nil {
		t.Fatal(err)
	}
	expect(t, master, "is-a-2-tty")
	if _, err := master.WriteString("exit\n"); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}

// TestRunDetachedConsoleSocket runs a terminal container with run -d: the
// pty master arrives on the console socket and the shell answers.
func TestRunDetachedConsoleSocket(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withTerminal(true), withArgs("sh"))
	cs := newConsoleSocket(t)
	id := newID(t)
	r.ok("run", "-d", "--console-socket", cs.path, "--bundle", bundle, id)
	master := cs.receive(t)
	st := r.waitStatus(id, "running")
	if _, err := master.WriteString("echo detached-$((3*3))\n"); err != nil {
		t.Fatal(err)
	}
	expect(t, master, "detached-9")
	if _, err := master.WriteString("exit\n"); err != nil {
		t.Fatal(err)
	}
	r.waitStatus(id, "stopped")
	waitGone(t, st.Pid)
	r.ok("delete", id)
	assertClean(t, r.Root, id, bundle)
}

// TestExecTTYForeground execs a shell on a terminal in the foreground: the
// runtime relays its own stdin and stdout and returns the exit code.
func TestExecTTYForeground(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	id, _ := r.startContainer(bundle)
	res := r.runStdin("test -t 1 && echo exec-tty-$((4+4)); exit 4\n", "exec", "--tty", id, "sh")
	if res.Code != 4 || !strings.Contains(res.Stdout, "exec-tty-8") {
		t.Errorf("want exit 4 and \"exec-tty-8\": %s", res)
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}
