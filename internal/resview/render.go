package resview

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Host is what the views need of the host: totals a container's view is
// capped at, and the CPUs it chooses from. Read once (Host facts do not
// change while a container runs; CPU hotplug is not followed).
type Host struct {
	MemTotal, SwapTotal uint64 // bytes
	CPUs                []int  // online CPUs
	// Cpuinfo is the host's /proc/cpuinfo: the container's lists the
	// blocks of the CPUs it may use.
	Cpuinfo []byte
}

// Snapshot is everything a view is rendered from at one moment.
type Snapshot struct {
	Usage  Usage
	Host   Host
	Uptime time.Duration // since the container started
	Loads  [3]float64    // Load.Update
}

// MemTotal is the memory the container may use: its limit, or the host's
// memory when the limit is unset or larger.
func (s *Snapshot) MemTotal() uint64 { return min(s.Usage.MemLimit, s.Host.MemTotal) }

// MemFree is MemTotal less what the cgroup uses (page cache included, as
// the kernel's MemFree).
func (s *Snapshot) MemFree() uint64 {
	t := s.MemTotal()
	return t - min(s.Usage.MemUsage, t)
}

// MemAvailable adds the page cache the kernel can reclaim to MemFree.
func (s *Snapshot) MemAvailable() uint64 {
	t, used := s.MemTotal(), min(s.Usage.MemUsage, s.MemTotal())
	reclaim := min(s.Usage.ActiveFile+s.Usage.InactiveFile, used)
	return min(t, s.MemFree()+reclaim)
}

// Cached is the container's page cache, never more than it uses.
func (s *Snapshot) Cached() uint64 { return min(s.Usage.File, s.Usage.MemUsage, s.MemTotal()) }

// SwapTotal is the swap the container may use: its swap limit, capped at
// the host's swap (no swap on the host: none).
func (s *Snapshot) SwapTotal() uint64 { return min(s.Usage.SwapLimit, s.Host.SwapTotal) }

// SwapFree is SwapTotal less the container's swap use.
func (s *Snapshot) SwapFree() uint64 {
	t := s.SwapTotal()
	return t - min(s.Usage.SwapUsage, t)
}

// CPUs is the number of CPUs the container is shown: the CPUs its cpuset
// allows (those online), no more than its CFS quota rounded up, at least 1.
func (s *Snapshot) CPUs() int {
	n := len(s.allowedCPUs())
	if q := s.Usage.CPUQuota; q != Unlimited && s.Usage.CPUPeriod > 0 {
		byQuota := int((q + s.Usage.CPUPeriod - 1) / s.Usage.CPUPeriod)
		n = min(n, byQuota)
	}
	return max(n, 1)
}

// allowedCPUs are the host's online CPUs the cpuset allows.
func (s *Snapshot) allowedCPUs() []int {
	if s.Usage.CPUSet == nil {
		return s.Host.CPUs
	}
	online := map[int]bool{}
	for _, c := range s.Host.CPUs {
		online[c] = true
	}
	var out []int
	for _, c := range s.Usage.CPUSet {
		if online[c] || len(s.Host.CPUs) == 0 {
			out = append(out, c)
		}
	}
	return out
}

// Files are the views, by the name the views server serves them under,
// with the container path each is mounted over and the facts each is
// rendered from.
var Files = []struct {
	Name, Target string
	Need         Need
}{
	{"meminfo", "/proc/meminfo", NeedMemory | NeedMemoryStat},
	{"cpuinfo", "/proc/cpuinfo", NeedCPULimits},
	{"stat", "/proc/stat", NeedCPUUsage | NeedCPULimits | NeedTasks},
	{"uptime", "/proc/uptime", NeedCPUUsage | NeedCPULimits},
	{"loadavg", "/proc/loadavg", NeedCPUUsage | NeedTasks},
	{"swaps", "/proc/swaps", NeedMemory},
	{"diskstats", "/proc/diskstats", 0},
	{"cpu-online", "/sys/devices/system/cpu/online", NeedCPULimits},
}

// NeedOf is what the view called name is rendered from (NeedAll for a
// name that is not one).
func NeedOf(name string) Need {
	for _, f := range Files {
		if f.Name == name {
			return f.Need
		}
	}
	return NeedAll
}

// Render produces the view called name (one of Files).
func Render(name string, s *Snapshot) ([]byte, error) {
	switch name {
	case "meminfo":
		return Meminfo(s), nil
	case "cpuinfo":
		return Cpuinfo(s), nil
	case "stat":
		return Stat(s), nil
	case "uptime":
		return UptimeFile(s), nil
	case "loadavg":
		return Loadavg(s), nil
	case "swaps":
		return Swaps(s), nil
	case "diskstats":
		return Diskstats(s), nil
	case "cpu-online":
		return CPUOnline(s), nil
	}
	return nil, fmt.Errorf("no view called %q", name)
}

// Meminfo renders /proc/meminfo in the kernel's layout. Counters the
// cgroup does not keep (slab, kernel stacks, page tables, dirty and
// writeback pages, huge pages) are 0: they are not the container's to
// see, and the host's would mislead.
func Meminfo(s *Snapshot) []byte {
	u := &s.Usage
	kb := func(b uint64) uint64 { return b / 1024 }
	total, swap := s.MemTotal(), s.SwapTotal()
	lines := []struct {
		k string
		v uint64
	}{
		{"MemTotal", kb(total)},
		{"MemFree", kb(s.MemFree())},
		{"MemAvailable", kb(s.MemAvailable())},
		{"Buffers", 0},
		{"Cached", kb(s.Cached())},
		{"SwapCached", 0},
		{"Active", kb(u.ActiveAnon + u.ActiveFile)},
		{"Inactive", kb(u.InactiveAnon + u.InactiveFile)},
		{"Active(anon)", kb(u.ActiveAnon)},
		{"Inactive(anon)", kb(u.InactiveAnon)},
		{"Active(file)", kb(u.ActiveFile)},
		{"Inactive(file)", kb(u.InactiveFile)},
		{"Unevictable", kb(u.Unevictable)},
		{"Mlocked", 0},
		{"SwapTotal", kb(swap)},
		{"SwapFree", kb(s.SwapFree())},
		{"Dirty", 0},
		{"Writeback", 0},
		{"AnonPages", kb(u.Anon)},
		{"Mapped", kb(u.Mapped)},
		{"Shmem", kb(u.Shmem)},
		{"KReclaimable", 0},
		{"Slab", 0},
		{"SReclaimable", 0},
		{"SUnreclaim", 0},
		{"KernelStack", 0},
		{"PageTables", 0},
		{"NFS_Unstable", 0},
		{"Bounce", 0},
		{"WritebackTmp", 0},
		{"CommitLimit", kb(total/2 + swap)},
		{"Committed_AS", kb(u.Anon + u.Shmem)},
		{"VmallocTotal", 34359738367},
		{"VmallocUsed", 0},
		{"VmallocChunk", 0},
		{"HardwareCorrupted", 0},
		{"AnonHugePages", 0},
		{"HugePages_Total", 0},
		{"HugePages_Free", 0},
		{"HugePages_Rsvd", 0},
		{"HugePages_Surp", 0},
		{"Hugepagesize", 2048},
	}
	// "%-16s%8d kB" without fmt: this is the hot file.
	b := make([]byte, 0, 28*len(lines))
	var num [20]byte
	for _, l := range lines {
		b = append(b, l.k...)
		b = append(b, ':')
		for i := len(l.k) + 1; i < 16; i++ {
			b = append(b, ' ')
		}
		n := strconv.AppendUint(num[:0], l.v, 10)
		for i := len(n); i < 8; i++ {
			b = append(b, ' ')
		}
		b = append(b, n...)
		if !strings.HasPrefix(l.k, "HugePages_") {
			b = append(b, " kB"...)
		}
		b = append(b, '\n')
	}
	return b
}

// Cpuinfo renders /proc/cpuinfo: the host's blocks of the CPUs the
// container is shown (CPUs), numbered from 0, with the package's
// "siblings" and "cpu cores" set to that count.
func Cpuinfo(s *Snapshot) []byte {
	n := s.CPUs()
	want := map[int]bool{}
	for i, c := range s.allowedCPUs() {
		if i < n {
			want[c] = true
		}
	}
	var b bytes.Buffer
	next := 0
	for _, block := range strings.Split(strings.TrimRight(string(s.Host.Cpuinfo), "\n"), "\n\n") {
		lines := strings.Split(block, "\n")
		if len(lines) == 0 {
			continue
		}
		k, v, ok := strings.Cut(lines[0], ":")
		if !ok || strings.TrimSpace(k) != "processor" {
			continue
		}
		id, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || !want[id] {
			continue
		}
		for _, l := range lines {
			k, _, _ := strings.Cut(l, ":")
			switch strings.TrimSpace(k) {
			case "processor":
				fmt.Fprintf(&b, "processor\t: %d\n", next)
			case "siblings":
				fmt.Fprintf(&b, "siblings\t: %d\n", n)
			case "cpu cores":
				fmt.Fprintf(&b, "cpu cores\t: %d\n", n)
			case "core id", "apicid", "initial apicid":
				fmt.Fprintf(&b, "%s: %d\n", k, next)
			default:
				b.WriteString(l + "\n")
			}
		}
		b.WriteString("\n")
		next++
		if next == n {
			break
		}
	}
	return b.Bytes()
}

// userHZ is the unit of /proc/stat's CPU times.
const userHZ = 100

// cpuTimes returns the container's user, system and idle CPU time in
// USER_HZ ticks: idle is the time its CPUs were not used by it since it
// started.
func (s *Snapshot) cpuTimes() (user, system, idle uint64) {
	u := &s.Usage
	user, system = u.CPUUserNs/(1e9/userHZ), u.CPUSystemNs/(1e9/userHZ)
	if user+system == 0 {
		user = u.CPUUsageNs / (1e9 / userHZ)
	}
	capacity := uint64(s.Uptime.Seconds()*userHZ) * uint64(s.CPUs())
	busy := u.CPUUsageNs / (1e9 / userHZ)
	if capacity > busy {
		idle = capacity - busy
	}
	return user, system, idle
}

// Stat renders /proc/stat: the container's CPU time (evenly spread over
// the CPUs it is shown: the cgroup does not keep it per CPU), its tasks,
// and the time it started as the boot time. Interrupt, context switch and
// softirq counters are the host's business: 0.
func Stat(s *Snapshot) []byte {
	user, system, idle := s.cpuTimes()
	n := uint64(s.CPUs())
	var b bytes.Buffer
	fmt.Fprintf(&b, "cpu  %d 0 %d %d 0 0 0 0 0 0\n", user, system, idle)
	for i := uint64(0); i < n; i++ {
		fmt.Fprintf(&b, "cpu%d %d 0 %d %d 0 0 0 0 0 0\n", i, user/n, system/n, idle/n)
	}
	btime := time.Now().Add(-s.Uptime).Unix()
	fmt.Fprintf(&b, "intr 0\nctxt 0\nbtime %d\nprocesses %d\nprocs_running %d\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		btime, s.Usage.Tasks, s.running())
	return b.Bytes()
}

// running approximates the runnable tasks by the one-minute load,
// rounded, at least 1 (the reader).
func (s *Snapshot) running() uint64 {
	return max(uint64(math.Round(s.Loads[0])), 1)
}

// UptimeFile renders /proc/uptime: seconds since the container started,
// and the idle seconds of its CPUs over that time.
func UptimeFile(s *Snapshot) []byte {
	_, _, idle := s.cpuTimes()
	return []byte(fmt.Sprintf("%.2f %.2f\n", s.Uptime.Seconds(), float64(idle)/userHZ))
}

// Loadavg renders /proc/loadavg. The last field (the host's most recent
// pid) is 0: it counts the host's forks.
func Loadavg(s *Snapshot) []byte {
	return []byte(fmt.Sprintf("%.2f %.2f %.2f %d/%d 0\n", s.Loads[0], s.Loads[1], s.Loads[2], min(s.running(), max(s.Usage.Tasks, 1)), s.Usage.Tasks))
}

// Swaps renders /proc/swaps: one virtual device of the container's swap
// size, or none.
func Swaps(s *Snapshot) []byte {
	b := []byte("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")
	if t := s.SwapTotal(); t > 0 {
		b = fmt.Appendf(b, "none\t\t\t\t\tvirtual\t\t%d\t\t%d\t\t0\n", t/1024, (t-s.SwapFree())/1024)
	}
	return b
}

// Diskstats renders /proc/diskstats: empty. The host's disks are not the
// container's to list (the cgroup's own I/O counters are not shown yet).
func Diskstats(*Snapshot) []byte { return nil }

// CPUOnline renders /sys/devices/system/cpu/online, which glibc's
// sysconf(_SC_NPROCESSORS_ONLN) reads: CPUs 0 to CPUs()-1.
func CPUOnline(s *Snapshot) []byte {
	if n := s.CPUs(); n > 1 {
		return []byte(fmt.Sprintf("0-%d\n", n-1))
	}
	return []byte("0\n")
}
