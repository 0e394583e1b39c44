package sentry

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// task is the thread that made one notified call, as handlers see it.
//
// Its memory is reached with process_vm_readv and process_vm_writev, the
// calls that behave like the kernel's own copy_from_user/copy_to_user:
// they honour the caller's page protections (an unmapped, PROT_NONE or,
// for a write, read-only page gives EFAULT, where /proc/<pid>/mem, the
// debugger's interface, would read or write through them), they need no
// file opened per call, and they are governed by ptrace access (the
// sentry's CAP_SYS_PTRACE) alone — not by the owner and mode of a /proc
// file, which made every call from a workload that is not host root
// (uid 1000, root in a user namespace, a setuid program) fail with
// EFAULT.
//
// Both name the thread by pid, so the notification's validity brackets
// every access: a read is used only if the notification is still valid
// after it (the thread was alive, so the pid was still its own, for the
// whole read); a write happens only after the notification is seen valid.
// What is left for a write is the window between that check and the
// write itself: the caller would have to be killed and its pid reused by
// another process in those few hundred nanoseconds, which takes the
// host's whole pid space (pid_max) to wrap around in that time. See
// docs/security.md.
type task struct {
	fd  int // the listener the notification came from
	id  uint64
	pid int
	// pidfds, when set, is the receiver's cache of the last caller's
	// pidfd (GetFd); nil for a call answered off a receiver's thread.
	pidfds *pidfdCache
}

// Pid is the caller's thread id in the sentry's (host) pid namespace.
func (t *task) Pid() int { return t.pid }

// errNotValid says the notification was answered, or its caller is gone.
var errNotValid = errors.New("notification is no longer valid")

func (t *task) valid() error {
	if !idValid(t.fd, t.id) {
		return fmt.Errorf("pid %d: notification %d: %w", t.pid, t.id, errNotValid)
	}
	return nil
}

// WriteMemory copies b into the caller's memory at addr, as copy_to_user
// would: memory the caller cannot write gives EFAULT. Like the kernel's
// copy, a buffer that runs from writable into unwritable memory has its
// writable start written before the fault.
func (t *task) WriteMemory(addr uintptr, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := t.valid(); err != nil {
		return err
	}
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: addr, Len: len(b)}}
	n, err := unix.ProcessVMWritev(t.pid, local, remote, 0)
	if err != nil {
		return fmt.Errorf("writing %d bytes to pid %d at %#x: %w", len(b), t.pid, addr, err)
	}
	if n != len(b) {
		return fmt.Errorf("short write to pid %d at %#x: %d of %d bytes: %w", t.pid, addr, n, len(b), unix.EFAULT)
	}
	return nil
}

// ReadMemory copies len(b) bytes from the caller's memory at addr into b,
// the sentry's own memory, as copy_from_user would: memory the caller
// cannot read gives EFAULT. Decisions are made on this copy only.
func (t *task) ReadMemory(addr uintptr, b []byte) error {
	if len(b) == 0 {
		return t.valid()
	}
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: addr, Len: len(b)}}
	n, err := unix.ProcessVMReadv(t.pid, local, remote, 0)
	// Whatever came back is used only if the pid still named the caller.
	if verr := t.valid(); verr != nil {
		clear(b)
		return verr
	}
	if err != nil {
		return fmt.Errorf("reading %d bytes from pid %d at %#x: %w", len(b), t.pid, addr, err)
	}
	if n != len(b) {
		clear(b)
		return fmt.Errorf("short read from pid %d at %#x: %d of %d bytes: %w", t.pid, addr, n, len(b), unix.EFAULT)
	}
	return nil
}

// pidfdThread makes pidfd_open accept a thread id that is not a thread
// group leader (PIDFD_THREAD, Linux 6.9+); the notifying thread may be
// any thread.
const pidfdThread = unix.O_EXCL

// threadPidfds records whether the kernel takes PIDFD_THREAD, probed once
// at start (a workload cannot flip it: a thread caught exiting also gets
// EINVAL, which then means only that). ForceGroupPidfds, and tests,
// clear it to force the fallback.
var threadPidfds atomic.Bool

func init() {
	fd, err := unix.PidfdOpen(os.Getpid(), pidfdThread)
	if err == nil {
		unix.Close(fd)
	}
	threadPidfds.Store(err == nil)
}

// ForceGroupPidfds makes the sentry take the fallback of kernels before
// 6.9 (a thread group's pidfd) on a kernel that has PIDFD_THREAD: for
// testing that path on the machine at hand.
func ForceGroupPidfds() { threadPidfds.Store(false) }

// GetFd duplicates the caller's file descriptor fd into the sentry
// (pidfd_getfd): the same open file description, so what the sentry does
// with it (connect, say) happens to the workload's own socket or file.
// The pidfd is validated against the notification before it is used, so
// the fd is taken from the caller and from no other process.
//
// Kernels before 6.9 cannot open a pidfd for a thread that is not its
// group's leader; there the pidfd names the caller's thread group (read
// from /proc/<tid>/status), which shares the caller's file table in every
// ordinary program. The validity check after the open still pins it: the
// thread was alive, so its group was the one opened.
func (t *task) GetFd(fd int) (int, error) {
	if c := t.pidfds; c != nil && c.tid == t.pid && c.fd >= 0 {
		// The cached pidfd names the thread that had this tid when it was
		// opened, and no other task ever: once that thread is gone, the
		// pidfd names nothing and pidfd_getfd fails (ESRCH), even after
		// the tid went to another thread. Validated after use: if the
		// notification is still pending, the caller held this tid
		// throughout, so the thread the pidfd names was the caller.
		if got, err := unix.PidfdGetfd(c.fd, fd, 0); err == nil {
			if idValid(t.fd, t.id) {
				return got, nil
			}
			unix.Close(got)
			return -1, unix.ESRCH
		}
		// Gone (or the fd is bad): opened afresh below, which tells.
		c.drop()
	}
	pidfd, thread, err := t.pidfd()
	if err != nil {
		return -1, err
	}
	if !idValid(t.fd, t.id) {
		unix.Close(pidfd)
		return -1, unix.ESRCH
	}
	got, err := unix.PidfdGetfd(pidfd, fd, 0)
	if c := t.pidfds; c != nil && thread {
		// Only a thread's pidfd is kept: a thread group's names the
		// group, which may outlive the thread whose tid keys the cache.
		c.drop()
		c.tid, c.fd = t.pid, pidfd
	} else {
		unix.Close(pidfd)
	}
	return got, err
}

// pidfdCache keeps the pidfd of the last caller whose fd a receiver took
// (pidfd_getfd), so that a thread making proxied calls one after the
// other costs a pidfd_open and a close less per call. Only thread pidfds
// (PIDFD_THREAD) are kept. One receiver uses it: not safe for concurrent
// use.
type pidfdCache struct {
	tid, fd int
}

func newPidfdCache() *pidfdCache { return &pidfdCache{fd: -1} }

// drop closes the cached pidfd.
func (c *pidfdCache) drop() {
	if c.fd >= 0 {
		unix.Close(c.fd)
	}
	c.tid, c.fd = 0, -1
}

// pidfd opens a pidfd for the caller: its thread where the kernel allows
// (thread is true), else its thread group.
func (t *task) pidfd() (fd int, thread bool, err error) {
	if threadPidfds.Load() {
		pidfd, err := unix.PidfdOpen(t.pid, pidfdThread)
		if err == unix.EINVAL {
			err = unix.ESRCH // the thread is exiting
		}
		return pidfd, true, err
	}
	leader, err := threadGroup(t.pid)
	if err != nil {
		return -1, false, err
	}
	pidfd, err := unix.PidfdOpen(leader, 0)
	return pidfd, false, err
}

// statusField is the value of field ("Tgid", "CapEff") in
// /proc/<tid>/status; ESRCH if the thread is gone or the field missing.
func statusField(tid int, field string) (string, error) {
	data, err := readProc(procTid(tid, "/status"))
	if err != nil {
		return "", unix.ESRCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", unix.ESRCH
}

// threadGroup is the thread group (process) id of thread tid, from
// /proc/<tid>/status; ESRCH if the thread is gone.
func threadGroup(tid int) (int, error) {
	v, err := statusField(tid, "Tgid")
	if err != nil {
		return -1, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1, unix.ESRCH
	}
	return n, nil
}

// HasCapability reports whether cap is in the caller's effective set, from
// /proc/<tid>/status, read while the notification is known valid.
func (t *task) HasCapability(cap int) (bool, error) {
	v, err := statusField(t.pid, "CapEff")
	if err != nil {
		return false, err
	}
	if err := t.valid(); err != nil {
		return false, err
	}
	eff, err := strconv.ParseUint(v, 16, 64)
	if err != nil {
		return false, fmt.Errorf("pid %d: CapEff %q: %w", t.pid, v, err)
	}
	return cap >= 0 && cap < 64 && eff&(1<<uint(cap)) != 0, nil
}

// OwnUTS reports whether the caller's UTS namespace is another than the
// sentry's own (the host's).
func (t *task) OwnUTS() (bool, error) { return t.ownNamespace("uts") }

// OwnMountNS reports whether the caller's mount namespace is another than
// the sentry's own (the host's).
func (t *task) OwnMountNS() (bool, error) { return t.ownNamespace("mnt") }

// ownNamespace compares the caller's namespace of a kind (a name in
// /proc/<pid>/ns) with the sentry's: the namespace files' inodes differ.
// The caller's is read while the notification is known valid, so the
// answer is about the thread that made the call.
func (t *task) ownNamespace(kind string) (bool, error) {
	var theirs, ours unix.Stat_t
	if err := statProc(procTid(t.pid, "/ns/"+kind), &theirs); err != nil {
		return false, unix.ESRCH
	}
	if err := t.valid(); err != nil {
		return false, err
	}
	if err := hostNamespaces.own(kind, &ours); err != nil {
		return false, err
	}
	same := func(a, b unix.Stat_t) bool { return a.Dev == b.Dev && a.Ino == b.Ino }
	if same(theirs, ours) {
		return false, nil
	}
	// The host's is pid 1's too, where the sentry may look: a runtime
	// started in a namespace of its own (a systemd unit's PrivateMounts)
	// must not take a container that joined the host's for one of its
	// own. (Some hosts' pid 1 lets no one read its namespaces.)
	var host unix.Stat_t
	if err := hostNamespaces.host(kind, &host); err == nil && same(theirs, host) {
		return false, nil
	}
	return true, nil
}
