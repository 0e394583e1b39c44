package sentry

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// task is the thread that made one notified call, as handlers see it.
// Memory is reached through /proc/<pid>/mem, opened only after the
// notification is known to be valid and re-validated after the open, so a
// pid that was recycled in between is never touched.
type task struct {
	fd  int // the listener the notification came from
	id  uint64
	pid int
	mem *os.File
}

// Pid is the caller's thread id in the sentry's (host) pid namespace.
func (t *task) Pid() int { return t.pid }

func (t *task) open() error {
	if t.mem != nil {
		return nil
	}
	f, err := os.OpenFile("/proc/"+strconv.Itoa(t.pid)+"/mem", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening memory of pid %d: %w", t.pid, err)
	}
	if !idValid(t.fd, t.id) {
		f.Close()
		return fmt.Errorf("pid %d: notification %d is no longer valid", t.pid, t.id)
	}
	t.mem = f
	return nil
}

// WriteMemory copies b into the caller's memory at addr.
func (t *task) WriteMemory(addr uintptr, b []byte) error {
	if err := t.open(); err != nil {
		return err
	}
	n, err := unix.Pwrite(int(t.mem.Fd()), b, int64(addr))
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("short write to pid %d at %#x: %d of %d bytes", t.pid, addr, n, len(b))
	}
	return nil
}

// ReadMemory copies len(b) bytes from the caller's memory at addr into b,
// the sentry's own memory: decisions are made on this copy only.
func (t *task) ReadMemory(addr uintptr, b []byte) error {
	if err := t.open(); err != nil {
		return err
	}
	n, err := unix.Pread(int(t.mem.Fd()), b, int64(addr))
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("short read from pid %d at %#x: %d of %d bytes", t.pid, addr, n, len(b))
	}
	return nil
}

func (t *task) close() {
	if t.mem != nil {
		t.mem.Close()
		t.mem = nil
	}
}

// pidfdThread makes pidfd_open accept a thread id that is not a thread
// group leader (Linux 6.9+); the notifying thread may be any thread.
const pidfdThread = unix.O_EXCL

// GetFd duplicates the caller's file descriptor fd into the sentry
// (pidfd_getfd): the same open file description, so what the sentry does
// with it (connect, say) happens to the workload's own socket or file.
// The pidfd is validated against the notification before it is used, so
// the fd is taken from the caller and from no other process.
func (t *task) GetFd(fd int) (int, error) {
	pidfd, err := unix.PidfdOpen(t.pid, pidfdThread)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pidfd)
	if !idValid(t.fd, t.id) {
		return -1, unix.ESRCH
	}
	return unix.PidfdGetfd(pidfd, fd, 0)
}
