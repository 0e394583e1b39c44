package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Time: what the workload may learn of the kernel clock's discipline.

// Adjtimex proxies adjtimex(2) for read-only queries: the struct timex is
// copied into the sentry once; a query (modes == 0, what ntpstat, chronyc
// tracking and Go's and glibc's clock code make) is answered by the
// sentry's own adjtimex on that copy, and the result written back; any
// mode that would change the clock is refused with EPERM whatever the
// caller's capabilities (setting the host's clock from a container is
// refused by every profile). The decision rests on the copy only.
func Adjtimex(t Task, args [6]uint64, _ *Env) Result {
	return timexQuery(t, uintptr(args[0]))
}

// ClockAdjtime proxies clock_adjtime(2) as Adjtimex for the system clock
// (CLOCK_REALTIME, how glibc implements adjtimex and ntp_adjtime); the
// other clocks it takes are PTP devices' (a clockid made from an fd):
// EPERM.
func ClockAdjtime(t Task, args [6]uint64, _ *Env) Result {
	if int32(args[0]) != unix.CLOCK_REALTIME {
		return Result{Errno: unix.EPERM}
	}
	return timexQuery(t, uintptr(args[1]))
}

// timexQuery answers a read-only query on a copy of the caller's struct
// timex at addr (CLOCK_REALTIME, the only clock both calls share).
func timexQuery(t Task, addr uintptr) Result {
	var tx unix.Timex
	b := unsafe.Slice((*byte)(unsafe.Pointer(&tx)), unsafe.Sizeof(tx))
	if err := t.ReadMemory(addr, b); err != nil {
		return Result{Errno: unix.EFAULT}
	}
	if tx.Modes != 0 {
		return Result{Errno: unix.EPERM}
	}
	state, err := unix.ClockAdjtime(unix.CLOCK_REALTIME, &tx)
	if err != nil {
		return Result{Errno: errnoOf(err, unix.EINVAL)}
	}
	if err := t.WriteMemory(addr, b); err != nil {
		return Result{Errno: unix.EFAULT}
	}
	return Result{Val: int64(state)}
}
