package sentry

import (
	"fmt"
	"os"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Allowed is one system call the sentry may make once it is confined: the
// call, the argument condition that narrows it (Arg < 0: none), and why
// the sentry needs it. A call listed twice is allowed when either
// condition holds. Everything not listed fails with EPERM.
type Allowed struct {
	Name string
	// Arg is the argument the condition tests (0-5), or -1.
	Arg int
	// Mask and Value: the call is allowed when args[Arg]&Mask == Value.
	Mask, Value uint64
	// Errno, when set, is answered instead of allowing the call.
	Errno unix.Errno
	Why   string
}

// Condition renders the argument condition as `syscage syscalls --sentry`
// prints it.
func (a Allowed) Condition() string {
	switch {
	case a.Errno != 0:
		return "refused with " + unix.ErrnoName(a.Errno)
	case a.Arg < 0:
		return "any arguments"
	case a.Value == selfPid:
		return fmt.Sprintf("arg%d == the sentry's own pid", a.Arg)
	case a.Mask == ^uint64(0):
		return fmt.Sprintf("arg%d == %#x", a.Arg, a.Value)
	default:
		return fmt.Sprintf("arg%d & %#x == %#x", a.Arg, a.Mask, a.Value)
	}
}

func anyArgs(name, why string) Allowed { return Allowed{Name: name, Arg: -1, Why: why} }

func eq(name string, arg int, v uint64, why string) Allowed {
	return Allowed{Name: name, Arg: arg, Mask: ^uint64(0), Value: v, Why: why}
}

func masked(name string, arg int, mask, v uint64, why string) Allowed {
	return Allowed{Name: name, Arg: arg, Mask: mask, Value: v, Why: why}
}

// selfPid stands for the sentry's own pid in a condition (filled in when
// the filter is built).
const selfPid = ^uint64(0) - 1

// sentryAllowlist is every system call the sentry makes once it is set up
// (the first process has connected): the Go runtime's and glibc's (threads,
// memory, signals, timers, the network poller) and the sentry's own
// (accepting on the agent socket, the notification ioctls, the workload's
// memory, pidfds, proxied connects, audit and log writes). Calls that are
// needed in one form only are allowed in that form. A compromised sentry
// cannot exec, create or join namespaces, ptrace, create sockets, open a
// file for writing, map executable memory or signal another process.
var sentryAllowlist = []Allowed{
	// memory
	anyArgs("brk", "glibc malloc (cgo)"),
	masked("mmap", 2, unix.PROT_EXEC, 0, "Go heap and thread stacks; never executable"),
	masked("mprotect", 2, unix.PROT_EXEC, 0, "glibc thread-stack guard pages; never executable"),
	anyArgs("munmap", "Go heap"),
	anyArgs("madvise", "Go heap scavenger"),
	anyArgs("mremap", "glibc realloc (cgo)"),
	// threads: clone only as a thread (libseccomp cannot see clone3's
	// flags, which are in memory, so glibc is told ENOSYS and falls back)
	masked("clone", 0, unix.CLONE_VM|unix.CLONE_THREAD, unix.CLONE_VM|unix.CLONE_THREAD, "new threads only (CLONE_VM|CLONE_THREAD)"),
	{Name: "clone3", Arg: -1, Errno: unix.ENOSYS, Why: "flags are in memory: glibc falls back to clone"},
	anyArgs("exit", "thread exit"),
	anyArgs("exit_group", "process exit"),
	anyArgs("futex", "Go runtime and glibc locks"),
	anyArgs("set_robust_list", "glibc thread start"),
	anyArgs("rseq", "glibc thread start"),
	anyArgs("set_tid_address", "glibc thread start"),
	anyArgs("arch_prctl", "thread-local storage of a new thread"),
	anyArgs("sched_yield", "Go scheduler"),
	anyArgs("sched_getaffinity", "Go runtime"),
	anyArgs("gettid", "Go runtime"),
	anyArgs("getpid", "Go runtime"),
	// signals: Go's preemption signals its own threads
	anyArgs("rt_sigaction", "Go runtime"),
	anyArgs("rt_sigprocmask", "Go runtime"),
	anyArgs("rt_sigreturn", "Go runtime"),
	anyArgs("restart_syscall", "a timed wait interrupted by Go's preemption signal resumes"),
	anyArgs("sigaltstack", "Go runtime"),
	eq("tgkill", 0, selfPid, "preemption signals to the sentry's own threads only"),
	// time
	anyArgs("clock_gettime", "timers"),
	anyArgs("clock_nanosleep", "timers"),
	anyArgs("nanosleep", "Go runtime"),
	anyArgs("gettimeofday", "timers"),
	anyArgs("timer_create", "Go runtime"),
	anyArgs("timer_settime", "Go runtime"),
	anyArgs("timer_delete", "Go runtime"),
	anyArgs("setitimer", "Go runtime"),
	// the network poller and fds
	anyArgs("epoll_create1", "Go network poller"),
	anyArgs("epoll_ctl", "Go network poller"),
	anyArgs("epoll_pwait", "Go network poller"),
	anyArgs("epoll_pwait2", "Go network poller"),
	anyArgs("epoll_wait", "Go network poller"),
	anyArgs("eventfd2", "Go network poller"),
	anyArgs("pipe2", "Go network poller (older kernels)"),
	anyArgs("poll", "waiting on notification fds"),
	anyArgs("ppoll", "waiting on notification fds"),
	anyArgs("fcntl", "non-blocking fds"),
	anyArgs("close", "fds"),
	anyArgs("read", "agent socket, /proc/<tid>/status"),
	anyArgs("write", "audit stream, log"),
	anyArgs("readv", "Go runtime"),
	anyArgs("writev", "audit stream, log"),
	anyArgs("lseek", "files"),
	anyArgs("fstat", "files"),
	anyArgs("newfstatat", "files"),
	anyArgs("getrandom", "Go runtime"),
	anyArgs("getuid", "Go runtime"),
	anyArgs("geteuid", "Go runtime"),
	anyArgs("getgid", "Go runtime"),
	anyArgs("getegid", "Go runtime"),
	// files: read-only opens (/proc/<tid>/status, for a caller's thread group)
	eq("openat", 2, unix.O_RDONLY|unix.O_CLOEXEC, "/proc/<tid>/status, read-only: no file is ever opened for writing"),
	// the agent socket
	anyArgs("accept4", "agent socket"),
	anyArgs("recvmsg", "agent socket: state and listener fd"),
	anyArgs("sendmsg", "agent socket"),
	anyArgs("getsockname", "agent socket"),
	anyArgs("getpeername", "agent socket"),
	anyArgs("getsockopt", "agent socket (SO_PEERCRED)"),
	anyArgs("shutdown", "agent socket"),
	// notifications
	eq("ioctl", 1, uint64(unix.SECCOMP_IOCTL_NOTIF_RECV), "receive a notification"),
	eq("ioctl", 1, uint64(unix.SECCOMP_IOCTL_NOTIF_SEND), "answer a notification"),
	eq("ioctl", 1, uint64(unix.SECCOMP_IOCTL_NOTIF_ID_VALID), "check a notification is still pending"),
	eq("ioctl", 1, uint64(unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS), "synchronous wake-up (6.6+)"),
	// the workload
	anyArgs("process_vm_readv", "copy a caller's arguments (as copy_from_user)"),
	anyArgs("process_vm_writev", "write a caller's results (as copy_to_user)"),
	eq("pidfd_open", 1, 0, "a caller's thread group (kernels before 6.9)"),
	eq("pidfd_open", 1, pidfdThread, "a caller's thread (PIDFD_THREAD)"),
	eq("pidfd_getfd", 2, 0, "duplicate a caller's socket for a proxied connect"),
	anyArgs("connect", "proxied connect, on the caller's own socket"),
	eq("clock_adjtime", 0, unix.CLOCK_REALTIME, "a caller's read-only clock query, answered on a copy (the sentry has no CAP_SYS_TIME: it cannot set the clock)"),
}

// SentryAllowlist is the sentry's own filter, in order, for printing.
// Learn mode adds nothing: the learning sentry hands its profile to its
// watchdog instead of writing a file.
func SentryAllowlist() []Allowed {
	return append([]Allowed(nil), sentryAllowlist...)
}

// confine loads the sentry's own seccomp filter on every thread (TSYNC)
// and sets no_new_privs. Capabilities were already reduced when the
// sentry was started (see internal/container).
func confine() error {
	filter, err := seccomp.NewFilter(seccomp.ActErrno.SetReturnCode(int16(unix.EPERM)))
	if err != nil {
		return fmt.Errorf("confining the sentry: %w", err)
	}
	defer filter.Release()
	self := uint64(os.Getpid())
	for _, a := range sentryAllowlist {
		if err := addAllowed(filter, a, self); err != nil {
			return fmt.Errorf("confining the sentry: %s (%s): %w", a.Name, a.Condition(), err)
		}
	}
	// ioctl is the one call of every notification (receive, validity
	// check, answer) that the kernel cannot allow from its per-call cache,
	// since its rules test an argument: its rules come first in the
	// filter, so each of those calls runs the fewest instructions.
	// Only a hint to libseccomp; failing it costs speed, not safety.
	if nr, err := seccomp.GetSyscallFromName("ioctl"); err == nil {
		_ = filter.SetSyscallPriority(nr, 255)
	}
	if err := filter.SetNoNewPrivsBit(true); err != nil {
		return fmt.Errorf("confining the sentry: %w", err)
	}
	if err := filter.Load(); err != nil {
		return fmt.Errorf("confining the sentry: loading its filter: %w", err)
	}
	return nil
}

func addAllowed(f *seccomp.ScmpFilter, a Allowed, self uint64) error {
	nr, err := seccomp.GetSyscallFromName(a.Name)
	if err != nil {
		return fmt.Errorf("unknown syscall: %w", err)
	}
	act := seccomp.ActAllow
	if a.Errno != 0 {
		act = seccomp.ActErrno.SetReturnCode(int16(a.Errno))
	}
	if a.Arg < 0 {
		return f.AddRule(nr, act)
	}
	v := a.Value
	if v == selfPid {
		v = self
	}
	var cond seccomp.ScmpCondition
	if a.Mask == ^uint64(0) {
		cond, err = seccomp.MakeCondition(uint(a.Arg), seccomp.CompareEqual, v)
	} else {
		cond, err = seccomp.MakeCondition(uint(a.Arg), seccomp.CompareMaskedEqual, a.Mask, v)
	}
	if err != nil {
		return err
	}
	return f.AddRuleConditional(nr, act, []seccomp.ScmpCondition{cond})
}
