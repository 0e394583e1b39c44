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
