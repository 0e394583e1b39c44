package resview

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// View is one container's resource view: its cgroup, the host's totals,
// when it started and its load. Everything it needs by path is opened by
// NewView; Snapshot and Sysinfo only read files relative to the cgroup's
// directory fds (the sentry calls them under its own filter).
type View struct {
	cg      *Cgroup
	host    Host
	started time.Duration // CLOCK_BOOTTIME when the container's init started
	load    Load
}

// NewView opens the view of the container whose init is pid (a host
// pid).
func NewView(pid int) (*View, error) {
	dirs, err := DirsOf(pid)
	if err != nil {
		return nil, err
	}
	cg, err := OpenDirs(dirs)
	if err != nil {
		return nil, err
	}
	host, err := ReadHost()
	if err != nil {
		cg.Close()
		return nil, err
	}
	started, err := startTime(pid)
	if err != nil {
		cg.Close()
		return nil, err
	}
	return &View{cg: cg, host: host, started: started}, nil
}

// Close releases the cgroup's directory fds.
func (v *View) Close() { v.cg.Close() }

// Snapshot reads what need asks for of the cgroup now. The loads are
// brought up to date when the CPU usage is read (they are kept as they
// were otherwise).
func (v *View) Snapshot(need Need) (*Snapshot, error) {
	u, err := v.cg.Read(need)
	if err != nil {
		return nil, err
	}
	up := boottime() - v.started
	if up < 0 {
		up = 0
	}
	s := &Snapshot{Usage: u, Host: v.host, Uptime: up}
	if need&NeedCPUUsage != 0 {
		s.Loads = v.load.Update(up, u.CPUUsageNs)
	}
	return s, nil
}

// Sysinfo is sysinfo(2)'s answer for the container (mem_unit 1).
func (v *View) Sysinfo() (unix.Sysinfo_t, error) {
	s, err := v.Snapshot(NeedMemory | NeedCPUUsage | NeedTasks)
	if err != nil {
		return unix.Sysinfo_t{}, err
	}
	return SysinfoOf(s), nil
}

// CPUs is the number of CPUs the container is shown (Snapshot.CPUs),
// reading only its CPU limits.
func (v *View) CPUs() (int, error) {
	u, err := v.cg.Read(NeedCPULimits)
	if err != nil {
		return 0, err
	}
	s := Snapshot{Usage: u, Host: v.host}
	return s.CPUs(), nil
}

// Tasks lists the host thread ids of the container's cgroup.
func (v *View) Tasks() ([]int, error) { return v.cg.Tasks() }

// SysinfoOf fills struct sysinfo from a snapshot: memory and swap as
// /proc/meminfo shows them, the loads in the kernel's fixed point
// (1<<16 is 1.0), procs from the cgroup's task count. sharedram is the
// snapshot's Shmem: 0 as View.Sysinfo reads it (memory.stat would more
// than double the cost of the call; /proc/meminfo has Shmem).
func SysinfoOf(s *Snapshot) unix.Sysinfo_t {
	var si unix.Sysinfo_t
	si.Uptime = int64(s.Uptime / time.Second)
	for i, l := range s.Loads {
		si.Loads[i] = uint64(l * (1 << 16))
	}
	si.Totalram = s.MemTotal()
	si.Freeram = s.MemFree()
	si.Sharedram = min(s.Usage.Shmem, si.Totalram)
	si.Totalswap = s.SwapTotal()
	si.Freeswap = s.SwapFree()
	si.Procs = uint16(min(s.Usage.Tasks, 0xffff))
	si.Unit = 1
	return si
}

// ReadHost reads the host's memory and swap totals, its online CPUs and
// its /proc/cpuinfo.
func ReadHost() (Host, error) {
	var h Host
	mi, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return h, fmt.Errorf("reading the host's meminfo: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(mi))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseUint(f[1], 10, 64)
		switch f[0] {
		case "MemTotal:":
			h.MemTotal = n * 1024
		case "SwapTotal:":
			h.SwapTotal = n * 1024
		}
	}
	if h.MemTotal == 0 {
		return h, fmt.Errorf("the host's meminfo has no MemTotal")
	}
	on, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return h, fmt.Errorf("reading the host's online CPUs: %w", err)
	}
	if h.CPUs, err = ParseCPUList(string(on)); err != nil {
		return h, err
	}
	if h.Cpuinfo, err = os.ReadFile("/proc/cpuinfo"); err != nil {
		return h, fmt.Errorf("reading the host's cpuinfo: %w", err)
	}
	return h, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's start time.
const clockTicks = 100

// startTime returns when pid started, on CLOCK_BOOTTIME.
func startTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("reading the start time of pid %d: %w", pid, err)
	}
	return parseStartTime(b)
}

// parseStartTime takes field 22 of a /proc/PID/stat line (after the
// command name, which may hold spaces and parentheses).
func parseStartTime(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/PID/stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return 0, fmt.Errorf("malformed /proc/PID/stat: %d fields after the name", len(f))
	}
	ticks, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed /proc/PID/stat start time %q", f[19])
	}
	return time.Duration(ticks) * (time.Second / clockTicks), nil
}

// boottime is CLOCK_BOOTTIME now.
func boottime() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return time.Duration(ts.Nano())
}
