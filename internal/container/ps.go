package container

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Processes returns the host pids of every process in a container's cgroup.
func (rt *Runtime) Processes(id string) ([]int, error) {
	c, err := rt.Load(id)
	if err != nil {
		return nil, err
	}
	pids, err := c.Processes()
	if err != nil {
		return nil, fmt.Errorf("container %q: listing processes: %w", id, err)
	}
	pids = withoutSentry(pids, filepath.Join(rt.Root, id))
	// The views server shares the container's cgroup on v2 (its memory
	// and CPU are the container's), but it is not the container's process.
	if vpid, ok := viewsPid(filepath.Join(rt.Root, id)); ok {
		pids = slices.DeleteFunc(pids, func(p int) bool { return p == vpid })
	}
	if pids == nil {
		pids = []int{}
	}
	return pids, nil
}

// FilterPS keeps the header of a host `ps` listing and the lines whose PID
// column holds one of pids.
func FilterPS(out string, pids []int) (string, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	col := -1
	for i, name := range strings.Fields(lines[0]) {
		if name == "PID" {
			col = i
			break
		}
	}
	if col < 0 {
		return "", errors.New("ps output has no PID column (keep pid in the -o fields)")
	}
	want := make(map[int]bool, len(pids))
	for _, p := range pids {
		want[p] = true
	}
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		pid, err := strconv.Atoi(f[col])
		if err != nil {
			return "", fmt.Errorf("ps output: PID column holds %q in line %q", f[col], line)
		}
		if want[pid] {
			b.WriteString(line + "\n")
		}
	}
	return b.String(), nil
}
