package sentry

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The tests need real processes to look at: a process in its own UTS
// namespace, and a thread blocked in a seccomp-notified system call (a
// task is only usable while its notification is pending). The test binary
// re-executes itself as that process; helperEnv selects what it does
// ("wait" only says it is ready and waits for its stdin to close).
const (
	helperEnv     = "SYSCAGE_SENTRY_TEST_HELPER"
	helperJailEnv = "SYSCAGE_SENTRY_TEST_JAIL"
	// helperHostPidEnv: the jailed helper serves from another pid
	// namespace, its procfs at fd 3; this is a host process's pid.
	helperHostPidEnv = "SYSCAGE_SENTRY_TEST_HOST_PID"
	helperNodeEnv    = "SYSCAGE_SENTRY_TEST_NODENAME"
	helperDomainEnv  = "SYSCAGE_SENTRY_TEST_DOMAINNAME"
)

// helperPattern is what the notify helper puts at the start of its buffer.
var helperPattern = []byte("syscage sentry test pattern\x00\x01\x02\xfe\xff")

// helperDump is how many bytes of its buffer the notify helper prints
// after its notified call returns.
const helperDump = 256

func TestMain(m *testing.M) {
	switch mode := os.Getenv(helperEnv); mode {
	case "":
		os.Exit(m.Run())
	case "uts":
		helperUTS()
	case "wait":
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	case "notify":
		helperNotify()
	case "notify-loop":
		helperNotifyLoop()
	case "notify-threads":
		helperNotifyThreads()
	case "confine":
		helperConfine()
	case "dial":
		helperDial()
	default:
		helperDie("unknown helper mode %q", mode)
	}
}

func helperDie(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "helper: "+format+"\n", args...)
	os.Exit(2)
}

// helperUTS ("uts") runs in a new UTS namespace: it sets the names it was given,
// says so, and waits for its stdin to close.
func helperUTS() {
	if err := unix.Sethostname([]byte(os.Getenv(helperNodeEnv))); err != nil {
		helperDie("sethostname: %v", err)
	}
	if err := unix.Setdomainname([]byte(os.Getenv(helperDomainEnv))); err != nil {
		helperDie("setdomainname: %v", err)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// helperNotify ("notify") maps a buffer (a read-write page, then a
// read-only, a PROT_NONE and an unmapped one), puts helperPattern at the
// start of the first two, installs on one locked thread a
// filter that notifies getppid, prints the listener fd, the buffer address
// and the thread id, and calls getppid. When the call is answered it
// prints the result and the start of its buffer, then waits for its stdin
// to close.
func helperNotify() {
	// Four pages: the buffer (read-write), a read-only page, a PROT_NONE
	// page and an unmapped one, so the sentry's memory access can be
	// tested against each protection.
	page := unix.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 4*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		helperDie("mmap: %v", err)
	}
	addr := uintptr(unsafe.Pointer(&mem[0]))
	copy(mem[page:], helperPattern) // the read-only page holds the pattern too
	if err := unix.Mprotect(mem[page:2*page], unix.PROT_READ); err != nil {
		helperDie("mprotect read-only: %v", err)
	}
	if err := unix.Mprotect(mem[2*page:3*page], unix.PROT_NONE); err != nil {
		helperDie("mprotect none: %v", err)
	}
	if _, _, e := unix.Syscall(unix.SYS_MUNMAP, addr+uintptr(3*page), uintptr(page), 0); e != 0 {
		helperDie("munmap: %v", e)
	}
	mem = mem[:page]
	copy(mem, helperPattern)

	// This thread carries the filter and is never unlocked: it dies with
	// the process. Threads the runtime starts later are cloned by its
	// template thread, not by a locked one, so they are unfiltered.
	runtime.LockOSThread()
	lfd := notifyGetppid()
	fmt.Printf("listener=%d addr=%d tid=%d\n", lfd, addr, unix.Gettid())
	r, _, e := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	fmt.Printf("ret=%d errno=%d mem=%s\n", int64(r), int(e), hex.EncodeToString(mem[:helperDump]))
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// helperNotifyLoop ("notify-loop") installs the same getppid-notifying
// filter on one locked thread, prints the listener fd and the thread id,
// then calls getppid notifyLoopCalls times, expecting call i to return
// 1000+i, and prints a line for each call that did not, then "done".
func helperNotifyLoop() {
	runtime.LockOSThread()
	lfd := notifyGetppid()
	fmt.Printf("listener=%d tid=%d\n", lfd, unix.Gettid())
	for i := 0; i < notifyLoopCalls; i++ {
		r, _, e := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		if int64(r) != int64(1000+i) || e != 0 {
			fmt.Printf("call=%d ret=%d errno=%d\n", i, int64(r), int(e))
		}
	}
	fmt.Println("done")
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// notifyGetppid installs, on the calling (locked) thread, a filter that
// notifies getppid and allows everything else, and returns its listener.
func notifyGetppid() int {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		helperDie("no_new_privs: %v", err)
	}
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_GETPPID},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_USER_NOTIF},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	lfd, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&prog)))
	if e != 0 {
		helperDie("seccomp: %v", e)
	}
	return int(lfd)
}

// notifyLoopCalls is how many notified calls the notify-loop helper makes.
const notifyLoopCalls = 3000

// helper is a running helper process.
type helper struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *bytes.Buffer
}

// startHelper starts the test binary in the given helper mode. It is
// stopped (stdin closed, then killed if still running) when the test ends.
func startHelper(t *testing.T, mode string, env []string, attr *syscall.SysProcAttr, extra ...*os.File) *helper {
	t.Helper()
	return startHelperWith(t, (*exec.Cmd).Start, mode, env, attr, extra...)
}

// startHelperWith is startHelper, starting the command with start.
func startHelperWith(t *testing.T, start func(*exec.Cmd) error, mode string, env []string, attr *syscall.SysProcAttr, extra ...*os.File) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	// Through an fd opened here: a helper started as another user needs
	// no search right on the test binary's (private) directory.
	bin, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	cmd.Path = fmt.Sprintf("/proc/self/fd/%d", bin.Fd())
	// No asynchronous preemption in the helper: the runtime's SIGURG
	// would interrupt a thread waiting in a notified call, the kernel
	// would cancel the notification (ENOENT) and restart the call as a
	// new one, and the tests could not tell which call they answered.
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode, "GODEBUG=asyncpreemptoff=1"), env...)
	cmd.SysProcAttr = attr
	cmd.ExtraFiles = extra
	h := &helper{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = h.stderr
	if h.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.out = bufio.NewReader(stdout)
	if err := start(cmd); err != nil {
		t.Fatalf("starting %s helper: %v", mode, err)
	}
	t.Cleanup(func() {
		h.stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return h
}

// line reads the helper's next line of output.
func (h *helper) line(t *testing.T) string {
	t.Helper()
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := h.out.ReadString('\n')
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("reading helper output: %v (stderr: %q)", r.err, h.stderr.String())
		}
		return strings.TrimSuffix(r.s, "\n")
	case <-time.After(10 * time.Second):
		t.Fatalf("no output from helper in 10s (stderr: %q)", h.stderr.String())
		return ""
	}
}

func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root (%s); running as euid %d", why, os.Geteuid())
	}
}

// unusedPid returns a pid no process can have: pids are below pid_max.
func unusedPid(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid_max: %v", err)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(n)); err == nil {
		t.Fatalf("/proc/%d exists although pid_max is %d", n, n)
	}
	return n
}
