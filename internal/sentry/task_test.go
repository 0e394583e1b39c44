package sentry

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// pending is a helper thread blocked in a notified getppid, and the
// sentry's copy of the listener it is waiting on.
type pending struct {
	h        *helper
	listener int
	n        notif
	buf      uintptr // the helper's buffer: read-write, read-only, PROT_NONE and unmapped pages
	tid      int     // the notifying thread, as the helper saw it
	pipeR    *os.File
	pipeW    *os.File // the helper has pipeR as its fd 3
}

// startPending starts a notify helper and receives its notification the
// way the sentry does (recv on the listener fd), after taking the listener
// out of the helper with pidfd_getfd.
func startPending(t *testing.T) *pending {
	t.Helper()
	requireRoot(t, "seccomp filters, /proc/<pid>/mem and pidfd_getfd of another process")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	p := &pending{h: startHelper(t, "notify", nil, nil, r), pipeR: r, pipeW: w}

	line := p.h.line(t)
	var childListener int
	if _, err := fmt.Sscanf(line, "listener=%d addr=%d tid=%d", &childListener, &p.buf, &p.tid); err != nil {
		t.Fatalf("helper said %q: %v", line, err)
	}
	pidfd, err := unix.PidfdOpen(p.h.cmd.Process.Pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open: %v", err)
	}
	defer unix.Close(pidfd)
	if p.listener, err = unix.PidfdGetfd(pidfd, childListener, 0); err != nil {
		t.Fatalf("taking the listener from the helper: %v", err)
	}
	t.Cleanup(func() { unix.Close(p.listener) })

	pfd := []unix.PollFd{{Fd: int32(p.listener), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, 10_000)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if n == 0 || pfd[0].Revents&unix.POLLIN == 0 {
			t.Fatalf("no notification from the helper in 10s (revents %#x, stderr %q)", pfd[0].Revents, p.h.stderr.String())
		}
		break
	}
	if err := recv(p.listener, &p.n); err != nil {
		t.Fatalf("recv: %v", err)
	}
	if p.n.Data.Nr != unix.SYS_GETPPID {
		t.Fatalf("notified syscall %d, want getppid (%d)", p.n.Data.Nr, unix.SYS_GETPPID)
	}
	if int(p.n.Pid) != p.tid {
		t.Fatalf("notification names thread %d, the helper's thread is %d", p.n.Pid, p.tid)
	}
	return p
}

// task builds a task for the pending notification as Sentry.answer does.
func (p *pending) task() *task {
	return &task{fd: p.listener, id: p.n.ID, pid: int(p.n.Pid)}
}

// stackStart is the lowest address of the helper's [stack] mapping.
func stackStart(t *testing.T, pid int) uintptr {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != "[stack]" {
			continue
		}
		if !strings.HasPrefix(fields[1], "rw") {
			t.Fatalf("[stack] of pid %d is %s, not writable", pid, fields[1])
		}
		start, _, _ := strings.Cut(fields[0], "-")
		a, err := strconv.ParseUint(start, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		return uintptr(a)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no [stack] mapping in /proc/%d/maps", pid)
	return 0
}

// TestTask drives a task against a real thread blocked in a notified call:
// its memory, its fds, then what is left of both once the call has been
// answered.
func TestTask(t *testing.T) {
	p := startPending(t)
	page := uintptr(os.Getpagesize())
	stack := stackStart(t, p.h.cmd.Process.Pid)
	written := []byte("written by the sentry test")
	const writtenOff = 64 // where written goes in the helper's buffer

	t.Run("Pid and tgid", func(t *testing.T) {
		tk := p.task()
		if tk.Pid() != p.tid {
			t.Errorf("Pid() = %d, want %d", tk.Pid(), p.tid)
		}
		if got, want := tgid(tk.Pid()), p.h.cmd.Process.Pid; got != want {
			t.Errorf("tgid(%d) = %d, want the helper's pid %d", tk.Pid(), got, want)
		}
	})

	t.Run("memory", func(t *testing.T) {
		// The bottom of the stack mapping is far below anything in use;
		// it is put back as it was all the same.
		orig := make([]byte, 32)
		tk := p.task()
		if err := tk.ReadMemory(stack, orig); err != nil {
			t.Fatalf("reading [stack] at %#x: %v", stack, err)
		}
		t.Cleanup(func() {
			tk := p.task()
			if err := tk.WriteMemory(stack, orig); err != nil {
				t.Errorf("restoring [stack]: %v", err)
			}
		})

		missing := unusedPid(t)
		ro, none, unmapped := p.buf+page, p.buf+2*page, p.buf+3*page
		cases := []struct {
			name    string
			pid     int    // 0: the notifying thread
			idDelta uint64 // added to the notification id
			addr    uintptr
			write   []byte // written first, if set
			read    int    // bytes then read back (with a fresh task)
			want    []byte
			errIs   error  // the error wraps this
			errSub  string // or contains this
		}{
			{name: "read the helper's buffer", addr: p.buf, read: len(helperPattern), want: helperPattern},
			{name: "write and read back the helper's buffer", addr: p.buf + writtenOff, write: written, read: len(written), want: written},
			{name: "write and read back [stack]", addr: stack, write: []byte("\xde\xad\xbe\xef stack bytes"), read: 12, want: []byte("\xde\xad\xbe\xef stack b")},
			{name: "write a read-only page", addr: ro, write: []byte("x"), errIs: unix.EFAULT},
			{name: "the read-only page is as it was", addr: ro, read: len(helperPattern), want: helperPattern},
			{name: "read a PROT_NONE page", addr: none, read: 8, errIs: unix.EFAULT},
			{name: "write a PROT_NONE page", addr: none, write: []byte("x"), errIs: unix.EFAULT},
			{name: "read an unmapped page", addr: unmapped, read: 8, errIs: unix.EFAULT},
			{name: "write an unmapped page", addr: unmapped, write: []byte("x"), errIs: unix.EFAULT},
			{name: "read address 0x10", addr: 0x10, read: 8, errIs: unix.EFAULT},
			{name: "read across into a PROT_NONE page", addr: ro + page - 4, read: 8, errIs: unix.EFAULT},
			{name: "write across into a read-only page", addr: ro - 4, write: []byte("12345678"), errIs: unix.EFAULT},
			{name: "read from a missing pid", pid: missing, addr: p.buf, read: 8, errIs: unix.ESRCH},
			{name: "write to a missing pid", pid: missing, addr: p.buf, write: []byte("x"), errIs: unix.ESRCH},
			{name: "read with a stale notification id", idDelta: 1 << 40, addr: p.buf, read: 8, errIs: errNotValid},
			{name: "write with a stale notification id", idDelta: 1 << 40, addr: p.buf, write: []byte("x"), errIs: errNotValid},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				mk := func() *task {
					tk := p.task()
					tk.id += tc.idDelta
					if tc.pid != 0 {
						tk.pid = tc.pid
					}
					return tk
				}
				var err error
				if tc.write != nil {
					tk := mk()
					err = tk.WriteMemory(tc.addr, tc.write)
				}
				got := make([]byte, tc.read)
				if err == nil && tc.read > 0 {
					tk := mk()
					err = tk.ReadMemory(tc.addr, got)
				}
				if tc.errIs != nil || tc.errSub != "" {
					if err == nil {
						t.Fatalf("no error (read %q)", got)
					}
					if tc.errIs != nil && !errors.Is(err, tc.errIs) {
						t.Errorf("error %v, want %v", err, tc.errIs)
					}
					if !strings.Contains(err.Error(), tc.errSub) {
						t.Errorf("error %q does not contain %q", err, tc.errSub)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tc.want) {
					t.Errorf("read %q, want %q", got, tc.want)
				}
			})
		}
	})

	t.Run("GetFd", func(t *testing.T) {
		var want unix.Stat_t
		if err := unix.Fstat(int(p.pipeR.Fd()), &want); err != nil {
			t.Fatal(err)
		}
		type getFdCase struct {
			name    string
			pid     int
			idDelta uint64
			fd      int
			errIs   error
		}
		cases := []getFdCase{
			{name: "the helper's pipe (fd 3)", fd: 3},
			{name: "the helper's stdin (fd 0), another file", fd: 0},
			{name: "a closed fd", fd: 1000, errIs: unix.EBADF},
			{name: "a stale notification id", idDelta: 1 << 40, fd: 3, errIs: unix.ESRCH},
			{name: "a missing pid", pid: unusedPid(t), fd: 3, errIs: unix.ESRCH},
		}
		// Each case twice: with thread pidfds (Linux 6.9+), and with the
		// fallback older kernels take (the thread group's pidfd) forced.
		for i, tc := range append(slices.Clone(cases), cases...) {
			forceGroup := i >= len(cases)
			name := tc.name
			if forceGroup {
				name += ", thread-group pidfd forced"
			}
			t.Run(name, func(t *testing.T) {
				threadPidfds.Store(!forceGroup)
				t.Cleanup(func() { threadPidfds.Store(true) })
				tk := p.task()
				tk.id += tc.idDelta
				if tc.pid != 0 {
					tk.pid = tc.pid
				}
				fd, err := tk.GetFd(tc.fd)
				if tc.errIs != nil {
					if err == nil {
						unix.Close(fd)
						t.Fatalf("GetFd(%d) = %d, want %v", tc.fd, fd, tc.errIs)
					}
					if !errors.Is(err, tc.errIs) {
						t.Errorf("GetFd(%d): %v, want %v", tc.fd, err, tc.errIs)
					}
					if fd != -1 {
						t.Errorf("GetFd(%d) returned fd %d with its error", tc.fd, fd)
					}
					return
				}
				if err != nil {
					t.Fatalf("GetFd(%d): %v", tc.fd, err)
				}
				defer unix.Close(fd)
				var st unix.Stat_t
				if err := unix.Fstat(fd, &st); err != nil {
					t.Fatal(err)
				}
				same := st.Dev == want.Dev && st.Ino == want.Ino
				if tc.fd == 3 && !same {
					t.Errorf("fd 3 duplicated as dev %d ino %d, want the pipe's dev %d ino %d", st.Dev, st.Ino, want.Dev, want.Ino)
				}
				if tc.fd != 3 && same {
					t.Errorf("fd %d duplicated as the pipe (dev %d ino %d)", tc.fd, st.Dev, st.Ino)
				}
				if tc.fd != 3 {
					return
				}
				// The same pipe: what goes in our end comes out of the copy.
				msg := []byte("through the helper's pipe")
				if _, err := p.pipeW.Write(msg); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(msg))
				if n, err := unix.Read(fd, got); err != nil || n != len(msg) || !bytes.Equal(got, msg) {
					t.Errorf("read %d bytes %q (%v) from the duplicate, want %q", n, got[:max(n, 0)], err, msg)
				}
			})
		}
	})

	t.Run("GetFd through the pidfd cache", func(t *testing.T) {
		if !threadPidfds.Load() {
			t.Skip("thread pidfds (Linux 6.9+) only are cached; this kernel has none")
		}
		var want unix.Stat_t
		if err := unix.Fstat(int(p.pipeR.Fd()), &want); err != nil {
			t.Fatal(err)
		}
		isPipe := func(fd int) bool {
			var st unix.Stat_t
			return unix.Fstat(fd, &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino
		}
		// A pidfd whose process is gone and reaped: what the cache holds
		// once its thread has exited, whoever has its tid since.
		cmd := exec.Command("/bin/true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		dead, err := unix.PidfdOpen(cmd.Process.Pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		c := newPidfdCache()
		t.Cleanup(c.drop)
		get := func(idDelta uint64, fd int) (int, error) {
			tk := p.task()
			tk.id += idDelta
			tk.pidfds = c
			return tk.GetFd(fd)
		}
		for _, step := range []struct {
			name    string
			setup   func()
			idDelta uint64
			fd      int
			errIs   error
		}{
			{name: "first call: opened and kept", fd: 3},
			{name: "second call: from the cache", fd: 3},
			{name: "a closed fd through the cache", fd: 1000, errIs: unix.EBADF},
			{name: "a stale notification id through the cache: validated after use", idDelta: 1 << 40, fd: 3, errIs: unix.ESRCH},
			{name: "the cached pidfd names a reaped process: opened afresh",
				setup: func() { c.drop(); c.tid, c.fd = p.tid, dead }, fd: 3},
			{name: "another tid cached: opened afresh", setup: func() { c.tid = p.tid + 1 }, fd: 3},
		} {
			if step.setup != nil {
				step.setup()
			}
			fd, err := get(step.idDelta, step.fd)
			if step.errIs != nil {
				if !errors.Is(err, step.errIs) || fd != -1 {
					if err == nil {
						unix.Close(fd)
					}
					t.Errorf("%s: fd %d, %v; want -1, %v", step.name, fd, err, step.errIs)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if !isPipe(fd) {
				t.Errorf("%s: fd %d is not the helper's pipe", step.name, fd)
			}
			unix.Close(fd)
			// The cache now holds a pidfd of the caller's thread.
			if c.tid != p.tid || c.fd < 0 {
				t.Fatalf("%s: cache holds tid %d fd %d, want a pidfd of %d", step.name, c.tid, c.fd, p.tid)
			}
			if dup, err := unix.PidfdGetfd(c.fd, 3, 0); err != nil || !isPipe(dup) {
				t.Errorf("%s: the cached pidfd does not name the caller (%v)", step.name, err)
			} else {
				unix.Close(dup)
			}
		}
		// A thread group's pidfd (kernels before 6.9) is never kept: the
		// group may outlive the thread whose tid would key it.
		c.drop()
		threadPidfds.Store(false)
		defer threadPidfds.Store(true)
		fd, err := get(0, 3)
		if err != nil || !isPipe(fd) {
			t.Fatalf("group pidfd: fd %d, %v; want the helper's pipe", fd, err)
		}
		unix.Close(fd)
		if c.fd != -1 {
			t.Errorf("a thread group's pidfd was cached (fd %d for tid %d)", c.fd, c.tid)
		}
	})

	// Answer the call: the helper's getppid returns our value and it sees
	// what was written into its memory. From then on the notification is
	// no longer valid and a task for it touches nothing.
	const val = 4242
	if err := send(p.listener, &notifResp{ID: p.n.ID, Val: val}); err != nil {
		t.Fatalf("answering the notification: %v", err)
	}
	line := p.h.line(t)
	var ret, errno int
	var dump string
	if _, err := fmt.Sscanf(line, "ret=%d errno=%d mem=%s", &ret, &errno, &dump); err != nil {
		t.Fatalf("helper said %q: %v", line, err)
	}
	if ret != val || errno != 0 {
		t.Errorf("helper's getppid returned %d, errno %d; want %d, 0", ret, errno, val)
	}
	mem, err := hex.DecodeString(dump)
	if err != nil || len(mem) != helperDump {
		t.Fatalf("helper's buffer dump %q: %v", dump, err)
	}
	if !bytes.Equal(mem[:len(helperPattern)], helperPattern) {
		t.Errorf("helper's buffer starts %q, want %q", mem[:len(helperPattern)], helperPattern)
	}
	if got := mem[writtenOff : writtenOff+len(written)]; !bytes.Equal(got, written) {
		t.Errorf("helper sees %q at offset %d, want what the task wrote, %q", got, writtenOff, written)
	}

	t.Run("after the answer", func(t *testing.T) {
		tk := p.task()
		b := make([]byte, 8)
		if err := tk.ReadMemory(p.buf, b); err == nil || !strings.Contains(err.Error(), "no longer valid") {
			t.Errorf("ReadMemory after the answer: %v, want the notification no longer valid", err)
		}
		if err := tk.WriteMemory(p.buf, []byte("late")); err == nil || !strings.Contains(err.Error(), "no longer valid") {
			t.Errorf("WriteMemory after the answer: %v, want the notification no longer valid", err)
		}
		if fd, err := tk.GetFd(3); !errors.Is(err, unix.ESRCH) {
			if err == nil {
				unix.Close(fd)
			}
			t.Errorf("GetFd after the answer: fd %d, %v; want ESRCH", fd, err)
		}
		// A receiver's cache holding the caller's pidfd changes nothing:
		// the thread is alive, the notification is not.
		if threadPidfds.Load() {
			c := newPidfdCache()
			defer c.drop()
			pidfd, err := unix.PidfdOpen(p.tid, pidfdThread)
			if err != nil {
				t.Fatal(err)
			}
			c.tid, c.fd = p.tid, pidfd
			tk.pidfds = c
			if fd, err := tk.GetFd(3); !errors.Is(err, unix.ESRCH) || fd != -1 {
				if err == nil {
					unix.Close(fd)
				}
				t.Errorf("GetFd through the cache after the answer: fd %d, %v; want -1, ESRCH", fd, err)
			}
		}
	})
}
