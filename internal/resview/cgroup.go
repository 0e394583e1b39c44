// Package resview computes what a container is told about its resources
// — memory, swap, CPUs, uptime, load, tasks — from its own cgroup rather
// than the host's totals: sysinfo(2) as the sentry answers it, and the
// /proc and /sys files (/proc/meminfo, /proc/cpuinfo, /proc/stat, ...)
// served to the container by its views server (internal/resview/fusefs).
//
// Facts (Usage, read from cgroup files) are apart from rendering (the
// generators in render.go, pure functions of Usage and Host), so the
// generators are tested on fake cgroup trees of either version.
package resview

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Cgroup is a container's cgroup, opened once (directory fds) and read at
// each use, so limits changed later (`syscage update`) are followed. Files
// are opened relative to the directory fds with O_RDONLY|O_CLOEXEC only,
// which the sentry's own filter allows; nothing is resolved by path after
// Open.
type Cgroup struct {
	// V2 is set for the unified hierarchy (one directory for every
	// controller).
	V2 bool
	// memory, cpu, cpuacct, cpuset, pids: directory fds (-1: the
	// controller is not mounted). On cgroup v2 they are one fd.
	mem, cpu, cpuacct, cpuset, pids int
}

// Dirs names a cgroup's directories per controller (v1), or the one
// directory of the unified hierarchy (V2 with Unified set).
type Dirs struct {
	V2                                 bool
	Unified                            string
	Memory, CPU, CPUAcct, CPUSet, Pids string
}

// OpenDirs opens the directories of d. A controller whose directory is
// empty or missing is left out (its facts read as unlimited).
func OpenDirs(d Dirs) (*Cgroup, error) {
	c := &Cgroup{V2: d.V2, mem: -1, cpu: -1, cpuacct: -1, cpuset: -1, pids: -1}
	open := func(dir string) (int, error) {
		if dir == "" {
			return -1, nil
		}
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			return -1, nil
		}
		if err != nil {
			return -1, fmt.Errorf("opening cgroup directory %s: %w", dir, err)
		}
		return fd, nil
	}
	if d.V2 {
		fd, err := open(d.Unified)
		if err != nil {
			return nil, err
		}
		if fd < 0 {
			return nil, fmt.Errorf("cgroup directory %s does not exist", d.Unified)
		}
		c.mem, c.cpu, c.cpuacct, c.cpuset, c.pids = fd, fd, fd, fd, fd
		return c, nil
	}
	for _, x := range []struct {
		dir string
		fd  *int
	}{{d.Memory, &c.mem}, {d.CPU, &c.cpu}, {d.CPUAcct, &c.cpuacct}, {d.CPUSet, &c.cpuset}, {d.Pids, &c.pids}} {
		fd, err := open(x.dir)
		if err != nil {
			c.Close()
			return nil, err
		}
		*x.fd = fd
	}
	if c.mem < 0 {
		c.Close()
		return nil, fmt.Errorf("no memory cgroup directory (%q)", d.Memory)
	}
	return c, nil
}

// Close closes the directory fds.
func (c *Cgroup) Close() {
	seen := map[int]bool{}
	for _, fd := range []int{c.mem, c.cpu, c.cpuacct, c.cpuset, c.pids} {
		if fd >= 0 && !seen[fd] {
			seen[fd] = true
			unix.Close(fd)
		}
	}
}

// DirsOf finds the cgroup directories of process pid, as seen from the
// caller's cgroup and mount namespaces (the host's: the sentry and the
// views server run there).
func DirsOf(pid int) (Dirs, error) {
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return Dirs{}, fmt.Errorf("reading the cgroups of pid %d: %w", pid, err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return Dirs{}, fmt.Errorf("reading mountinfo: %w", err)
	}
	return dirsFrom(cg, mi)
}

// dirsFrom resolves a /proc/PID/cgroup against the cgroup mounts of a
// mountinfo: v1 controllers (memory, cpu, cpuacct, cpuset, pids) where
// they are mounted as v1 — the hybrid layout keeps them there — and the
// unified hierarchy otherwise.
func dirsFrom(cgroupFile, mountinfo []byte) (Dirs, error) {
	v1Paths := map[string]string{}
	unifiedPath, hasUnified := "", false
	for _, line := range strings.Split(strings.TrimSpace(string(cgroupFile)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			unifiedPath, hasUnified = parts[2], true
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			v1Paths[ctl] = parts[2]
		}
	}
	v1Mounts := map[string]string{} // controller → mount point
	var unifiedMount, unifiedRoot string
	v1Roots := map[string]string{}
	for _, line := range strings.Split(string(mountinfo), "\n") {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		sep := strings.Index(line, " - ")
		if sep < 0 {
			continue
		}
		pre, post := strings.Fields(line[:sep]), strings.Fields(line[sep+3:])
		if len(pre) < 5 || len(post) < 3 {
			continue
		}
		root, mp := unescape(pre[3]), unescape(pre[4])
		switch post[0] {
		case "cgroup2":
			if unifiedMount == "" {
				unifiedMount, unifiedRoot = mp, root
			}
		case "cgroup":
			for _, opt := range strings.Split(post[2], ",") {
				if _, ok := v1Mounts[opt]; !ok {
					v1Mounts[opt], v1Roots[opt] = mp, root
				}
			}
		}
	}
	join := func(mount, root, path string) string {
		rel, err := filepath.Rel(root, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = path // not below the mount's root: best effort
		}
		return filepath.Join(mount, rel)
	}
	if _, ok := v1Mounts["memory"]; ok && v1Paths["memory"] != "" {
		d := Dirs{}
		for ctl, dst := range map[string]*string{"memory": &d.Memory, "cpu": &d.CPU, "cpuacct": &d.CPUAcct, "cpuset": &d.CPUSet, "pids": &d.Pids} {
			if m, ok := v1Mounts[ctl]; ok {
				if p, ok := v1Paths[ctl]; ok {
					*dst = join(m, v1Roots[ctl], p)
				}
			}
		}
		return d, nil
	}
	if hasUnified && unifiedMount != "" {
		return Dirs{V2: true, Unified: join(unifiedMount, unifiedRoot, unifiedPath)}, nil
	}
	return Dirs{}, errors.New("no memory cgroup: neither a v1 memory hierarchy nor a unified one is mounted for this process")
}

// unescape undoes mountinfo's octal escapes (\040 for a space ...).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Unlimited stands for a limit that is not set.
const Unlimited = math.MaxUint64

// Usage is what a container's cgroup says at one moment. Limits are
// Unlimited when not set; sizes are bytes.
type Usage struct {
	MemLimit, MemUsage uint64
	// From memory.stat: page cache, anonymous memory, shared memory and
	// the LRU lists.
	File, Anon, Shmem, Mapped                          uint64
	ActiveAnon, InactiveAnon, ActiveFile, InactiveFile uint64
	Unevictable                                        uint64
	SwapLimit, SwapUsage                               uint64 // swap alone (v1's memsw minus memory)
	CPUQuota, CPUPeriod                                uint64 // µs; CPUQuota Unlimited: none
	CPUSet                                             []int  // nil: every host CPU
	CPUUsageNs, CPUUserNs, CPUSystemNs                 uint64
	Tasks                                              uint64 // pids.current
	hasCPUUsage                                        bool
}

// Read reads the cgroup's files now.
func (c *Cgroup) Read() (Usage, error) {
	u := Usage{MemLimit: Unlimited, SwapLimit: Unlimited, CPUQuota: Unlimited, CPUPeriod: 100000}
	if c.V2 {
		return u, c.readV2(&u)
	}
	return u, c.readV1(&u)
}

func (c *Cgroup) readV2(u *Usage) error {
	var err error
	if u.MemLimit, err = readLimit(c.mem, "memory.max"); err != nil {
		return err
	}
	if u.MemUsage, err = readUint(c.mem, "memory.current"); err != nil {
		return err
	}
	st, err := readKV(c.mem, "memory.stat")
	if err != nil {
		return err
	}
	u.File, u.Anon, u.Shmem, u.Mapped = st["file"], st["anon"], st["shmem"], st["file_mapped"]
	u.ActiveAnon, u.InactiveAnon = st["active_anon"], st["inactive_anon"]
	u.ActiveFile, u.InactiveFile, u.Unevictable = st["active_file"], st["inactive_file"], st["unevictable"]
	if v, err := readLimit(c.mem, "memory.swap.max"); err == nil {
		u.SwapLimit = v
		u.SwapUsage, _ = readUint(c.mem, "memory.swap.current")
	}
	c.readCPULimits(u)
	if st, err := readKV(c.cpu, "cpu.stat"); err == nil {
		u.CPUUsageNs, u.CPUUserNs, u.CPUSystemNs = st["usage_usec"]*1000, st["user_usec"]*1000, st["system_usec"]*1000
		u.hasCPUUsage = true
	}
	u.Tasks, _ = readUint(c.pids, "pids.current")
	return nil
}

func (c *Cgroup) readV1(u *Usage) error {
	var err error
	if u.MemLimit, err = readLimit(c.mem, "memory.limit_in_bytes"); err != nil {
		return err
	}
	if u.MemUsage, err = readUint(c.mem, "memory.usage_in_bytes"); err != nil {
		return err
	}
	st, err := readKV(c.mem, "memory.stat")
	if err != nil {
		return err
	}
	// The total_ counters include the container's own sub-cgroups.
	u.File, u.Anon, u.Shmem, u.Mapped = st["total_cache"], st["total_rss"], st["total_shmem"], st["total_mapped_file"]
	u.ActiveAnon, u.InactiveAnon = st["total_active_anon"], st["total_inactive_anon"]
	u.ActiveFile, u.InactiveFile, u.Unevictable = st["total_active_file"], st["total_inactive_file"], st["total_unevictable"]
	// memsw counts memory and swap together; without swap accounting
	// the files are missing and swap is the host's.
	if msw, err := readLimit(c.mem, "memory.memsw.limit_in_bytes"); err == nil {
		if msw != Unlimited && u.MemLimit != Unlimited && msw >= u.MemLimit {
			u.SwapLimit = msw - u.MemLimit
		}
		if used, err := readUint(c.mem, "memory.memsw.usage_in_bytes"); err == nil && used >= u.MemUsage {
			u.SwapUsage = used - u.MemUsage
		}
	}
	c.readCPULimits(u)
	if n, err := readUint(c.cpuacct, "cpuacct.usage"); err == nil {
		u.CPUUsageNs, u.hasCPUUsage = n, true
		if st, err := readKV(c.cpuacct, "cpuacct.stat"); err == nil {
			// USER_HZ ticks (100 a second on every architecture Linux
			// exports to user space).
			u.CPUUserNs, u.CPUSystemNs = st["user"]*1e7, st["system"]*1e7
		}
	}
	u.Tasks, _ = readUint(c.pids, "pids.current")
	return nil
}

// ReadCPULimits reads only what decides how many CPUs the container is
// shown: its CFS quota and period and its cpuset (the other fields of the
// Usage are unset).
func (c *Cgroup) ReadCPULimits() Usage {
	u := Usage{MemLimit: Unlimited, SwapLimit: Unlimited, CPUQuota: Unlimited, CPUPeriod: 100000}
	c.readCPULimits(&u)
	return u
}

func (c *Cgroup) readCPULimits(u *Usage) {
	if c.V2 {
		if b, err := readFile(c.cpu, "cpu.max"); err == nil {
			f := strings.Fields(string(b))
			if len(f) == 2 {
				if f[0] != "max" {
					u.CPUQuota, _ = strconv.ParseUint(f[0], 10, 64)
				}
				if p, err := strconv.ParseUint(f[1], 10, 64); err == nil && p > 0 {
					u.CPUPeriod = p
				}
			}
		}
		if b, err := readFile(c.cpuset, "cpuset.cpus.effective"); err == nil {
			u.CPUSet, _ = ParseCPUList(string(b))
		}
		return
	}
	if q, err := readFile(c.cpu, "cpu.cfs_quota_us"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(q)), 10, 64); err == nil && n > 0 {
			u.CPUQuota = uint64(n)
		}
		if p, err := readUint(c.cpu, "cpu.cfs_period_us"); err == nil && p > 0 {
			u.CPUPeriod = p
		}
	}
	if b, err := readFile(c.cpuset, "cpuset.effective_cpus"); err == nil {
		u.CPUSet, _ = ParseCPUList(string(b))
	} else if b, err := readFile(c.cpuset, "cpuset.cpus"); err == nil {
		u.CPUSet, _ = ParseCPUList(string(b))
	}
}

// maxFile bounds what is read of one cgroup file (memory.stat is a few
// KiB; a task list of 100k threads under 1 MiB).
const maxFile = 1 << 20

// readFile reads name under the directory dirfd.
func readFile(dirfd int, name string) ([]byte, error) {
	if dirfd < 0 {
		return nil, unix.ENOENT
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening cgroup file %s: %w", name, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for len(buf) < maxFile {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading cgroup file %s: %w", name, err)
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	return buf, nil
}

func readUint(dirfd int, name string) (uint64, error) {
	b, err := readFile(dirfd, name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup file %s: %w", name, err)
	}
	return n, nil
}

// v1Unlimited: cgroup v1 reports "no limit" as the largest page-aligned
// value of a long; anything at or above this is treated as none.
const v1Unlimited = math.MaxInt64 &^ 0xfff

// readLimit reads a limit: "max" (v2) or a huge value (v1) is Unlimited.
func readLimit(dirfd int, name string) (uint64, error) {
	b, err := readFile(dirfd, name)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return Unlimited, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup file %s: %w", name, err)
	}
	if n >= v1Unlimited {
		return Unlimited, nil
	}
	return n, nil
}

// readKV reads a flat-keyed file ("key value" lines).
func readKV(dirfd int, name string) (map[string]uint64, error) {
	b, err := readFile(dirfd, name)
	if err != nil {
		return nil, err
	}
	m := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			if v, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				m[f[0]] = v
			}
		}
	}
	return m, nil
}

// ParseCPUList parses a CPU list ("0-3,5,7-8").
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	var cpus []int
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("cpu list %q: bad number %q", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b-a > 1<<16 {
				return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		for i := a; i <= b; i++ {
			cpus = append(cpus, i)
		}
	}
	return cpus, nil
}

// Tasks lists the host thread ids in the container's cgroup (v1: the
// memory hierarchy's tasks; v2: cgroup.threads).
func (c *Cgroup) Tasks() ([]int, error) {
	name := "tasks"
	if c.V2 {
		name = "cgroup.threads"
	}
	b, err := readFile(c.mem, name)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}
