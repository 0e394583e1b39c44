package sentry

import (
	"fmt"
	"os"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// sentryAllowed is every system call the sentry makes once it is set up:
// the Go runtime's (threads, memory, signals, timers, the network poller;
// with cgo, glibc's pthread start-up), and the sentry's own (accepting on
// the agent socket, receiving fds, the notification ioctls, the workload's
// memory through /proc/<tid>/mem, proxied calls, audit and log writes).
// Everything else fails with EPERM: a compromised sentry cannot exec,
// mount, change namespaces, load modules, ptrace or open sockets.
var sentryAllowed = []string{
	// memory and threads (Go runtime, glibc)
	"brk", "mmap", "munmap", "mprotect", "madvise", "mremap", "mlock",
	"clone", "clone3", "exit", "exit_group", "futex", "set_robust_list",
	"rseq", "sched_yield", "sched_getaffinity", "gettid", "getpid",
	"set_tid_address", "arch_prctl", "prctl", "membarrier",
	// signals (Go's preemption sends SIGURG to its own threads; tgkill is
	// limited to this process below)
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	// time
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",
	"timer_create", "timer_settime", "timer_delete", "setitimer",
	// the network poller and fds
	"epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait",
	"eventfd2", "pipe2", "fcntl", "close", "dup", "dup3", "poll", "ppoll",
	"read", "write", "pread64", "pwrite64", "readv", "writev", "lseek",
	"fstat", "newfstatat", "statx", "getrandom", "prlimit64", "getrlimit",
	"uname", "getuid", "geteuid", "getgid", "getegid",
	// the agent socket
	"accept4", "recvmsg", "sendmsg", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "shutdown",
	// notifications, workload memory, proxied calls on duplicated fds
	"ioctl", "openat", "process_vm_readv", "process_vm_writev",
	"pidfd_open", "pidfd_getfd", "connect",
}

// LearnAllowed are the calls a learn-mode sentry needs beyond
// sentryAllowed: it writes the learned profile to a temporary file and
// renames it over the target (Config.ExtraAllowed).
var LearnAllowed = []string{"fchmod", "fsync", "rename", "renameat", "renameat2", "unlink", "unlinkat"}

// confine loads the sentry's own seccomp filter on every thread
// (TSYNC) and sets no_new_privs. Capabilities were already reduced when
// the sentry was started (see internal/container).
func confine(extra []string) error {
	filter, err := seccomp.NewFilter(seccomp.ActErrno.SetReturnCode(int16(unix.EPERM)))
	if err != nil {
		return fmt.Errorf("confining the sentry: %w", err)
	}
	defer filter.Release()
	for _, name := range append(append([]string(nil), sentryAllowed...), extra...) {
		nr, err := seccomp.GetSyscallFromName(name)
		if err != nil {
			return fmt.Errorf("confining the sentry: unknown syscall %s: %w", name, err)
		}
		if err := filter.AddRule(nr, seccomp.ActAllow); err != nil {
			return fmt.Errorf("confining the sentry: allowing %s: %w", name, err)
		}
	}
	// Signals only to our own threads.
	for _, name := range []string{"tgkill"} {
		nr, _ := seccomp.GetSyscallFromName(name)
		cond, err := seccomp.MakeCondition(0, seccomp.CompareEqual, uint64(os.Getpid()))
		if err != nil {
			return fmt.Errorf("confining the sentry: %w", err)
		}
		if err := filter.AddRuleConditional(nr, seccomp.ActAllow, []seccomp.ScmpCondition{cond}); err != nil {
			return fmt.Errorf("confining the sentry: allowing %s: %w", name, err)
		}
	}
	if err := filter.SetNoNewPrivsBit(true); err != nil {
		return fmt.Errorf("confining the sentry: %w", err)
	}
	if err := filter.Load(); err != nil {
		return fmt.Errorf("confining the sentry: loading its filter: %w", err)
	}
	return nil
}
