package syscalls

import "golang.org/x/sys/unix"

// Task is the calling thread as a handler sees it; the sentry implements it.
type Task interface {
	// Pid is the caller's thread id in the sentry's pid namespace.
	Pid() int
	// WriteMemory copies b into the caller's memory at addr.
	WriteMemory(addr uintptr, b []byte) error
	// ReadMemory copies len(b) bytes of the caller's memory at addr into
	// b, the sentry's own memory: a proxy decides and acts on this copy
	// only, never on the caller's memory again.
	ReadMemory(addr uintptr, b []byte) error
	// GetFd duplicates the caller's fd into the sentry (pidfd_getfd): the
	// same open file description. The caller closes it.
	GetFd(fd int) (int, error)
}

// Env is what the container is told about the kernel it runs on: the
// utsname fields. The sentry fills it from the profile, the command line
// and the container's annotations.
type Env struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// Result is a handler's answer: the return value, or an errno (non-zero
// Errno wins).
type Result struct {
	Val   int64
	Errno unix.Errno
}

// Handler answers a notified call (Emulate or Proxy) for the sentry. args
// are the call's six argument registers as the kernel saved them.
type Handler func(t Task, args [6]uint64, env *Env) Result
