package security

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/syscage/syscage/internal/container"
	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// sentryCaps is CAP_SYS_PTRACE (19) and CAP_SYS_CHROOT (18): all a
// production sentry holds.
const sentryCaps = "00000000000c0000"

// TestSentryLeastAuthority looks at a running container's sentry from the
// host, for each identity of the matrix: it runs as an id of its own
// (DefaultSentryIDs: no workload's, so no process but root's can signal
// it or share its per-user limits; named syscage-sentry) with only its
// two capabilities (effective, permitted, bounding and ambient), with
// no_new_privs and its own filter, jailed in an empty directory, not
// dumpable (its /proc files are root's, so no process of its uid can read
// its memory or fds), and charged to the container: in a child of the
// container's memory and cpu cgroups (not pids: see sentryControllers),
// with the container's OOM score; it serves from the container's pid
// namespace, where the container's signals to all do not end it. `ps`
// does not list it, the workload is served as before, and
// nothing of it is left after delete.
func TestSentryLeastAuthority(t *testing.T) {
	t.Parallel()
	release, err := sandboxtest.SandboxRelease()
	if err != nil {
		t.Fatal(err)
	}
	for _, ident := range sandboxtest.Identities {
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			rt := newRuntime(t)
			b := newBundle(t, withArgs("sleep", "100000"), ident.Opt)
			id := newID(t)
			if res := rt.Run(nil, "run", "-d", "--bundle", b, id); res.Code != 0 {
				t.Fatalf("run -d: %s", res)
			}
			stateDir := filepath.Join(rt.Root, id)
			spid := sandboxtest.ReadPidFile(t, filepath.Join(stateDir, "sentry.pid"))
			res := rt.Run(nil, "state", id)
			var st struct{ Pid int }
			if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &st) != nil || st.Pid <= 0 {
				t.Fatalf("state: %s", res)
			}

			// It serves from the container's pid namespace, with a procfs
			// of that namespace: it names no process outside it.
			if a, b := nsLink(t, spid, "pid"), nsLink(t, st.Pid, "pid"); a != b {
				t.Errorf("sentry pid namespace %s, the container's %s", a, b)
			}
			if res := rt.Run(nil, "state", id); !strings.Contains(res.Stdout, `"sentryServesFrom": "the container's pid namespace"`) {
				t.Errorf("state does not say the sentry serves from the container's pid namespace: %s", res)
			}
			// The container sees it, and cannot end it with a signal
			// its root may send to all (a shutdown's kill -1), nor read
			// its environment or fds; the container's root (uid 0,
			// CAP_KILL) could SIGKILL it, which stops the container
			// (TestSentryKilledFromInside).
			nspid := strings.Fields(procStatus(t, spid, "NSpid"))
			inside := nspid[len(nspid)-1]
			script := "kill -TERM -1; kill -USR1 -1; kill -HUP " + inside + "; cat /proc/" + inside + "/environ && echo ENVIRON; ls /proc/" + inside + "/fd/ 2>/dev/null | grep -q . && readlink /proc/" + inside + "/fd/* && echo FDS; true"
			if res := rt.Run(nil, "exec", id, "sh", "-c", script); res.Code != 0 || strings.Contains(res.Stdout, "ENVIRON") || strings.Contains(res.Stdout, "FDS") {
				t.Errorf("from inside: %s", res)
			}
			if _, err := os.Stat("/proc/" + strconv.Itoa(spid)); err != nil {
				t.Errorf("the sentry did not outlive kill -1 from inside: %v", err)
			}

			// Its own id, from the range no workload may have, not nobody's.
			uid, err := strconv.ParseUint(strings.Fields(procStatus(t, spid, "Uid"))[0], 10, 32)
			if r := container.DefaultSentryIDs; err != nil || uid < uint64(r.First) || uid >= uint64(r.First)+uint64(r.Size) {
				t.Errorf("sentry uid %d (%v), want one of [%d, +%d)", uid, err, r.First, r.Size)
			}
			ids := strings.Repeat(strconv.FormatUint(uid, 10)+"\t", 3) + strconv.FormatUint(uid, 10)
			if comm := sandboxtest.ReadTrim(t, "/proc/"+strconv.Itoa(spid)+"/comm"); comm != "syscage-sentry" {
				t.Errorf("sentry comm %q, want syscage-sentry", comm)
			}
			for field, want := range map[string]string{
				"Uid": ids, "Gid": ids,
				"Groups": "", "CapEff": sentryCaps, "CapPrm": sentryCaps, "CapBnd": sentryCaps,
				"CapAmb": sentryCaps, "CapInh": sentryCaps, "NoNewPrivs": "1", "Seccomp": "2",
			} {
				if got := procStatus(t, spid, field); got != want {
					t.Errorf("sentry %s: %q, want %q", field, got, want)
				}
			}
			if root, err := os.Readlink("/proc/" + strconv.Itoa(spid) + "/root"); err != nil || root != "/run/syscage-empty" {
				t.Errorf("sentry root: %q (%v), want /run/syscage-empty", root, err)
			}
			if fi, err := os.Stat("/proc/" + strconv.Itoa(spid) + "/mem"); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 {
				t.Errorf("sentry /proc/<pid>/mem: %v (%v): a dumpable sentry's files are its uid's", fi, err)
			}
			if entries, err := os.ReadDir("/run/syscage-empty"); err != nil || len(entries) != 0 {
				t.Errorf("the jail is not empty: %v %v", entries, err)
			}

			initCg, sentryCg := procCgroups(t, st.Pid), procCgroups(t, spid)
			for _, ctrl := range []string{"memory", "cpu", "cpuacct"} {
				if initCg[ctrl] == "" || initCg[ctrl] == "/" {
					t.Fatalf("the container has no %s cgroup of its own: %v", ctrl, initCg)
				}
				if want := initCg[ctrl] + "/syscage-sentry"; sentryCg[ctrl] != want {
					t.Errorf("sentry %s cgroup: %q, want %q", ctrl, sentryCg[ctrl], want)
				}
			}
			if a, b := sandboxtest.ReadTrim(t, "/proc/"+strconv.Itoa(spid)+"/oom_score_adj"), sandboxtest.ReadTrim(t, "/proc/"+strconv.Itoa(st.Pid)+"/oom_score_adj"); a != b {
				t.Errorf("sentry oom_score_adj %s, container's %s", a, b)
			}

			res = rt.Run(nil, "ps", "--format", "json", id)
			var pids []int
			if res.Code != 0 || json.Unmarshal([]byte(res.Stdout), &pids) != nil {
				t.Fatalf("ps: %s", res)
			}
			for _, p := range pids {
				if p == spid {
					t.Errorf("ps lists the sentry (pid %d): %v", spid, pids)
				}
			}
			if res := rt.Run(nil, "exec", id, "uname", "-r"); res.Code != 0 || strings.TrimSpace(res.Stdout) != release {
				t.Errorf("exec uname -r: %s, want %q", res, release)
			}

			if res := rt.Run(nil, "delete", "--force", id); res.Code != 0 {
				t.Fatalf("delete: %s", res)
			}
			if strings.HasPrefix(sentryCg["pids"], initCg["pids"]) {
				t.Errorf("the sentry is charged to the container's pids cgroup: %q under %q", sentryCg["pids"], initCg["pids"])
			}
			for _, ctrl := range []string{"memory", "cpu", "cpuacct"} {
				dir := filepath.Join("/sys/fs/cgroup", ctrl, initCg[ctrl], "syscage-sentry")
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("%s left after delete", dir)
				}
			}
			if _, err := os.Stat("/proc/" + strconv.Itoa(spid)); err == nil && strings.Contains(sandboxtest.ReadTrim(t, "/proc/"+strconv.Itoa(spid)+"/cmdline"), id) {
				t.Errorf("the sentry (pid %d) outlived delete", spid)
			}
		})
	}
}

// procCgroups is /proc/<pid>/cgroup as controller → path (v1 lines; the
// v2 line under "").
func procCgroups(t *testing.T, pid int) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(sandboxtest.ReadTrim(t, "/proc/"+strconv.Itoa(pid)+"/cgroup"), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			m[c] = parts[2]
		}
	}
	return m
}

// nsLink is the namespace of a kind pid is in.
func nsLink(t *testing.T, pid int, kind string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSentryOutsideForPtrace: CAP_SYS_PTRACE over the host's user
// namespace reaches any process of the pid namespace a holder can name,
// its sentry included. A container created with it keeps its sentry in
// the runtime's pid namespace (state says why); a process exec'd with it
// into a container whose sentry serves from inside is refused, and the
// container runs on.
func TestSentryOutsideForPtrace(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)

	b := newBundle(t, withArgs("sleep", "100000"), withCapability("CAP_SYS_PTRACE"))
	id := newID(t)
	if res := rt.Run(nil, "run", "-d", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	spid := sandboxtest.ReadPidFile(t, filepath.Join(rt.Root, id, "sentry.pid"))
	if a, b := nsLink(t, spid, "pid"), nsLink(t, os.Getpid(), "pid"); a != b {
		t.Errorf("the sentry of a container with CAP_SYS_PTRACE is in pid namespace %s, want the runtime's %s", a, b)
	}
	if res := rt.Run(nil, "state", id); !strings.Contains(res.Stdout, "the runtime's pid namespace: the container holds CAP_SYS_PTRACE") {
		t.Errorf("state does not say why the sentry serves from the runtime's pid namespace: %s", res)
	}
	if res := rt.Run(nil, "exec", id, "true"); res.Code != 0 {
		t.Errorf("exec: %s", res)
	}
	rt.Run(nil, "delete", "--force", id)

	b = newBundle(t, withArgs("sleep", "100000"))
	id = newID(t)
	if res := rt.Run(nil, "run", "-d", "--bundle", b, id); res.Code != 0 {
		t.Fatalf("run -d: %s", res)
	}
	res := rt.Run(nil, "exec", "--cap", "CAP_SYS_PTRACE", id, "true")
	if res.Code == 0 || !strings.Contains(res.Stderr, "CAP_SYS_PTRACE") || !strings.Contains(res.Stderr, "where the sentry of container") {
		t.Errorf("exec --cap CAP_SYS_PTRACE: %s\nwant a refusal naming the capability and the sentry", res)
	}
	if res := rt.Run(nil, "exec", id, "true"); res.Code != 0 {
		t.Errorf("exec after the refusal: %s", res)
	}
	rt.Run(nil, "delete", "--force", id)
}
