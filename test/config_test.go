package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestConfigHonoured runs one container per feature of config.json that
// libcontainer implements for us and checks, from inside, that it took
// effect: rlimits, capabilities, masked and read-only paths, users and
// groups, a seccomp section, namespaces, user namespace id mappings.
func TestConfigHonoured(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   []specOpt
		script string
		want   string // stdout must contain it
		// public makes the bundle's directories world-searchable, which a
		// container root mapped to an unprivileged host uid needs.
		public bool
	}{
		{name: "rlimit", script: "ulimit -n", want: "256\n", opts: []specOpt{func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 512, Soft: 256}}
		}}},
		{name: "capabilities", script: "grep CapEff /proc/self/status", want: "0000000000000020", opts: []specOpt{func(s *specs.Spec) {
			kill := []string{"CAP_KILL"}
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: kill, Effective: kill, Permitted: kill}
		}}},
		{name: "masked-file", script: "wc -c < /proc/kallsyms", want: "0\n", opts: []specOpt{func(s *specs.Spec) {
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/proc/kallsyms")
		}}},
		{name: "masked-directory", script: "ls /sys/firmware | wc -l", want: "0\n", opts: []specOpt{func(s *specs.Spec) {
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/sys/firmware")
		}}},
		{name: "readonly-path", script: "touch /data/x 2>&1 || echo refused", want: "refused", opts: []specOpt{func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs"})
			s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/data")
		}}},
		{name: "readonly-rootfs", script: "touch /x 2>&1 || echo refused", want: "refused"},
		{name: "user-and-groups", script: "id -u; id -g; grep Groups /proc/self/status", want: "1000\n1001\nGroups:\t5 6", opts: []specOpt{func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{5, 6}}
		}}},
		{name: "env-and-cwd", script: "echo $GREETING; pwd", want: "hi\n/dev\n", opts: []specOpt{func(s *specs.Spec) {
			s.Process.Env = append(s.Process.Env, "GREETING=hi")
			s.Process.Cwd = "/dev"
		}}},
		{name: "seccomp-errno", script: "mkdir /dev/shm/d 2>&1; echo rc=$?", want: "rc=1", opts: []specOpt{func(s *specs.Spec) {
			errno := uint(1) // EPERM
			s.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
				Syscalls: []specs.LinuxSyscall{{
					Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &errno,
				}},
			}
		}}},
		{name: "pid-namespace", script: "echo $$", want: "1\n"},
		{name: "network-namespace", script: "ls /sys/class/net", want: "lo\n"},
		{name: "user-namespace", public: true, script: "cat /proc/self/uid_map; id -u", want: "100000", opts: []specOpt{func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			// cgroup v1 cannot be mounted from a user namespace.
			var mounts []specs.Mount
			for _, m := range s.Mounts {
				if m.Type != "cgroup" {
					mounts = append(mounts, m)
				}
			}
			s.Mounts = mounts
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t, append(tc.opts, withArgs("sh", "-c", tc.script))...)
			if tc.public {
				for _, d := range []string{bundle, filepath.Dir(bundle)} {
					if err := os.Chmod(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
			}
			id := newID(t)
			res := r.run("run", "--bundle", bundle, id)
			if res.Code != 0 || !strings.Contains(res.Stdout, tc.want) {
				t.Errorf("want exit 0 and %q in stdout: %s", tc.want, res)
			}
			assertClean(t, r.Root, id, bundle)
		})
	}
}

// TestJoinNamespace starts a container in another container's network
// namespace given by path, as CRI pods share their sandbox's.
func TestJoinNamespace(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	sandbox := newBundle(t)
	sid, sst := r.startContainer(sandbox)
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", sst.Pid))
	if err != nil {
		t.Fatal(err)
	}
	member := newBundle(t, withArgs("readlink", "/proc/self/ns/net"), func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", sst.Pid)
			}
		}
	})
	id := newID(t)
	res := r.run("run", "--bundle", member, id)
	if res.Code != 0 || strings.TrimSpace(res.Stdout) != want {
		t.Errorf("member's network namespace: want %q: %s", want, res)
	}
	r.fails([]string{"/proc/999999999/ns/net"}, "run", "--bundle", newBundle(t, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.IPCNamespace, Path: "/proc/999999999/ns/net"})
	}), newID(t))
	r.stopAndDelete(sid)
	assertClean(t, r.Root, id, member)
	assertClean(t, r.Root, sid, sandbox)
}

// TestCgroupsPath puts the container in the cgroup config.json names, and
// removes that cgroup with the container.
func TestCgroupsPath(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	parent := "syscage-it-" + env.RunTag + "-cgpath"
	id := newID(t)
	bundle := newBundle(t, func(s *specs.Spec) { s.Linux.CgroupsPath = "/" + parent + "/" + id })
	t.Cleanup(func() {
		// The runtime, like runc, leaves the parents it created.
		for _, d := range cgroupDirs() {
			if filepath.Base(d) == parent {
				os.Remove(d)
			}
		}
	})
	r.ok("create", "--bundle", bundle, id)
	r.ok("start", id)
	st := r.waitStatus(id, "running")
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	want := ":pids:/" + parent + "/" + id + "\n"
	if !strings.Contains(string(cg), want) {
		t.Errorf("init's cgroups lack %q:\n%s", want, cg)
	}
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/pids", parent, id)); err != nil {
		t.Errorf("cgroup directory: %v", err)
	}
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, bundle)
}

// TestHooks runs createRuntime, poststart and poststop hooks on the host
// with the container's state on their stdin.
func TestHooks(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	out := t.TempDir()
	hook := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + filepath.Join(out, name+".json")}}
	}
	bundle := newBundle(t, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			CreateRuntime: []specs.Hook{hook("createRuntime")},
			Poststart:     []specs.Hook{hook("poststart")},
			Poststop:      []specs.Hook{hook("poststop")},
		}
		s.Annotations = map[string]string{"org.syscage.test": "hooks"}
	})
	read := func(name string) specs.State {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(out, name+".json"))
		if err != nil {
			t.Fatalf("hook %s did not run: %v", name, err)
		}
		var st specs.State
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatalf("hook %s got no OCI state on stdin: %v: %q", name, err, data)
		}
		return st
	}
	id, cst := r.create(bundle)
	if st := read("createRuntime"); st.ID != id || st.Pid != cst.Pid || st.Bundle != bundle || st.Annotations["org.syscage.test"] != "hooks" {
		t.Errorf("createRuntime hook state %+v, want id %s pid %d bundle %s and the annotation", st, id, cst.Pid, bundle)
	}
	if s := r.state(id); s.Annotations["org.syscage.test"] != "hooks" {
		t.Errorf("state annotations %v lack org.syscage.test", s.Annotations)
	}
	r.ok("start", id)
	r.waitStatus(id, "running")
	if st := read("poststart"); st.ID != id {
		t.Errorf("poststart hook state %+v", st)
	}
	r.ok("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	r.ok("delete", id)
	if st := read("poststop"); st.ID != id {
		t.Errorf("poststop hook state %+v", st)
	}
	assertClean(t, r.Root, id, bundle)
}
