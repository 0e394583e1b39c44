package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// badCase is one request the runtime must refuse: a clear error naming the
// problem, a non-zero exit, and nothing left behind.
type badCase struct {
	name string
	// setup prepares the bundle (if any) and returns the command line
	// (after --root) and the container id it names.
	setup func(t *testing.T, bundle string) (args []string, id string)
	want  []string // each must appear in the error output
}

// withConfig replaces the bundle's config.json with raw text.
func withConfig(t *testing.T, bundle, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editSpec rewrites the bundle's config.json: newBundle's, changed by f.
func editSpec(t *testing.T, bundle string, f func(*specs.Spec)) {
	t.Helper()
	writeSpec(t, bundle, env.Spec(t, bundle, f))
}

// createWith returns a setup that edits the spec and runs create.
func createWith(f func(*specs.Spec)) func(*testing.T, string) ([]string, string) {
	return func(t *testing.T, bundle string) ([]string, string) {
		editSpec(t, bundle, f)
		id := newID(t)
		return []string{"create", "--bundle", bundle, id}, id
	}
}

// createRaw returns a setup that writes config.json verbatim and creates.
func createRaw(text string) func(*testing.T, string) ([]string, string) {
	return func(t *testing.T, bundle string) ([]string, string) {
		withConfig(t, bundle, text)
		id := newID(t)
		return []string{"create", "--bundle", bundle, id}, id
	}
}

// createID returns a setup that creates a valid bundle under the given id.
func createID(id string) func(*testing.T, string) ([]string, string) {
	return func(t *testing.T, bundle string) ([]string, string) {
		return []string{"create", "--bundle", bundle, id}, id
	}
}

// TestBadInput runs every refused request in its own root and bundle.
func TestBadInput(t *testing.T) {
	t.Parallel()
	tag := "it" + env.RunTag
	cases := []badCase{
		{name: "missing-config", want: []string{"config.json"}, setup: func(t *testing.T, b string) ([]string, string) {
			os.Remove(filepath.Join(b, "config.json"))
			id := newID(t)
			return []string{"create", "--bundle", b, id}, id
		}},
		{name: "missing-config-run", want: []string{"config.json"}, setup: func(t *testing.T, b string) ([]string, string) {
			os.Remove(filepath.Join(b, "config.json"))
			id := newID(t)
			return []string{"run", "--bundle", b, id}, id
		}},
		{name: "missing-bundle", want: []string{"/no/such/bundle"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"create", "--bundle", "/no/such/bundle", id}, id
		}},
		{name: "malformed-json", want: []string{"config.json", "json"},
			setup: createRaw(`{"ociVersion": "1.2.1", "process": {"args": ["sh"]`)},
		{name: "not-json", want: []string{"config.json"}, setup: createRaw("ociVersion: 1.2.1\n")},
		{name: "wrong-type-args", want: []string{"config.json", "process.args"},
			setup: createRaw(`{"ociVersion": "1.2.1", "process": {"args": "sh", "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {}}`)},
		{name: "wrong-type-version", want: []string{"config.json", "ociVersion"},
			setup: createRaw(`{"ociVersion": 1, "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {}}`)},
		{name: "wrong-type-terminal", want: []string{"config.json", "terminal"},
			setup: createRaw(`{"ociVersion": "1.2.1", "process": {"terminal": "yes", "args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {}}`)},
		{name: "missing-rootfs", want: []string{"root.path", "rootfs"}, setup: func(t *testing.T, b string) ([]string, string) {
			if err := os.RemoveAll(filepath.Join(b, "rootfs")); err != nil {
				t.Fatal(err)
			}
			id := newID(t)
			return []string{"create", "--bundle", b, id}, id
		}},
		{name: "rootfs-path-nonexistent", want: []string{"root.path", "/no/such/rootfs"},
			setup: createWith(func(s *specs.Spec) { s.Root.Path = "/no/such/rootfs" })},
		{name: "rootfs-not-a-directory", want: []string{"root.path", "not a directory"}, setup: func(t *testing.T, b string) ([]string, string) {
			if err := os.WriteFile(filepath.Join(b, "rootfs-file"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			return createWith(func(s *specs.Spec) { s.Root.Path = "rootfs-file" })(t, b)
		}},
		{name: "missing-root", want: []string{"root"}, setup: createWith(func(s *specs.Spec) { s.Root = nil })},
		{name: "missing-process", want: []string{"process"}, setup: createWith(func(s *specs.Spec) { s.Process = nil })},
		{name: "missing-process-args", want: []string{"process.args"}, setup: createWith(func(s *specs.Spec) { s.Process.Args = nil })},
		{name: "relative-cwd", want: []string{"process.cwd", "tmp"}, setup: createWith(func(s *specs.Spec) { s.Process.Cwd = "tmp" })},
		{name: "missing-linux", want: []string{"linux"}, setup: createWith(func(s *specs.Spec) { s.Linux = nil })},
		{name: "unknown-namespace", want: []string{"namespace", "bogusns"}, setup: createWith(func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogusns"})
		})},
		{name: "unknown-rlimit", want: []string{"RLIMIT_BOGUS"}, setup: createWith(func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_BOGUS", Hard: 1, Soft: 1})
		})},
		{name: "bind-source-missing", want: []string{"/no/such/source"}, setup: createWith(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/no/such/source", Options: []string{"rbind"}})
		})},
		// A missing cwd is created (as runc does); a file cannot be one.
		{name: "cwd-is-a-file", want: []string{"/etc/passwd"}, setup: createWith(func(s *specs.Spec) { s.Process.Cwd = "/etc/passwd" })},
		{name: "failing-createRuntime-hook", want: []string{"hook"}, setup: createWith(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-said-no >&2; exit 3"}}}}
		})},
		{name: "missing-hook-binary", want: []string{"/no/such/hook"}, setup: createWith(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/no/such/hook"}}}
		})},
		{name: "empty-id", want: []string{"id"}, setup: createID("")},
		{name: "id-dotdot-slash", want: []string{"id", "../" + tag + "-escape"}, setup: createID("../" + tag + "-escape")},
		{name: "id-slash", want: []string{"id", "a/" + tag + "-slash"}, setup: createID("a/" + tag + "-slash")},
		{name: "id-dotdot", want: []string{"id"}, setup: createID("..")},
		{name: "id-space", want: []string{"id"}, setup: createID(tag + " space")},
		{name: "run-invalid-id", want: []string{"id"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := "b/" + tag + "-run"
			return []string{"run", "--bundle", b, id}, id
		}},
		{name: "terminal-without-console-socket", want: []string{"console-socket"}, setup: createWith(func(s *specs.Spec) {
			s.Process.Terminal = true
			s.Process.Args = []string{"sh"}
		})},
		{name: "console-socket-missing", want: []string{"/no/such/console.sock"}, setup: func(t *testing.T, b string) ([]string, string) {
			editSpec(t, b, func(s *specs.Spec) { s.Process.Terminal = true; s.Process.Args = []string{"sh"} })
			id := newID(t)
			return []string{"create", "--console-socket", "/no/such/console.sock", "--bundle", b, id}, id
		}},
		{name: "pid-file-dir-missing", want: []string{"pid file", "/no/such/dir/"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"create", "--pid-file", "/no/such/dir/pid", "--bundle", b, id}, id
		}},
		{name: "preserve-fds-not-open", want: []string{"preserve-fds"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"create", "--preserve-fds", "50", "--bundle", b, id}, id
		}},
		{name: "console-socket-not-a-socket", want: []string{"console socket"}, setup: func(t *testing.T, b string) ([]string, string) {
			editSpec(t, b, func(s *specs.Spec) { s.Process.Terminal = true; s.Process.Args = []string{"sh"} })
			id := newID(t)
			return []string{"create", "--console-socket", filepath.Join(b, "config.json"), "--bundle", b, id}, id
		}},
		{name: "console-socket-without-terminal", want: []string{"console-socket"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"create", "--console-socket", filepath.Join(b, "sock"), "--bundle", b, id}, id
		}},
		{name: "run-unrunnable", want: []string{"/no/such/binary"}, setup: func(t *testing.T, b string) ([]string, string) {
			editSpec(t, b, func(s *specs.Spec) { s.Process.Args = []string{"/no/such/binary"} })
			id := newID(t)
			return []string{"run", "--bundle", b, id}, id
		}},
		{name: "systemd-cgroup-without-systemd", want: []string{"systemd"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"--systemd-cgroup", "create", "--bundle", b, id}, id
		}},
		{name: "unknown-command", want: []string{"frobnicate"}, setup: func(t *testing.T, b string) ([]string, string) {
			return []string{"frobnicate", newID(t)}, ""
		}},
		{name: "unknown-create-flag", want: []string{"frobnicate"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"create", "--frobnicate", "--bundle", b, id}, id
		}},
		{name: "unknown-global-flag", want: []string{"frobnicate"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"--frobnicate", "create", "--bundle", b, id}, id
		}},
		{name: "bad-log-format", want: []string{"log-format"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"--log-format", "yaml", "create", "--bundle", b, id}, id
		}},
		{name: "create-without-id", want: []string{"argument"}, setup: func(t *testing.T, b string) ([]string, string) {
			return []string{"create", "--bundle", b}, ""
		}},
		{name: "create-extra-argument", want: []string{"argument"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"create", "--bundle", b, id, "extra"}, id
		}},
		{name: "start-nonexistent", want: []string{"does not exist"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"start", id}, id
		}},
		{name: "state-nonexistent", want: []string{"does not exist"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"state", id}, id
		}},
		{name: "delete-nonexistent", want: []string{"does not exist"}, setup: func(t *testing.T, b string) ([]string, string) {
			id := newID(t)
			return []string{"delete", id}, id
		}},
		{name: "state-traversal-id", want: []string{"id"}, setup: func(t *testing.T, b string) ([]string, string) {
			return []string{"state", "../../etc"}, ""
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t)
			args, id := tc.setup(t, bundle)
			res := r.run(args...)
			t.Logf("exit %d: %s", res.Code, strings.TrimSpace(res.Stderr))
			checkFailure(t, res, tc.want...)
			if entries, _ := os.ReadDir(r.Root); len(entries) != 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("state root %s not empty after a refused request: %v", r.Root, names)
			}
			assertClean(t, r.Root, id, bundle)
		})
	}
}

// TestDuplicateID refuses a second container with the same id and leaves
// the first one intact and usable.
func TestDuplicateID(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bundle := newBundle(t)
	other := newBundle(t, withArgs("sh", "-c", "exit 0"))
	for _, cmd := range []string{"create", "run"} {
		t.Run(cmd, func(t *testing.T) {
			id, st := r.create(bundle)
			stateDir := filepath.Join(r.Root, id)
			before, err := os.ReadFile(filepath.Join(stateDir, "state.json"))
			if err != nil {
				t.Fatal(err)
			}
			r.fails([]string{id, "already exists"}, cmd, "--bundle", other, id)
			after, err := os.ReadFile(filepath.Join(stateDir, "state.json"))
			if err != nil {
				t.Fatalf("the first container's state is gone: %v", err)
			}
			if string(before) != string(after) {
				t.Errorf("a refused duplicate changed the first container's state.json")
			}
			s := r.state(id)
			if s.Status != "created" || s.Pid != st.Pid || s.Bundle != bundle || !processExists(st.Pid) {
				t.Fatalf("first container after a duplicate %s: %+v, want created pid %d bundle %s", cmd, s, st.Pid, bundle)
			}
			// Still fully usable.
			r.ok("start", id)
			r.waitStatus(id, "running")
			if res := r.ok("exec", id, "hostname"); res.Stdout != "syscage-it\n" {
				t.Errorf("exec in the first container: %s", res)
			}
			r.stopAndDelete(id)
			assertClean(t, r.Root, id, bundle)
			assertClean(t, r.Root, id, other)
		})
	}
}

// TestUnrunnableProgram gives the container a program that cannot be
// executed. Either create refuses it, naming the program, or start
// reports the failure (or the container stops at once); in every case
// delete leaves nothing behind.
func TestUnrunnableProgram(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prog string
		want       string
	}{
		{name: "missing", prog: "/no/such/binary", want: "/no/such/binary"},
		{name: "not-executable", prog: "/etc/passwd", want: "permission denied"},
		{name: "directory", prog: "/tmp", want: "/tmp"},
		{name: "not-on-path", prog: "no-such-command", want: "no-such-command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t, withArgs(tc.prog))
			id := newID(t)
			res := r.run("create", "--bundle", bundle, id)
			if res.Code != 0 {
				checkFailure(t, res, tc.want)
				assertClean(t, r.Root, id, bundle)
				return
			}
			t.Logf("create accepted %s; start must report it", tc.prog)
			res = r.run("start", id)
			if res.Code == 0 {
				if s := r.waitStatus(id, "stopped"); s.Status != "stopped" {
					t.Errorf("unrunnable %s: start succeeded and the container is %q", tc.prog, s.Status)
				}
			} else {
				checkFailure(t, res, tc.want)
			}
			r.ok("delete", "--force", id)
			assertClean(t, r.Root, id, bundle)
		})
	}
}

// TestCreateAfterFailure checks that a refused create does not poison the
// id: the same id then works with a good bundle.
func TestCreateAfterFailure(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	bad := newBundle(t, withArgs("/no/such/binary"))
	good := newBundle(t)
	id := newID(t)
	if res := r.run("create", "--bundle", bad, id); res.Code == 0 {
		r.ok("delete", "--force", id)
	}
	r.ok("create", "--bundle", good, id)
	r.ok("start", id)
	r.waitStatus(id, "running")
	r.stopAndDelete(id)
	assertClean(t, r.Root, id, good)
	assertClean(t, r.Root, id, bad)
}

// TestConcurrentDuplicateCreate races creates of one id: exactly one wins,
// the others are told the id exists, and the winner works. The race is
// narrow, so it is run several rounds.
func TestConcurrentDuplicateCreate(t *testing.T) {
	t.Parallel()
	const n, rounds = 20, 5
	r := newRuntime(t)
	bundle := newBundle(t)
	for round := 0; round < rounds; round++ {
		id := newID(t)
		cmds := make([]*command, n)
		for i := range cmds {
			cmds[i] = r.command("create", "--bundle", bundle, id)
		}
		for _, c := range cmds {
			c.Start()
		}
		var won int
		for _, c := range cmds {
			res := c.Wait()
			if res.Code == 0 {
				won++
				continue
			}
			checkFailure(t, res, "already exists")
		}
		if won != 1 {
			t.Fatalf("%d of %d concurrent creates of one id succeeded, want 1", won, n)
		}
		st := r.waitStatus(id, "created")
		if !processExists(st.Pid) {
			t.Fatalf("the winner's init %d is gone", st.Pid)
		}
		r.ok("start", id)
		r.waitStatus(id, "running")
		r.stopAndDelete(id)
		assertClean(t, r.Root, id, bundle)
	}
}

// TestDotIDs refuses "." and ".." as container ids in every command that
// takes one. Joined to the state root they name the root itself and its
// parent: a delete that removed them would wipe every container's state
// (orphaning running containers) or whatever directory holds the root.
func TestDotIDs(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{".", ".."} {
		t.Run(bad, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			bundle := newBundle(t)
			id, st := r.startContainer(bundle)
			t.Cleanup(func() {
				if t.Failed() {
					rescue(r.Root, id, bundle)
				}
			})
			sentinel := filepath.Join(filepath.Dir(r.Root), "sentinel")
			if err := os.WriteFile(sentinel, []byte("keep"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"state", bad}, {"start", bad}, {"kill", bad, "KILL"}, {"exec", bad, "true"},
				{"pause", bad}, {"resume", bad}, {"ps", bad}, {"events", "--stats", bad},
				{"update", "--pids-limit", "10", bad}, {"delete", bad}, {"delete", "--force", bad},
			} {
				r.fails([]string{"id"}, args...)
				// Stop at the first damage: later commands would only report it again.
				if !fileExists(sentinel) {
					t.Fatalf("syscage %v removed %s, next to the state root %s", args, sentinel, r.Root)
				}
				if !fileExists(filepath.Join(r.Root, id, "state.json")) {
					t.Fatalf("syscage %v removed the state of running container %s (pid %d)", args, id, st.Pid)
				}
			}
			if s := r.state(id); s.Status != "running" || s.Pid != st.Pid {
				t.Errorf("container after dot-id commands: %+v", s)
			}
			r.stopAndDelete(id)
			assertClean(t, r.Root, id, bundle)
		})
	}
}
