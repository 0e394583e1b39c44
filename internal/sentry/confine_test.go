package sentry

import (
	"errors"
	"fmt"
	seccomp "github.com/seccomp/libseccomp-golang"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/pidns"
)

// attemptWant is one attempt of the confine helper and the outcome it
// must have: an errno name, or "ok".
type attemptWant struct{ name, want string }

// confinedAttempts are what a compromised sentry would try, each made by
// the confine helper after it has loaded the sentry's own filter: the
// errno each must fail with ("ok": must succeed — the sentry still works).
var confinedAttempts = []attemptWant{
	{"open /etc/shadow for writing", "EPERM"},
	{"open /etc/hostname for writing", "EPERM"},
	{"create a file", "EPERM"},
	{"create a new file as os.CreateTemp does", "EPERM"},
	{"chmod through a read-only fd", "EPERM"},
	{"rename a file", "EPERM"},
	{"unlink a file", "EPERM"},
	{"open /proc/1/mem read-write", "EPERM"},
	{"ptrace attach to pid 1", "EPERM"},
	{"clone a process (no CLONE_THREAD)", "EPERM"},
	{"clone with CLONE_NEWUSER", "EPERM"},
	{"unshare CLONE_NEWUSER", "EPERM"},
	{"setns", "EPERM"},
	{"execve /bin/true", "EPERM"},
	{"socket AF_INET", "EPERM"},
	{"mmap PROT_EXEC", "EPERM"},
	{"mprotect PROT_EXEC", "EPERM"},
	{"kill pid 1", "EPERM"},
	{"tgkill another process", "EPERM"},
	{"clone3", "ENOSYS"},
	{"ioctl TIOCSTI", "EPERM"},
	{"pidfd_open with unknown flags", "EPERM"},
	{"mount", "EPERM"},
	{"bpf", "EPERM"},
	{"open /proc/self/status read-only", "ok"},
	{"new threads", "ok"},
	{"read its own memory with process_vm_readv", "ok"},
}

// jailedAttempts are what a compromised sentry would try against the host's
// files once it is jailed as it runs in production (SentryUID, the two
// capabilities, Jail, then its filter), with the outcome each must have.
var jailedAttempts = []attemptWant{
	{"read /etc/shadow", "ENOENT"},
	{"read /etc/passwd", "ENOENT"},
	{"read the host's /etc/shadow through /proc/1/root", "EACCES"},
	{"open the host's /etc/passwd for writing through /proc/1/root", "EPERM"},
	{"open /proc/1/mem read-write through the /proc fd", "EPERM"},
	{"chroot out of the jail", "EPERM"},
	{"ptrace attach to pid 1", "EPERM"},
	{"kill pid 1", "EPERM"},
	{"socket AF_UNIX", "EPERM"},
	{"read its own status through the /proc fd", "ok"},
	{"read its own memory with process_vm_readv", "ok"},
}

// pidNamespaceAttempts are what a compromised sentry would try against
// the host's processes when it serves as in production from inside a
// container's pid namespace, with that namespace's procfs as its /proc:
// every host pid is a number that names nothing there.
var pidNamespaceAttempts = []attemptWant{
	{"pidfd_open a host process", "ESRCH"},
	{"process_vm_readv a host process", "ESRCH"},
	{"process_vm_writev a host process", "ESRCH"},
	{"read a host process's status through the /proc fd", "ENOENT"},
	{"read the host's /etc/passwd through /proc/<host pid>/root", "ENOENT"},
	{"open /proc/1/mem read-write through the /proc fd", "EPERM"},
	{"ptrace attach to pid 1", "EPERM"},
	{"kill pid 1", "EPERM"},
	{"read pid 1 of its namespace through the /proc fd", "ok"},
	{"process_vm_readv pid 1 of its namespace", "ok"},
}

// helperConfine ("confine") loads the sentry's filter with confine(),
// then makes each attempt and prints "<name>: <errno or ok>". With
// helperJailEnv set it first jails itself there (Jail) and makes the
// jailed attempts.
func helperConfine() {
	attempts := confinedAttempts
	hostPid, _ := strconv.Atoi(os.Getenv(helperHostPidEnv))
	if dir := os.Getenv(helperJailEnv); dir != "" {
		procFd := -1
		attempts = jailedAttempts
		if hostPid > 0 {
			procFd, attempts = 3, pidNamespaceAttempts
		}
		if err := Jail(dir, procFd); err != nil {
			helperDie("%v", err)
		}
	}
	if err := confine(); err != nil {
		helperDie("%v", err)
	}
	errno := func(e error) string {
		if e == nil {
			return "ok"
		}
		if en, ok := e.(unix.Errno); ok {
			return unix.ErrnoName(en)
		}
		return e.Error()
	}
	raw := func(nr uintptr, a ...uintptr) string {
		var args [6]uintptr
		copy(args[:], a)
		r, _, e := unix.Syscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5])
		if e != 0 {
			return unix.ErrnoName(e)
		}
		if nr == unix.SYS_CLONE && r == 0 {
			unix.RawSyscall(unix.SYS_EXIT, 0, 0, 0) // a child, if one were ever made
		}
		return "ok"
	}
	open := func(path string, flags int) string {
		fd, err := unix.Open(path, flags, 0o600)
		if err == nil {
			unix.Close(fd)
		}
		return errno(err)
	}
	// openProc opens /proc/<rel> through the sentry's /proc.
	openProc := func(rel string, flags int) string {
		dfd, path := procRel(rel)
		fd, err := unix.Openat(dfd, path, flags, 0)
		if err == nil {
			unix.Close(fd)
		}
		return errno(err)
	}
	// vm reads (or writes) len(buf) bytes at addr of pid.
	vm := func(pid int, addr uintptr, buf []byte, write bool) error {
		local := []unix.Iovec{{Base: &buf[0]}}
		local[0].SetLen(len(buf))
		remote := []unix.RemoteIovec{{Base: addr, Len: len(buf)}}
		var err error
		if write {
			_, err = unix.ProcessVMWritev(pid, local, remote, 0)
		} else {
			_, err = unix.ProcessVMReadv(pid, local, remote, 0)
		}
		return err
	}
	page := uintptr(unix.Getpagesize())
	for _, a := range attempts {
		var got string
		switch a.name {
		case "create a new file as os.CreateTemp does":
			f, err := os.CreateTemp("/tmp", ".syscage-confine-*")
			got = errno(unwrap(err))
			if err == nil {
				f.Close()
				os.Remove(f.Name())
			}
		case "chmod through a read-only fd":
			f, err := os.Open("/etc/hostname")
			if err != nil {
				helperDie("%v", err)
			}
			got = errno(unwrap(f.Chmod(0o4755)))
			f.Close()
		case "rename a file":
			got = errno(unwrap(os.Rename("/etc/hostname", "/etc/hostname")))
		case "unlink a file":
			got = errno(unwrap(os.Remove("/tmp/syscage-confine-test-must-not-exist")))
		case "open /etc/shadow for writing":
			got = open("/etc/shadow", unix.O_WRONLY|unix.O_CLOEXEC)
		case "open /etc/hostname for writing":
			got = open("/etc/hostname", unix.O_RDWR|unix.O_CLOEXEC)
		case "create a file":
			got = open("/tmp/syscage-confine-test-must-not-exist", unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC)
		case "open /proc/1/mem read-write":
			got = open("/proc/1/mem", unix.O_RDWR|unix.O_CLOEXEC)
		case "ptrace attach to pid 1":
			got = raw(unix.SYS_PTRACE, unix.PTRACE_ATTACH, 1)
		case "clone a process (no CLONE_THREAD)":
			got = raw(unix.SYS_CLONE, uintptr(unix.SIGCHLD))
		case "clone with CLONE_NEWUSER":
			got = raw(unix.SYS_CLONE, uintptr(unix.CLONE_NEWUSER|unix.SIGCHLD))
		case "unshare CLONE_NEWUSER":
			got = raw(unix.SYS_UNSHARE, unix.CLONE_NEWUSER)
		case "setns":
			got = raw(unix.SYS_SETNS, 0, 0)
		case "execve /bin/true":
			got = errno(unix.Exec("/bin/true", []string{"true"}, nil))
		case "socket AF_INET":
			got = raw(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, 0)
		case "mmap PROT_EXEC":
			got = raw(unix.SYS_MMAP, 0, page, unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
		case "mprotect PROT_EXEC":
			m, err := unix.Mmap(-1, 0, int(page), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
			if err != nil {
				helperDie("mmap: %v", err)
			}
			got = raw(unix.SYS_MPROTECT, uintptr(unsafe.Pointer(&m[0])), page, unix.PROT_READ|unix.PROT_EXEC)
		case "kill pid 1":
			got = raw(unix.SYS_KILL, 1, 0)
		case "tgkill another process":
			got = raw(unix.SYS_TGKILL, 1, 1, 0)
		case "clone3":
			got = raw(unix.SYS_CLONE3, 0, 0)
		case "ioctl TIOCSTI":
			got = raw(unix.SYS_IOCTL, 0, unix.TIOCSTI, 0)
		case "pidfd_open with unknown flags":
			got = raw(unix.SYS_PIDFD_OPEN, uintptr(os.Getpid()), 1)
		case "mount":
			got = raw(unix.SYS_MOUNT, 0, 0, 0, 0, 0)
		case "bpf":
			got = raw(unix.SYS_BPF, 0, 0, 0)
		case "read /etc/shadow":
			got = open("/etc/shadow", unix.O_RDONLY|unix.O_CLOEXEC)
		case "read /etc/passwd":
			got = open("/etc/passwd", unix.O_RDONLY|unix.O_CLOEXEC)
		case "read the host's /etc/shadow through /proc/1/root":
			_, err := readProc("1/root/etc/shadow")
			got = errno(err)
		case "open the host's /etc/passwd for writing through /proc/1/root":
			got = openProc("1/root/etc/passwd", unix.O_WRONLY|unix.O_CLOEXEC)
		case "open /proc/1/mem read-write through the /proc fd":
			got = openProc("1/mem", unix.O_RDWR|unix.O_CLOEXEC)
		case "chroot out of the jail":
			got = raw(unix.SYS_CHROOT, uintptr(unsafe.Pointer(&[]byte("/\x00")[0])))
		case "socket AF_UNIX":
			got = raw(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0)
		case "read its own status through the /proc fd":
			_, err := readProc("self/status")
			got = errno(err)
		case "open /proc/self/status read-only":
			_, err := os.ReadFile("/proc/self/status")
			got = errno(unwrap(err))
		case "new threads":
			// Locked goroutines force the runtime to start OS threads.
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					runtime.LockOSThread()
					_ = unix.Gettid()
				}()
			}
			wg.Wait()
			got = "ok"
		case "pidfd_open a host process":
			got = raw(unix.SYS_PIDFD_OPEN, uintptr(hostPid), 0)
		case "process_vm_readv a host process", "process_vm_writev a host process":
			// Any address: the pid is looked up first.
			got = errno(vm(hostPid, 0x400000, make([]byte, 8), strings.Contains(a.name, "writev")))
		case "read a host process's status through the /proc fd":
			_, err := readProc(strconv.Itoa(hostPid) + "/status")
			got = errno(err)
		case "read the host's /etc/passwd through /proc/<host pid>/root":
			_, err := readProc(strconv.Itoa(hostPid) + "/root/etc/passwd")
			got = errno(err)
		case "read pid 1 of its namespace through the /proc fd":
			data, err := readProc("1/cmdline")
			got = errno(err)
			if err == nil && !strings.HasPrefix(string(data), "sleep\x00") {
				got = fmt.Sprintf("pid 1 is %q, not the namespace's sleep", data)
			}
		case "process_vm_readv pid 1 of its namespace":
			maps, err := readProc("1/maps")
			if err != nil {
				got = errno(err)
				break
			}
			var start uintptr
			if _, err := fmt.Sscanf(string(maps), "%x-", &start); err != nil {
				helperDie("pid 1's maps: %v", err)
			}
			got = errno(vm(1, start, make([]byte, 4), false))
		case "read its own memory with process_vm_readv":
			src, dst := []byte("abc"), make([]byte, 3)
			err := vm(os.Getpid(), uintptr(unsafe.Pointer(&src[0])), dst, false)
			runtime.KeepAlive(src)
			got = errno(err)
			if err == nil && string(dst) != "abc" {
				got = "read " + string(dst)
			}
		default:
			helperDie("no attempt named %q", a.name)
		}
		fmt.Printf("%s: %s\n", a.name, got)
	}
	os.Exit(0)
}

func unwrap(err error) error {
	var en unix.Errno
	if errors.As(err, &en) {
		return en
	}
	return err
}

// TestConfined runs the sentry's own filter in a helper process (as root,
// so only the filter stands between it and each operation) and checks
// every operation a compromised sentry would try is refused, while what
// the sentry needs still works.
func TestConfined(t *testing.T) {
	requireRoot(t, "so that the filter, not a missing privilege, refuses")
	checkAttempts(t, startHelper(t, "confine", nil, nil), confinedAttempts)
	if _, err := os.Stat("/tmp/syscage-confine-test-must-not-exist"); err == nil {
		os.Remove("/tmp/syscage-confine-test-must-not-exist")
		t.Errorf("the confined helper created a file")
	}
}

// TestJailed runs the confine helper as the sentry runs in production: as
// SentryUID (nobody) with only CAP_SYS_PTRACE and CAP_SYS_CHROOT (ambient),
// jailed in an empty directory, under its filter. A compromised sentry
// must find no host file by path, read none through /proc beyond what
// the world may, and write none.
func TestJailed(t *testing.T) {
	requireRoot(t, "to start the helper as nobody with capabilities")
	dir, err := os.MkdirTemp("/run", "syscage-test-jail-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	attr := &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}},
		AmbientCaps: []uintptr{unix.CAP_SYS_PTRACE, unix.CAP_SYS_CHROOT},
	}
	checkAttempts(t, startHelper(t, "confine", []string{helperJailEnv + "=" + dir}, attr), jailedAttempts)
}

// TestJailedInPidNamespace runs the confine helper as the sentry of a
// container runs in production: started by the watchdog's code
// (pidns.Of, Target.Enter) inside the pid namespace of a process that has
// a procfs of its own namespace (what a container's init has), jailed
// with that procfs as its /proc, as nobody with its two capabilities,
// under its filter. Its CAP_SYS_PTRACE still reaches the namespace's
// processes, and no host process: their pids name nothing there.
func TestJailedInPidNamespace(t *testing.T) {
	requireRoot(t, "to make a pid namespace and start the helper in it")
	dir, err := os.MkdirTemp("/run", "syscage-test-jail-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	initPid := namespaceWithProc(t)
	target, err := pidns.Of(initPid)
	if err != nil {
		t.Fatalf("pidns.Of(%d): %v", initPid, err)
	}
	t.Cleanup(target.Close)
	start := func(cmd *exec.Cmd) error {
		errc := make(chan error, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread is retired
			if err := target.Enter(); err != nil {
				errc <- err
				return
			}
			errc <- cmd.Start()
		}()
		return <-errc
	}
	attr := &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}},
		AmbientCaps: []uintptr{unix.CAP_SYS_PTRACE, unix.CAP_SYS_CHROOT},
	}
	env := []string{helperJailEnv + "=" + dir, helperHostPidEnv + "=" + strconv.Itoa(os.Getpid())}
	checkAttempts(t, startHelperWith(t, start, "confine", env, attr, target.Proc), pidNamespaceAttempts)
}

// namespaceWithProc starts `sleep` as pid 1 of a new pid namespace, in a
// mount namespace whose /proc is a procfs of that pid namespace (as a
// container's init has), and returns its pid once it runs.
func namespaceWithProc(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "--propagation", "private", "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	children := fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(children)
		if f := strings.Fields(string(data)); len(f) == 1 {
			pid, _ := strconv.Atoi(f[0])
			// Once it runs sleep, its /proc is mounted.
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.HasPrefix(string(cmdline), "sleep\x00") {
				return pid
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("unshare's sleep did not start")
	return 0
}

// checkAttempts reads the confine helper's "<name>: <outcome>" lines and
// checks each attempt's outcome.
func checkAttempts(t *testing.T, h *helper, attempts []attemptWant) {
	t.Helper()
	for _, a := range attempts {
		line := h.line(t)
		name, got, _ := strings.Cut(line, ": ")
		if name != a.name {
			t.Fatalf("helper said %q, want the attempt %q", line, a.name)
		}
		if got != a.want {
			t.Errorf("%s: %s, want %s", a.name, got, a.want)
		}
	}
}

// TestAllowlistPrintable: every entry names a real syscall and says why,
// and a call allowed with any arguments has no conditional rule beside it
// (libseccomp refuses the pair).
func TestAllowlistPrintable(t *testing.T) {
	unconditional, conditional := map[string]bool{}, map[string]bool{}
	for _, a := range SentryAllowlist() {
		if a.Why == "" || a.Condition() == "" {
			t.Errorf("%s: no reason or condition", a.Name)
		}
		if _, ok := syscallNumber(a.Name); !ok {
			t.Errorf("%s: not a syscall libseccomp knows", a.Name)
		}
		if a.Arg < 0 {
			unconditional[a.Name] = true
		} else {
			conditional[a.Name] = true
		}
	}
	for name := range conditional {
		if unconditional[name] {
			t.Errorf("%s: allowed with any arguments and with a condition", name)
		}
	}
}

// syscallNumber is the x86_64 number of a syscall name, as libseccomp
// knows it.
func syscallNumber(name string) (int, bool) {
	nr, err := seccomp.GetSyscallFromName(name)
	return int(nr), err == nil
}
