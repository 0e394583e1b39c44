package container

import (
	"errors"
	"fmt"
	"github.com/opencontainers/runc/libcontainer"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
)

// sentryCgroup is the child cgroup, under each of the container's, that
// its sentry is charged in.
const sentryCgroup = "syscage-sentry"

// sentryControllers are the cgroup v1 controllers a sentry is charged to:
// its memory and its CPU time count against the container's limits and
// show in its statistics. Not pids: a container that fills its pids limit
// (a fork bomb, a flood of threads making proxied calls) would leave its
// sentry no thread to serve with, and the sentry's end stops the
// container, where runc's container would only see EAGAIN; the sentry's
// tasks are bounded by the sentry itself instead (its proxy pool, see
// TestProxyFlood). Not cpuset, whose new children start empty, nor the
// freezer: a paused container has nothing for its sentry to serve. Under
// cgroup v2 a child cgroup is charged for whatever the container's cgroup
// is, pids included (docs/security.md).
var sentryControllers = []string{"memory", "cpu", "cpuacct"}

// unifiedCgroupRoot is where the cgroup v2 hierarchy is mounted when it is
// the only one.
const unifiedCgroupRoot = "/sys/fs/cgroup"

// chargeSentry moves the sentry into a child (sentryCgroup) of each cgroup
// of the container process pid, and gives it that process's OOM score
// adjustment: a container cannot make its sentry spend beyond its own
// limits, and under memory pressure the sentry is as killable as the
// container (losing it stops the container). It returns the directories
// it joined. pid is the container's init at its listener hand-off, before
// any of the user's code runs, so its cgroups are the ones create made.
func chargeSentry(sentryPid, pid int) ([]string, error) {
	paths, err := cgroups.ParseCgroupFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil, fmt.Errorf("reading the cgroups of pid %d: %w", pid, err)
	}
	dirs, err := sentryCgroupDirs(paths, cgroups.IsCgroup2UnifiedMode(), cgroups.FindCgroupMountpointAndRoot)
	if err != nil {
		return nil, err
	}
	var joined []string
	for _, dir := range dirs {
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return joined, fmt.Errorf("creating %s: %w", dir, err)
		}
		if err := cgroups.WriteCgroupProc(dir, sentryPid); err != nil {
			return joined, fmt.Errorf("moving the sentry into %s: %w", dir, err)
		}
		joined = append(joined, dir)
	}
	adj, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/oom_score_adj")
	if err != nil {
		return joined, fmt.Errorf("reading the OOM score of pid %d: %w", pid, err)
	}
	if err := os.WriteFile("/proc/"+strconv.Itoa(sentryPid)+"/oom_score_adj", []byte(strings.TrimSpace(string(adj))), 0); err != nil {
		return joined, fmt.Errorf("setting the sentry's OOM score: %w", err)
	}
	return joined, nil
}

// sentryCgroupDirs are the directories of the sentry's child cgroups,
// given a process's cgroup paths (ParseCgroupFile: controller → path;
// "" is the v2 hierarchy) and how to find a v1 controller's mount and the
// cgroup at its root (not "/" where the runtime itself runs in a
// container whose cgroup is mounted as its root, as in kind or
// Docker-in-Docker without a cgroup namespace).
func sentryCgroupDirs(paths map[string]string, unified bool, mountpoint func(cgroupPath, subsystem string) (string, string, error)) ([]string, error) {
	if unified {
		p, ok := paths[""]
		if !ok || !filepath.IsAbs(p) {
			return nil, errors.New("the container's process has no cgroup v2 path")
		}
		if p == "/" {
			return nil, errors.New("the container's process is in the root cgroup")
		}
		return []string{filepath.Join(unifiedCgroupRoot, p, sentryCgroup)}, nil
	}
	var dirs []string
	seen := map[string]bool{}
	for _, ctrl := range sentryControllers {
		p, ok := paths[ctrl]
		if !ok {
			continue // the controller is not mounted
		}
		if !filepath.IsAbs(p) || p == "/" {
			return nil, fmt.Errorf("the container's process is not in a %s cgroup of its own (%q)", ctrl, p)
		}
		mnt, root, err := mountpoint("", ctrl)
		if err != nil {
			return nil, fmt.Errorf("finding the %s cgroup mount: %w", ctrl, err)
		}
		if root != "/" && root != "" {
			rel, ok := strings.CutPrefix(p, root+"/")
			if !ok {
				return nil, fmt.Errorf("the container's %s cgroup %q is not under the mount's root %q", ctrl, p, root)
			}
			p = "/" + rel
		}
		dir := filepath.Join(mnt, p, sentryCgroup)
		if !seen[dir] {
			seen[dir] = true
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) == 0 {
		return nil, errors.New("none of the memory and cpu cgroup controllers is mounted")
	}
	return dirs, nil
}

// withoutSentry drops the container's sentry from a listing of the
// container's cgroup (under cgroup v2 its child cgroup is listed with it):
// it is not one of the container's processes to show or to signal.
func withoutSentry(pids []int, stateDir string) []int {
	spid, ok := sentryPid(stateDir)
	if !ok {
		return pids
	}
	return slices.DeleteFunc(pids, func(p int) bool { return p == spid })
}

// cgroupThreads lists every thread in the container's cgroups, below them
// included, but the sentry's child: the "tasks" files of cgroup v1's pids
// (or freezer, or devices) hierarchy, or cgroup v2's "cgroup.threads".
// libcontainer lists processes ("cgroup.procs"), which shows no process
// whose thread-group leader has exited while other threads of it run on
// (the kernel takes the leader out of its cgroup when it exits).
func cgroupThreads(c *libcontainer.Container) ([]int, error) {
	st, err := c.State()
	if err != nil {
		return nil, err
	}
	dir, file := "", "tasks"
	for _, ctrl := range []string{"pids", "freezer", "devices"} {
		if d := st.CgroupPaths[ctrl]; d != "" {
			dir = d
			break
		}
	}
	if p := st.CgroupPaths[""]; dir == "" && p != "" {
		dir, file = p, "cgroup.threads"
	}
	if dir == "" {
		return nil, errors.New("no cgroup to list threads from")
	}
	var tids []int
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == sentryCgroup && path != dir {
			return filepath.SkipDir
		}
		data, err := os.ReadFile(filepath.Join(path, file))
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(string(data)) {
			if tid, err := strconv.Atoi(f); err == nil {
				tids = append(tids, tid)
			}
		}
		return nil
	})
	return tids, err
}
