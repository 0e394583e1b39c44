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
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

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

	mu    sync.Mutex
	files map[fileKey]*cgFile
}

// fileKey names a cgroup file: a directory fd and a name under it.
type fileKey struct {
	dir  int
	name string
}

// cgFile is a cgroup file kept open and re-read from its start at each
// use (the kernel renders it afresh): one openat per file for the life
// of the view, not one per read.
type cgFile struct {
	mu  sync.Mutex
	fd  int   // -1: could not be opened (err says why)
	err error // the open's error, kept
	buf []byte
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
	c := &Cgroup{V2: d.V2, mem: -1, cpu: -1, cpuacct: -1, cpuset: -1, pids: -1, files: map[fileKey]*cgFile{}}
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

// Close closes the directory fds and the files kept open.
func (c *Cgroup) Close() {
	c.mu.Lock()
	for _, f := range c.files {
		if f.fd >= 0 {
			unix.Close(f.fd)
		}
	}
	c.files = nil
	c.mu.Unlock()
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
}

// Need says which facts a reading wants: each costs file reads, and a
// view reads only what it renders.
type Need uint

const (
	// NeedMemory: the memory and swap limits and usage.
	NeedMemory Need = 1 << iota
	// NeedMemoryStat: memory.stat (page cache, anon, shmem, LRU lists),
	// the costliest file (the kernel sums it over the cgroup's tree).
	NeedMemoryStat
	// NeedCPUUsage: the CPU time used (total, user, system).
	NeedCPUUsage
	// NeedCPULimits: the CFS quota and period and the cpuset.
	NeedCPULimits
	// NeedTasks: pids.current.
	NeedTasks
	// NeedAll is every fact.
	NeedAll = NeedMemory | NeedMemoryStat | NeedCPUUsage | NeedCPULimits | NeedTasks
)

// Read reads the facts need asks for now; the others keep their zero
// values (limits: Unlimited).
func (c *Cgroup) Read(need Need) (Usage, error) {
	u := Usage{MemLimit: Unlimited, SwapLimit: Unlimited, CPUQuota: Unlimited, CPUPeriod: 100000}
	if need&(NeedMemory|NeedMemoryStat) != 0 {
		if err := c.readMemory(&u, need&NeedMemoryStat != 0); err != nil {
			return u, err
		}
	}
	if need&NeedCPUUsage != 0 {
		c.readCPUUsage(&u)
	}
	if need&NeedCPULimits != 0 {
		c.readCPULimits(&u)
	}
	if need&NeedTasks != 0 {
		u.Tasks, _ = c.readUint(c.pids, "pids.current")
	}
	return u, nil
}

// memStatKeys name memory.stat's counters in each version: v1's total_
// counters include the container's own sub-cgroups, as v2's always do.
var memStatKeys = map[bool]struct{ file, anon, shmem, mapped, activeAnon, inactiveAnon, activeFile, inactiveFile, unevictable string }{
	false: {"total_cache", "total_rss", "total_shmem", "total_mapped_file", "total_active_anon", "total_inactive_anon", "total_active_file", "total_inactive_file", "total_unevictable"},
	true:  {"file", "anon", "shmem", "file_mapped", "active_anon", "inactive_anon", "active_file", "inactive_file", "unevictable"},
}

func (c *Cgroup) readMemory(u *Usage, stat bool) error {
	limit, usage := "memory.limit_in_bytes", "memory.usage_in_bytes"
	if c.V2 {
		limit, usage = "memory.max", "memory.current"
	}
	var err error
	if u.MemLimit, err = c.readLimit(c.mem, limit); err != nil {
		return err
	}
	if u.MemUsage, err = c.readUint(c.mem, usage); err != nil {
		return err
	}
	if c.V2 {
		if v, err := c.readLimit(c.mem, "memory.swap.max"); err == nil {
			u.SwapLimit = v
			u.SwapUsage, _ = c.readUint(c.mem, "memory.swap.current")
		}
	} else if msw, err := c.readLimit(c.mem, "memory.memsw.limit_in_bytes"); err == nil {
		// memsw counts memory and swap together; without swap
		// accounting the files are missing and swap is the host's.
		if msw != Unlimited && u.MemLimit != Unlimited && msw >= u.MemLimit {
			u.SwapLimit = msw - u.MemLimit
		}
		if used, err := c.readUint(c.mem, "memory.memsw.usage_in_bytes"); err == nil && used >= u.MemUsage {
			u.SwapUsage = used - u.MemUsage
		}
	}
	if !stat {
		return nil
	}
	b, err := c.readFile(c.mem, "memory.stat")
	if err != nil {
		return err
	}
	k := memStatKeys[c.V2]
	eachKV(b, func(key string, v uint64) {
		switch key {
		case k.file:
			u.File = v
		case k.anon:
			u.Anon = v
		case k.shmem:
			u.Shmem = v
		case k.mapped:
			u.Mapped = v
		case k.activeAnon:
			u.ActiveAnon = v
		case k.inactiveAnon:
			u.InactiveAnon = v
		case k.activeFile:
			u.ActiveFile = v
		case k.inactiveFile:
			u.InactiveFile = v
		case k.unevictable:
			u.Unevictable = v
		}
	})
	return nil
}

func (c *Cgroup) readCPUUsage(u *Usage) {
	if c.V2 {
		if b, err := c.readFile(c.cpu, "cpu.stat"); err == nil {
			eachKV(b, func(key string, v uint64) {
				switch key {
				case "usage_usec":
					u.CPUUsageNs = v * 1000
				case "user_usec":
					u.CPUUserNs = v * 1000
				case "system_usec":
					u.CPUSystemNs = v * 1000
				}
			})
		}
		return
	}
	if n, err := c.readUint(c.cpuacct, "cpuacct.usage"); err == nil {
		u.CPUUsageNs = n
		if b, err := c.readFile(c.cpuacct, "cpuacct.stat"); err == nil {
			// USER_HZ ticks (100 a second on every architecture Linux
			// exports to user space).
			eachKV(b, func(key string, v uint64) {
				switch key {
				case "user":
					u.CPUUserNs = v * 1e7
				case "system":
					u.CPUSystemNs = v * 1e7
				}
			})
		}
	}
}

// eachKV calls fn for every "key value" line of a flat-keyed file whose
// value is a number (the key string is only valid during the call).
func eachKV(b []byte, fn func(key string, v uint64)) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		sp := bytes.IndexByte(line, ' ')
		if sp <= 0 {
			continue
		}
		var v uint64
		ok := sp+1 < len(line)
		for _, ch := range line[sp+1:] {
			if ch < '0' || ch > '9' {
				ok = false
				break
			}
			v = v*10 + uint64(ch-'0')
		}
		if ok {
			fn(string(line[:sp]), v)
		}
	}
}

func (c *Cgroup) readCPULimits(u *Usage) {
	if c.V2 {
		if b, err := c.readFile(c.cpu, "cpu.max"); err == nil {
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
		if b, err := c.readFile(c.cpuset, "cpuset.cpus.effective"); err == nil {
			u.CPUSet, _ = ParseCPUList(string(b))
		}
		return
	}
	if q, err := c.readFile(c.cpu, "cpu.cfs_quota_us"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(q)), 10, 64); err == nil && n > 0 {
			u.CPUQuota = uint64(n)
		}
		if p, err := c.readUint(c.cpu, "cpu.cfs_period_us"); err == nil && p > 0 {
			u.CPUPeriod = p
		}
	}
	if b, err := c.readFile(c.cpuset, "cpuset.effective_cpus"); err == nil {
		u.CPUSet, _ = ParseCPUList(string(b))
	} else if b, err := c.readFile(c.cpuset, "cpuset.cpus"); err == nil {
		u.CPUSet, _ = ParseCPUList(string(b))
	}
}

// maxFile bounds what is read of one cgroup file (memory.stat is a few
// KiB; a task list of 100k threads under 1 MiB).
const maxFile = 1 << 20

// readFile reads name under the directory dirfd: from its start, on an
// fd opened (openat, O_RDONLY|O_CLOEXEC) at its first use and kept. The
// bytes returned are a copy the caller may keep.
func (c *Cgroup) readFile(dirfd int, name string) ([]byte, error) {
	if dirfd < 0 {
		return nil, unix.ENOENT
	}
	c.mu.Lock()
	if c.files == nil {
		c.mu.Unlock()
		return nil, unix.EBADF // closed
	}
	k := fileKey{dirfd, name}
	f := c.files[k]
	if f == nil {
		f = &cgFile{fd: -1}
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			f.err = fmt.Errorf("opening cgroup file %s: %w", name, err)
		} else {
			f.fd = fd
		}
		c.files[k] = f
	}
	c.mu.Unlock()
	if f.fd < 0 {
		return nil, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := unix.Seek(f.fd, 0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewinding cgroup file %s: %w", name, err)
	}
	if f.buf == nil {
		f.buf = make([]byte, 4096)
	}
	n := 0
	for {
		if n == len(f.buf) {
			if len(f.buf) >= maxFile {
				break
			}
			f.buf = append(f.buf, make([]byte, len(f.buf))...)
		}
		m, err := unix.Read(f.fd, f.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading cgroup file %s: %w", name, err)
		}
		if m == 0 {
			break
		}
		n += m
	}
	return append([]byte(nil), f.buf[:n]...), nil
}

func (c *Cgroup) readUint(dirfd int, name string) (uint64, error) {
	b, err := c.readFile(dirfd, name)
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
func (c *Cgroup) readLimit(dirfd int, name string) (uint64, error) {
	b, err := c.readFile(dirfd, name)
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
	b, err := c.readFile(c.mem, name)
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
