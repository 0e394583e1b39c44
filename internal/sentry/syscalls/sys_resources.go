package syscalls

import (
	"math/bits"
	"os"
	"strconv"
	"strings"
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
	// CPUs is how many CPUs the container is shown.
	CPUs() (int, error)
	// Tasks lists the host thread ids of the container's cgroup.
	Tasks() ([]int, error)
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

// maxAffinityLen caps the mask the sentry asks the kernel for: 65536
// CPUs, above any kernel's NR_CPUS (the kernel copies at most its own
// cpumask size, whatever the caller's length).
const maxAffinityLen = 8192

// affinityOf is sched_getaffinity(2) of a thread as the sentry sees it
// (a variable for tests).
var affinityOf = func(tid int, buf []byte) (int, unix.Errno) {
	n, _, errno := unix.RawSyscall(unix.SYS_SCHED_GETAFFINITY, uintptr(tid), uintptr(len(buf)), uintptr(unsafe.Pointer(&buf[0])))
	return int(n), errno
}

// SchedGetaffinity emulates sched_getaffinity(2): the kernel's answer for
// the thread the caller names (pid 0: itself; else a pid in its own pid
// namespace, which the sentry finds among the container's threads: its
// own, pthread_getaffinity_np's way, or another's), keeping no more CPUs
// than the container is shown (its quota, rounded up), so nproc, Go's
// GOMAXPROCS and thread pools sized from the mask match
// /sys/devices/system/cpu/online. The CPUs kept are the lowest of the
// thread's own: a program that pins itself to the mask it was given
// stays where it may run. Without a view the mask is the kernel's, for
// the caller itself only (ESRCH for other pids). Errors are the kernel's
// (EINVAL for a length it refuses, ESRCH for a thread it cannot find,
// EFAULT for a buffer the caller cannot have written).
func SchedGetaffinity(t Task, args [6]uint64, env *Env) Result {
	n := uint64(uint32(args[1])) // the kernel's len is an unsigned int
	if n&7 != 0 || n == 0 {
		return Result{Errno: unix.EINVAL}
	}
	tid, errno := affinityTarget(t, int(int32(args[0])), env)
	if errno != 0 {
		return Result{Errno: errno}
	}
	buf := make([]byte, min(n, maxAffinityLen))
	got, errno := affinityOf(tid, buf)
	if errno != 0 {
		return Result{Errno: errno}
	}
	buf = buf[:got]
	if env.Resources != nil {
		if cpus, err := env.Resources.CPUs(); err == nil {
			keepLowest(buf, cpus)
		}
	}
	if err := t.WriteMemory(uintptr(args[2]), buf); err != nil {
		return Result{Errno: unix.EFAULT}
	}
	return Result{Val: int64(got)}
}

// affinityTarget is the host tid of the thread pid names in the caller's
// pid namespace: the caller for 0 or its own id there, else the
// container's thread with that id at the caller's namespace depth.
func affinityTarget(t Task, pid int, env *Env) (int, unix.Errno) {
	if pid == 0 {
		return t.Pid(), 0
	}
	if pid < 0 {
		return 0, unix.ESRCH
	}
	own, err := nsPids(t.Pid())
	if err != nil || len(own) == 0 {
		return 0, unix.ESRCH
	}
	depth := len(own) - 1
	if own[depth] == pid {
		return t.Pid(), 0
	}
	if env.Resources == nil {
		return 0, unix.ESRCH
	}
	tids, err := env.Resources.Tasks()
	if err != nil {
		return 0, unix.ESRCH
	}
	for _, h := range tids {
		if ids, err := nsPids(h); err == nil && len(ids) > depth && ids[depth] == pid {
			return h, 0
		}
	}
	return 0, unix.ESRCH
}

// ReadProc reads /proc/<rel>. The sentry points it at the /proc it keeps
// once jailed (no path reaches the host's /proc then).
var ReadProc = func(rel string) ([]byte, error) { return os.ReadFile("/proc/" + rel) }

// nsPids is a thread's id in each pid namespace it is in, outermost (the
// sentry's) first: the NSpid line of /proc/<tid>/status (a variable for
// tests).
var nsPids = func(tid int) ([]int, error) {
	data, err := ReadProc(strconv.Itoa(tid) + "/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
			var ids []int
			for _, f := range strings.Fields(v) {
				n, err := strconv.Atoi(f)
				if err != nil {
					return nil, err
				}
				ids = append(ids, n)
			}
			return ids, nil
		}
	}
	return nil, unix.ESRCH
}

// keepLowest clears every set bit of the mask after the first n.
func keepLowest(mask []byte, n int) {
	for i := range mask {
		if c := bits.OnesCount8(mask[i]); c <= n {
			n -= c
			continue
		}
		for b := 0; b < 8; b++ {
			if mask[i]&(1<<b) == 0 {
				continue
			}
			if n > 0 {
				n--
			} else {
				mask[i] &^= 1 << b
			}
		}
	}
}
