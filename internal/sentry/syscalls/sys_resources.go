package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Resources: what the workload learns of the memory, CPUs, uptime and load
// it has. sysinfo(2) is answered here from the container's cgroup
// (internal/resview); the /proc files with the same facts are served by
// the container's views server and mounted over procfs at create.

// Resources answers sysinfo for the container (resview.View is one).
type Resources interface {
	Sysinfo() (unix.Sysinfo_t, error)
}

// Sysinfo emulates sysinfo(2): total and free memory from the cgroup's
// limit and usage, swap from its swap limit, uptime since the container
// started, procs from its task count, loads from its own CPU use
// (resview.Load). Without a view of the container (it could not be
// opened) the call fails with EIO: never the host's numbers. A buffer the
// caller cannot have written gives EFAULT, as from the kernel.
func Sysinfo(t Task, args [6]uint64, env *Env) Result {
	if env.Resources == nil {
		return Result{Errno: unix.EIO}
	}
	si, err := env.Resources.Sysinfo()
	if err != nil {
		return Result{Errno: unix.EIO}
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&si)), unsafe.Sizeof(si))
	if err := t.WriteMemory(uintptr(args[0]), b); err != nil {
		return Result{Errno: unix.EFAULT}
	}
	return Result{}
}
