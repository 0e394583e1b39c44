package resview

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const mib = 1 << 20

// tree writes files (path relative to root → content) and returns root.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func v1Tree(t *testing.T, limit, quota, cpus, memsw string) Dirs {
	files := map[string]string{
		"memory/memory.limit_in_bytes": limit,
		"memory/memory.usage_in_bytes": "104857600\n",
		"memory/memory.stat":           "cache 1\ntotal_cache 41943040\ntotal_rss 62914560\ntotal_shmem 1048576\ntotal_active_file 20971520\ntotal_inactive_file 10485760\ntotal_active_anon 62914560\n",
		"cpu/cpu.cfs_quota_us":         quota,
		"cpu/cpu.cfs_period_us":        "100000\n",
		"cpuacct/cpuacct.usage":        "3000000000\n",
		"cpuacct/cpuacct.stat":         "user 200\nsystem 100\n",
		"cpuset/cpuset.effective_cpus": cpus,
		"pids/pids.current":            "7\n",
	}
	if memsw != "" {
		files["memory/memory.memsw.limit_in_bytes"] = memsw
		files["memory/memory.memsw.usage_in_bytes"] = "115343360\n" // 10 MiB swapped
	}
	root := tree(t, files)
	return Dirs{Memory: root + "/memory", CPU: root + "/cpu", CPUAcct: root + "/cpuacct", CPUSet: root + "/cpuset", Pids: root + "/pids"}
}

func v2Tree(t *testing.T, max, cpuMax, cpus, swapMax string) Dirs {
	files := map[string]string{
		"memory.max":            max,
		"memory.current":        "104857600\n",
		"memory.stat":           "anon 62914560\nfile 41943040\nshmem 1048576\nactive_file 20971520\ninactive_file 10485760\nactive_anon 62914560\n",
		"cpu.max":               cpuMax,
		"cpu.stat":              "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\n",
		"cpuset.cpus.effective": cpus,
		"pids.current":          "7\n",
	}
	if swapMax != "" {
		files["memory.swap.max"] = swapMax
		files["memory.swap.current"] = "10485760\n"
	}
	return Dirs{V2: true, Unified: tree(t, files)}
}

var testHost = Host{
	MemTotal: 24 << 30, SwapTotal: 1 << 30, CPUs: []int{0, 1, 2, 3},
	Cpuinfo: []byte("processor\t: 0\nmodel name\t: X\nsiblings\t: 4\n\nprocessor\t: 1\nmodel name\t: X\nsiblings\t: 4\n\nprocessor\t: 2\nmodel name\t: X\nsiblings\t: 4\n\nprocessor\t: 3\nmodel name\t: X\nsiblings\t: 4\n"),
}

func TestViews(t *testing.T) {
	for _, tc := range []struct {
		name          string
		dirs          func(t *testing.T) Dirs
		memTotal      uint64
		swapTotal     uint64
		swapFree      uint64
		cpus          int
		online        string
		cpuinfoBlocks int
	}{
		{"v1 256M 1 CPU", func(t *testing.T) Dirs { return v1Tree(t, "268435456\n", "100000\n", "0-3\n", "") }, 256 * mib, 1 << 30, 1 << 30, 1, "0\n", 1},
		{"v1 unlimited", func(t *testing.T) Dirs { return v1Tree(t, "9223372036854771712\n", "-1\n", "0-3\n", "") }, 24 << 30, 1 << 30, 1 << 30, 4, "0-3\n", 4},
		{"v1 quota 1.5 CPUs, cpuset 2", func(t *testing.T) Dirs { return v1Tree(t, "268435456\n", "150000\n", "1,3\n", "") }, 256 * mib, 1 << 30, 1 << 30, 2, "0-1\n", 2},
		{"v1 memsw 64M swap", func(t *testing.T) Dirs {
			return v1Tree(t, "268435456\n", "-1\n", "0-3\n", "335544320\n")
		}, 256 * mib, 64 * mib, 54 * mib, 4, "0-3\n", 4},
		{"v1 limit above the host", func(t *testing.T) Dirs { return v1Tree(t, "107374182400\n", "-1\n", "0\n", "") }, 24 << 30, 1 << 30, 1 << 30, 1, "0\n", 1},
		{"v2 256M 1 CPU", func(t *testing.T) Dirs { return v2Tree(t, "268435456\n", "100000 100000\n", "0-3\n", "0\n") }, 256 * mib, 0, 0, 1, "0\n", 1},
		{"v2 max", func(t *testing.T) Dirs { return v2Tree(t, "max\n", "max 100000\n", "0-3\n", "max\n") }, 24 << 30, 1 << 30, 1<<30 - 10*mib, 4, "0-3\n", 4},
		{"v2 quota 3 CPUs over 50ms", func(t *testing.T) Dirs { return v2Tree(t, "max\n", "150000 50000\n", "0-3\n", "") }, 24 << 30, 1 << 30, 1 << 30, 3, "0-2\n", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cg, err := OpenDirs(tc.dirs(t))
			if err != nil {
				t.Fatal(err)
			}
			defer cg.Close()
			u, err := cg.Read(NeedAll)
			if err != nil {
				t.Fatal(err)
			}
			s := &Snapshot{Usage: u, Host: testHost, Uptime: 10 * time.Second, Loads: [3]float64{0.3, 0.2, 0.1}}
			if got := s.MemTotal(); got != tc.memTotal {
				t.Errorf("MemTotal = %d, want %d", got, tc.memTotal)
			}
			if got := s.MemFree(); got != tc.memTotal-100*mib {
				t.Errorf("MemFree = %d, want %d", got, tc.memTotal-100*mib)
			}
			if got := s.MemAvailable(); got != tc.memTotal-100*mib+30*mib {
				t.Errorf("MemAvailable = %d, want %d", got, tc.memTotal-100*mib+30*mib)
			}
			if got := s.SwapTotal(); got != tc.swapTotal {
				t.Errorf("SwapTotal = %d, want %d", got, tc.swapTotal)
			}
			if got := s.SwapFree(); got != tc.swapFree {
				t.Errorf("SwapFree = %d, want %d", got, tc.swapFree)
			}
			if got := s.CPUs(); got != tc.cpus {
				t.Errorf("CPUs = %d, want %d", got, tc.cpus)
			}
			if got := string(CPUOnline(s)); got != tc.online {
				t.Errorf("online = %q, want %q", got, tc.online)
			}
			ci := string(Cpuinfo(s))
			if got := strings.Count(ci, "processor\t:"); got != tc.cpuinfoBlocks {
				t.Errorf("cpuinfo has %d processors, want %d:\n%s", got, tc.cpuinfoBlocks, ci)
			}
			if !strings.Contains(ci, "processor\t: 0\n") || strings.Contains(ci, "siblings\t: 4\n") && tc.cpus != 4 {
				t.Errorf("cpuinfo not renumbered:\n%s", ci)
			}
			mi := string(Meminfo(s))
			first := strings.SplitN(mi, "\n", 2)[0]
			if want := "MemTotal:       " + pad8(tc.memTotal/1024) + " kB"; first != want {
				t.Errorf("meminfo first line %q, want %q", first, want)
			}
			si := SysinfoOf(s)
			if si.Totalram != tc.memTotal || si.Freeram != tc.memTotal-100*mib || si.Totalswap != tc.swapTotal || si.Procs != 7 || si.Unit != 1 || si.Uptime != 10 {
				t.Errorf("sysinfo = %+v", si)
			}
			if si.Loads[0] != 19660 {
				t.Errorf("sysinfo load %d", si.Loads[0])
			}
			if u.CPUUsageNs != 3e9 || u.CPUUserNs != 2e9 || u.CPUSystemNs != 1e9 {
				t.Errorf("cpu times %d %d %d", u.CPUUsageNs, u.CPUUserNs, u.CPUSystemNs)
			}
			st := string(Stat(s))
			if !strings.HasPrefix(st, "cpu  200 0 100 ") || !strings.Contains(st, "processes 7\n") {
				t.Errorf("stat:\n%s", st)
			}
			for _, f := range Files {
				if _, err := Render(f.Name, s); err != nil {
					t.Errorf("%s: %v", f.Name, err)
				}
			}
		})
	}
}

func pad8(n uint64) string {
	s := strings.Repeat(" ", 8) + itoa(n)
	return s[len(s)-8:]
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestUptimeAndLoadavg(t *testing.T) {
	s := &Snapshot{Usage: Usage{MemLimit: Unlimited, SwapLimit: Unlimited, CPUQuota: Unlimited, CPUPeriod: 100000, CPUUsageNs: 5e9, Tasks: 3},
		Host: testHost, Uptime: 100 * time.Second, Loads: [3]float64{1.5, 0.5, 0.25}}
	// 4 CPUs for 100 s, 5 s of them busy: 395 s idle.
	if got := string(UptimeFile(s)); got != "100.00 395.00\n" {
		t.Errorf("uptime = %q", got)
	}
	if got := string(Loadavg(s)); got != "1.50 0.50 0.25 2/3 0\n" {
		t.Errorf("loadavg = %q", got)
	}
	if got := string(Swaps(s)); !strings.Contains(got, "virtual\t\t1048576\t\t0") {
		t.Errorf("swaps = %q", got)
	}
	s.Host.SwapTotal = 0
	if got := string(Swaps(s)); strings.Count(got, "\n") != 1 {
		t.Errorf("swaps without swap = %q", got)
	}
}

func TestLoad(t *testing.T) {
	var l Load
	// 10 s of CPU over the 20 s since the start: half a CPU busy, the
	// averages rise from 0 as the kernel's after boot.
	first := l.Update(20*time.Second, 10e9)
	if want := 0.5 * (1 - math.Exp(-20.0/60)); math.Abs(first[0]-want) > 1e-9 || !(first[0] > first[1] && first[1] > first[2]) {
		t.Fatalf("first = %v, want load1 %v", first, want)
	}
	// An hour fully busy on two CPUs: every average near 2.
	got := l.Update(3620*time.Second, 10e9+7200e9)
	if !(got[0] > 1.99 && got[2] > 1.9 && got[0] <= 2) {
		t.Errorf("after a busy hour = %v", got)
	}
	// A reading back in time changes nothing.
	if again := l.Update(70*time.Second, 80e9); again != got {
		t.Errorf("time went back: %v, was %v", again, got)
	}
}

func TestDirsFrom(t *testing.T) {
	hybrid := `25 1 0:23 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
30 25 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory
31 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct
32 25 0:30 / /sys/fs/cgroup/cpuset rw,nosuid shared:16 - cgroup cgroup rw,cpuset
33 25 0:31 / /sys/fs/cgroup/pids rw,nosuid shared:17 - cgroup cgroup rw,pids
`
	v2 := `25 1 0:23 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate
`
	for _, tc := range []struct {
		name, cgroup, mountinfo string
		want                    Dirs
		err                     bool
	}{
		{"hybrid", "0::/c1\n4:memory:/c1\n3:cpu,cpuacct:/c1\n2:cpuset:/c1\n1:pids:/c1\n", hybrid,
			Dirs{Memory: "/sys/fs/cgroup/memory/c1", CPU: "/sys/fs/cgroup/cpu,cpuacct/c1", CPUAcct: "/sys/fs/cgroup/cpu,cpuacct/c1", CPUSet: "/sys/fs/cgroup/cpuset/c1", Pids: "/sys/fs/cgroup/pids/c1"}, false},
		{"v2", "0::/system.slice/c1\n", v2, Dirs{V2: true, Unified: "/sys/fs/cgroup/system.slice/c1"}, false},
		{"nothing mounted", "0::/c1\n", "", Dirs{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dirsFrom([]byte(tc.cgroup), []byte(tc.mountinfo))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	st, err := parseStartTime([]byte("42 (a b) c) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n"))
	if err != nil || st != 123450*time.Millisecond {
		t.Errorf("start time = %v, %v", st, err)
	}
	for _, bad := range []string{"0-", "a", "3-1", "-1"} {
		if _, err := ParseCPUList(bad); err == nil {
			t.Errorf("ParseCPUList(%q) accepted", bad)
		}
	}
	if got, _ := ParseCPUList("0-2,5\n"); len(got) != 4 || got[3] != 5 {
		t.Errorf("ParseCPUList = %v", got)
	}
	if got := unescape(`/a\040b`); got != "/a b" {
		t.Errorf("unescape = %q", got)
	}
}

// TestReadFollowsChanges: a limit changed after the first read (syscage
// update) is what the next read sees, though the file stays open; and a
// reading reads only what it needs.
func TestReadFollowsChanges(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		var d Dirs
		limitFile := ""
		if v2 {
			d = v2Tree(t, "268435456\n", "100000 100000\n", "0-3\n", "")
			limitFile = filepath.Join(d.Unified, "memory.max")
		} else {
			d = v1Tree(t, "268435456\n", "100000\n", "0-3\n", "")
			limitFile = filepath.Join(d.Memory, "memory.limit_in_bytes")
		}
		cg, err := OpenDirs(d)
		if err != nil {
			t.Fatal(err)
		}
		u, err := cg.Read(NeedMemory)
		if err != nil || u.MemLimit != 256*mib {
			t.Fatalf("v2=%v: limit %d, %v", v2, u.MemLimit, err)
		}
		if u.File != 0 || u.CPUQuota != Unlimited || u.Tasks != 0 || u.CPUUsageNs != 0 {
			t.Errorf("v2=%v: NeedMemory read more: %+v", v2, u)
		}
		if err := os.WriteFile(limitFile, []byte("536870912\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if u, _ = cg.Read(NeedMemory); u.MemLimit != 512*mib {
			t.Errorf("v2=%v: after the update the limit reads %d", v2, u.MemLimit)
		}
		if u, _ = cg.Read(NeedCPULimits); u.CPUQuota != 100000 || u.MemLimit != Unlimited {
			t.Errorf("v2=%v: NeedCPULimits: %+v", v2, u)
		}
		cg.Close()
		if _, err := cg.Read(NeedMemory); err == nil {
			t.Errorf("v2=%v: read after Close succeeded", v2)
		}
	}
}
