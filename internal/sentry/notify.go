package sentry

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompData mirrors struct seccomp_data: what the filter saw, taken
// from the caller's saved registers (the workload cannot change it while
// it waits).
type seccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// notif mirrors struct seccomp_notif.
type notif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  seccompData
}

// notifResp mirrors struct seccomp_notif_resp.
type notifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// ioctl issues a listener ioctl whose argument points at a struct of
// ours. The pointer becomes an integer only inside the Syscall call
// expression: the one form the compiler keeps valid across the call. It
// used to be converted first and handed to a helper taking a uintptr; a
// goroutine stack moved (grown, or shrunk by the collector) at that
// helper's entry then left the kernel writing the notification into the
// old stack — the sentry read all zeros, answered id 0, and the caller's
// real notification waited forever (TestNotifyAtEveryStackDepth).
func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// rawIoctl is ioctl for the requests that never block (the answer, the
// validity check): a raw system call, without telling the Go scheduler
// the thread may block, which costs more than these calls themselves.
// The pointer rule is ioctl's.
func rawIoctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// recv waits for the next notification on a listener fd.
func recv(fd int, n *notif) error {
	*n = notif{}
	return ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(n))
}

// send answers a notification. ENOENT means the caller is gone (killed, or
// interrupted by a signal), which is not an error for the sentry.
func send(fd int, r *notifResp) error {
	err := rawIoctl(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(r))
	if err == unix.ENOENT { // rawIoctl returns the bare errno
		return nil
	}
	return err
}

// idValid reports whether the notification is still pending, i.e. the pid
// it named still is the thread that made the call. Checked after opening
// anything by pid, so a recycled pid is never acted on.
func idValid(fd int, id uint64) bool {
	return rawIoctl(fd, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)) == nil
}

// setSyncWakeup asks the kernel (6.6+) to wake the waiting task on the
// sentry's CPU when answered, which shortens each round trip, and reports
// whether it took the flag. Older kernels refuse it; that only costs
// speed. A kernel that takes it also ends a blocking receive when the
// listener hangs up (the receive waits on the listener's wait queue and
// returns ENOENT once no process uses the filter), so its receivers need
// no poll before each receive (listener.next).
func setSyncWakeup(fd int) bool {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	return e == 0
}

// hungUp reports whether every process using the listener's filter is
// gone (POLLHUP), without waiting.
func hungUp(fd int) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd, 0)
		if err == unix.EINTR {
			continue
		}
		return err != nil || pfd[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
	}
}
