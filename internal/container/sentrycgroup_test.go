package container

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSentryCgroupDirs(t *testing.T) {
	mounts := func(_, subsystem string) (string, string, error) {
		switch subsystem {
		case "memory", "pids":
			return "/sys/fs/cgroup/" + subsystem, "/", nil
		case "cpu", "cpuacct":
			return "/sys/fs/cgroup/cpu,cpuacct", "/", nil
		}
		return "", "", errors.New("not mounted")
	}
	// The runtime in a container (Docker-in-Docker, kind) without a cgroup
	// namespace: its mounts' roots are its own cgroup.
	nested := func(_, subsystem string) (string, string, error) {
		if subsystem == "memory" {
			return "/sys/fs/cgroup/memory", "/docker/abc", nil
		}
		return "", "", errors.New("not mounted")
	}
	for _, tc := range []struct {
		name    string
		paths   map[string]string
		unified bool
		nested  bool
		want    []string
		err     string
	}{
		{
			name:  "v1, cpu and cpuacct mounted together",
			paths: map[string]string{"memory": "/c1", "pids": "/c1", "cpu": "/c1", "cpuacct": "/c1", "devices": "/c1", "": "/"},
			want:  []string{"/sys/fs/cgroup/memory/c1/syscage-sentry", "/sys/fs/cgroup/cpu,cpuacct/c1/syscage-sentry"},
		},
		{
			name:  "v1 under a systemd slice",
			paths: map[string]string{"memory": "/system.slice/syscage-c1.scope", "pids": "/system.slice/syscage-c1.scope", "cpu": "/system.slice/syscage-c1.scope"},
			want:  []string{"/sys/fs/cgroup/memory/system.slice/syscage-c1.scope/syscage-sentry", "/sys/fs/cgroup/cpu,cpuacct/system.slice/syscage-c1.scope/syscage-sentry"},
		},
		{
			name:    "v2",
			paths:   map[string]string{"": "/kubepods/pod1/c1"},
			unified: true,
			want:    []string{"/sys/fs/cgroup/kubepods/pod1/c1/syscage-sentry"},
		},
		{name: "v1, nested", nested: true, paths: map[string]string{"memory": "/docker/abc/c1"}, want: []string{"/sys/fs/cgroup/memory/c1/syscage-sentry"}},
		{name: "v1, nested, outside the mount's root", nested: true, paths: map[string]string{"memory": "/other/c1"}, err: "not under the mount's root"},
		{name: "v1, the container in the root memory cgroup", paths: map[string]string{"memory": "/"}, err: "not in a memory cgroup of its own"},
		{name: "v1, no controller that charges", paths: map[string]string{"devices": "/c1", "pids": "/c1"}, err: "none of the memory and cpu"},
		{name: "v2, the root cgroup", paths: map[string]string{"": "/"}, unified: true, err: "root cgroup"},
		{name: "v2, no v2 path", paths: map[string]string{"memory": "/c1"}, unified: true, err: "no cgroup v2 path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			find := mounts
			if tc.nested {
				find = nested
			}
			got, err := sentryCgroupDirs(tc.paths, tc.unified, find)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMapped(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		id            uint32
		want          bool
	}{
		{"initial namespace", "         0          0 4294967295\n", 65534, true},
		{"rootless Podman's subordinate range", "0 1000 1\n1 100000 65536\n", 65534, true},
		{"a single mapping of root", "0 1000 1\n", 65534, false},
		{"range ending just below", "0 100000 65534\n", 65534, false},
		{"empty", "", 65534, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(f, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := mapped(f, tc.id); got != tc.want {
				t.Errorf("mapped(%q, %d) = %v, want %v", tc.content, tc.id, got, tc.want)
			}
		})
	}
	if mapped(filepath.Join(dir, "missing"), 0) {
		t.Error("a missing map file maps an id")
	}
}
