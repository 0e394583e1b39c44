package test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// withLimits gives the container a memory limit and a CFS quota of
// quota/100000 CPUs.
func withLimits(memory int64, quota int64) specOpt {
	return func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		period := uint64(100000)
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &memory}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
}

// viewProbe prints, one per line: MemTotal (kB, read by cat: sendfile),
// MemTotal (read by head: read), the online CPUs, the processors in
// cpuinfo, free's total (MiB, from sysinfo), and uptime's first field
// (from /proc/uptime), nproc (sched_getaffinity of itself) and the init's
// affinity mask (sched_getaffinity of another pid).
const viewProbe = `cat /proc/meminfo | awk '/^MemTotal:/ {print $2}'
head -1 /proc/meminfo | awk '{print $2}'
cat /sys/devices/system/cpu/online
grep -c ^processor /proc/cpuinfo
free -m | awk '/^Mem:/ {print $2}'
cut -d. -f1 /proc/uptime
nproc
taskset -p 1 | awk '{print $NF}'`

func hostCPUs(t *testing.T) int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(b))
	if _, hi, ok := strings.Cut(s, "-"); ok {
		n, _ := strconv.Atoi(hi)
		return n + 1
	}
	return 1
}

// TestResourceViews: a container limited to 256 MiB and one CPU sees
// 256 MiB and one CPU in /proc/meminfo, /proc/cpuinfo,
// /sys/devices/system/cpu/online and sysinfo (free), as each identity;
// after `syscage update` raises the limits it sees the new ones.
func TestResourceViews(t *testing.T) {
	t.Parallel()
	for _, ident := range sandboxtest.Identities {
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t, ident.Opt, withLimits(256<<20, 100000))
			id, _ := r.startContainer(bundle)
			got := strings.Fields(r.ok("exec", id, "sh", "-c", viewProbe).Stdout)
			if len(got) != 8 || got[0] != "262144" || got[1] != "262144" || got[2] != "0" || got[3] != "1" || got[4] != "256" || got[6] != "1" || got[7] != "1" {
				t.Errorf("256 MiB, 1 CPU: got %q, want [262144 262144 0 1 256 <uptime> 1 1]", got)
			}
			if len(got) == 8 {
				if up, err := strconv.Atoi(got[5]); err != nil || up > 600 {
					t.Errorf("uptime %q: not the container's (it just started)", got[5])
				}
			}
			if hostCPUs(t) >= 2 {
				r.ok("update", "--memory", "512M", "--cpu-quota", "200000", id)
				got = strings.Fields(r.ok("exec", id, "sh", "-c", viewProbe).Stdout)
				if len(got) != 8 || got[0] != "524288" || got[1] != "524288" || got[2] != "0-1" || got[3] != "2" || got[4] != "512" || got[6] != "2" || got[7] != "3" {
					t.Errorf("after update to 512 MiB, 2 CPUs: got %q", got)
				}
			}
			r.stopAndDelete(id)
			assertClean(t, r.Root, id, bundle)
		})
	}
}

// TestResourceViewsFailClosed kills a container's views server: its
// files then fail (ENOTCONN), they never show the host's values, nor
// what the kernel still caches of them (each is read before the kill, so
// its rendering is in the page cache).
func TestResourceViewsFailClosed(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withLimits(256<<20, 100000))
	id, _ := r.startContainer(bundle)
	files := []string{"/proc/meminfo", "/proc/cpuinfo", "/proc/uptime", "/sys/devices/system/cpu/online"}
	for _, f := range files {
		r.ok("exec", id, "cat", f)
	}
	data, err := os.ReadFile(filepath.Join(r.Root, id, "views.pid"))
	if err != nil {
		t.Fatalf("the views server's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd of the views server %d: %v", pid, err)
	}
	defer unix.Close(pidfd)
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil {
		t.Fatal(err)
	}
	// Wait for its end (the pidfd turns readable), not for a time.
	for {
		if _, err := unix.Poll([]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}, -1); err != unix.EINTR {
			break
		}
	}
	for _, f := range files {
		res := r.run("exec", id, "cat", f)
		if res.Code == 0 {
			t.Errorf("cat %s with the views server gone: succeeded: %q", f, res.Stdout)
			continue
		}
		if !strings.Contains(res.Stderr+res.Stdout, "Transport endpoint is not connected") {
			t.Errorf("cat %s: failed for another reason than the lost server (ENOTCONN): %s", f, res)
		}
	}
	// sysinfo is the sentry's: still the container's.
	if got := strings.TrimSpace(r.ok("exec", id, "sh", "-c", "free -m 2>/dev/null | awk '/^Mem:/ {print $2}'").Stdout); got != "256" && got != "" {
		t.Errorf("sysinfo after the views server died: total %q MiB, want 256", got)
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}

// TestResourceViewsOff: the annotation turns the views off; the
// container sees the host's memory (sysinfo and /proc/meminfo), and no
// views server runs. A bad value is refused, naming the annotation.
func TestResourceViewsOff(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withLimits(256<<20, 100000), sandboxtest.WithAnnotation("dev.syscage.resource-views", "false"))
	id, _ := r.startContainer(bundle)
	host := hostMemTotal(t)
	got := strings.Fields(r.ok("exec", id, "sh", "-c", "head -1 /proc/meminfo | awk '{print $2}'; free | awk '/^Mem:/ {print $2}'").Stdout)
	if len(got) != 2 || got[0] != host || got[1] != host {
		t.Errorf("views off: got %q, want the host's MemTotal %s twice", got, host)
	}
	if _, err := os.Stat(filepath.Join(r.Root, id, "views.pid")); err == nil {
		t.Error("views off: a views server was started")
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)

	bad := newBundle(t, sandboxtest.WithAnnotation("dev.syscage.resource-views", "maybe"))
	r.fails([]string{"dev.syscage.resource-views", "true or false"}, "create", "--bundle", bad, newID(t))
}

func hostMemTotal(t *testing.T) string {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == "MemTotal:" {
			return fs[1]
		}
	}
	t.Fatal("no MemTotal in the host's meminfo")
	return ""
}

// TestResourceViewsCannotBeUndone: the workload, root in its container,
// tries to uncover the host's /proc/meminfo (unmount the view, write it,
// mount procfs anew) and fails: the mount family is refused by its
// filter and the view is read-only; the view is still there afterwards.
func TestResourceViewsCannotBeUndone(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t, withLimits(256<<20, 100000))
	id, _ := r.startContainer(bundle)
	for _, attack := range []struct{ name, cmd, want string }{
		{"unmount the view", "umount /proc/meminfo", "Operation not permitted"},
		{"lazy unmount", "umount -l /proc/meminfo", "Operation not permitted"},
		{"a fresh procfs", "mount -t proc proc /tmp", "permission denied"}, // busybox words EPERM so
		{"write the view", "echo 1 > /proc/meminfo", "Read-only file system"},
	} {
		res := r.run("exec", id, "sh", "-c", attack.cmd)
		if res.Code == 0 {
			t.Errorf("%s: succeeded", attack.name)
		} else if !strings.Contains(res.Stderr+res.Stdout, attack.want) {
			t.Errorf("%s: failed for another reason than %q: %s", attack.name, attack.want, res)
		}
	}
	if got := strings.TrimSpace(r.ok("exec", "--", id, "sh", "-c", "head -1 /proc/meminfo | awk '{print $2}'").Stdout); got != "262144" {
		t.Errorf("after the attempts MemTotal reads %s kB, want 262144", got)
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}
