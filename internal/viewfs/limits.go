package viewfs

import (
	"fmt"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// limitsWatch tells when a file of the container's cgroup directories was
// written (`syscage update` setting memory.max or cpu.max, say): an
// inotify instance watching the directories for IN_MODIFY of any file in
// them. The kernel queues the event before the writer's write(2)
// returns, and generation drains the queue on every call (non-blocking),
// so an open that follows an update always sees it.
//
// A nil *limitsWatch (no directories, or inotify refused: the per-user
// limit on instances is reached) counts every call as a change: each open
// renders anew.
type limitsWatch struct {
	fd  int
	mu  sync.Mutex
	gen uint64
	buf [4096]byte
}

// watchLimits watches dirs; nil (logged) if inotify cannot.
func watchLimits(dirs []string) *limitsWatch {
	if len(dirs) == 0 {
		return nil
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		logrus.Warnf("views: inotify: %v: every read renders its view anew", err)
		return nil
	}
	for _, dir := range dirs {
		if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_MODIFY); err != nil {
			unix.Close(fd)
			logrus.Warnf("views: %v: every read renders its view anew", fmt.Errorf("watching %s: %w", dir, err))
			return nil
		}
	}
	return &limitsWatch{fd: fd}
}

// generation is a number that changes when the cgroup's files were
// written since the last call.
func (w *limitsWatch) generation() uint64 {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		n, err := unix.Read(w.fd, w.buf[:])
		if n > 0 {
			w.gen++
			continue
		}
		if err == unix.EINTR {
			continue
		}
		// EAGAIN: nothing (more) queued. Any other error: counted as a
		// change, so the views are never kept on a watch that broke.
		if err != nil && err != unix.EAGAIN {
			w.gen++
		}
		return w.gen
	}
}

// close releases the inotify instance.
func (w *limitsWatch) close() {
	if w != nil {
		unix.Close(w.fd)
	}
}
