package security

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// identityScript looks for the kernel's identity the way a shell user
// would, then runs /t/probe for the routes a shell cannot take.
const identityScript = `
echo "S uname-r=$(uname -r)"
echo "S uname-v=$(uname -v)"
echo "S uname-a=$(uname -a)"
echo "S version=$(cat /proc/version)"
echo "S osrelease=$(cat /proc/sys/kernel/osrelease)"
echo "S kversion=$(cat /proc/sys/kernel/version)"
dmesg >/dev/null 2>&1; echo "S dmesg-status=$?"
echo "M -- self"; cat /proc/self/mountinfo | sed 's/^/M /'
echo "M -- pid 1"; cat /proc/1/mountinfo | sed 's/^/M /'
cat /proc/self/cgroup | sed 's/^/G /'
/t/probe
`

// identity is what one container reported.
type identity struct {
	out    string
	shell  map[string]string // S lines
	probe  map[string]string // K lines
	mounts string            // M lines
	cgroup string            // G lines: /proc/self/cgroup
}

func runIdentity(t *testing.T, global []string, extra []string, opts ...specOpt) (identity, *runtime, string) {
	t.Helper()
	rt := newRuntime(t)
	b := newBundle(t, append([]specOpt{withArgs("sh", "-c", identityScript)}, opts...)...)
	args := append([]string{"run", "--bundle", b}, extra...)
	res := rt.Run(global, append(args, newID(t))...)
	if res.Code != 0 {
		t.Fatalf("identity container: %s", res)
	}
	id := identity{out: res.Stdout, shell: map[string]string{}, probe: map[string]string{}}
	for _, l := range lines(res.Stdout, "S ") {
		if k, v, ok := strings.Cut(l, "="); ok {
			id.shell[k] = v
		}
	}
	for _, l := range lines(res.Stdout, "K ") {
		if k, v, ok := strings.Cut(l, " "); ok {
			id.probe[k] = v
		}
	}
	id.mounts = strings.Join(lines(res.Stdout, "M "), "\n")
	id.cgroup = strings.Join(lines(res.Stdout, "G "), "\n")
	if !strings.Contains(res.Stdout, "\nDONE\n") {
		t.Errorf("probe did not finish; output:\n%s", res.Stdout)
	}
	return id, rt, b
}

// checkIdentity asserts the container saw release (and the default
// version) by every route, and never the host's.
func checkIdentity(t *testing.T, id identity, release string) {
	t.Helper()
	want := map[string]string{
		"uname-r":   release,
		"uname-v":   defaultVersion,
		"osrelease": release,
		"kversion":  defaultVersion,
	}
	for k, v := range want {
		if id.shell[k] != v {
			t.Errorf("%s: got %q, want %q", k, id.shell[k], v)
		}
	}
	if !strings.Contains(id.shell["uname-a"], " "+release+" ") {
		t.Errorf("uname -a %q does not show release %q", id.shell["uname-a"], release)
	}
	if v := id.shell["version"]; !strings.HasPrefix(v, "Linux version "+release+" ") || !strings.Contains(v, defaultVersion) {
		t.Errorf("/proc/version %q: want Linux version %s ... %s", v, release, defaultVersion)
	}
	if id.probe["uname.call"] != "ret=0 errno=0" || id.probe["uname.release"] != release || id.probe["uname.version"] != defaultVersion {
		t.Errorf("uname(2): call %q release %q version %q, want release %q version %q",
			id.probe["uname.call"], id.probe["uname.release"], id.probe["uname.version"], release, defaultVersion)
	}
	// Nothing anywhere in the output may carry the host's release or build.
	if strings.Contains(id.out, hostRelease) {
		t.Errorf("the host's release %q appears inside the container:\n%s", hostRelease, grepLines(id.out, hostRelease))
	}
	if !strings.Contains(defaultVersion, hostVersion) && strings.Contains(id.out, hostVersion) {
		t.Errorf("the host's version %q appears inside the container:\n%s", hostVersion, grepLines(id.out, hostVersion))
	}
	if hostProcVersion != "" && strings.Contains(id.out, hostProcVersion) {
		t.Errorf("the host's /proc/version appears inside the container")
	}
}

// hostProcVersion is the host's /proc/version, trimmed.
var hostProcVersion = func() string {
	b, _ := os.ReadFile("/proc/version")
	return strings.TrimSpace(string(b))
}()

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, "  "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestIdentityDefault: a default container reports 6.1.0-syscage by every
// route, and nothing it can read names the host's kernel, paths, keys or
// log. The leak checks are subtests, so each leak is reported by name.
func TestIdentityDefault(t *testing.T) {
	t.Parallel()
	id, rt, _ := runIdentity(t, nil, nil)
	checkIdentity(t, id, defaultRelease)

	t.Run("compat-uname", func(t *testing.T) {
		// The 32-bit and x32 entries must not answer uname with the host's
		// release (the filter kills the process or fails the call).
		for _, k := range []string{"int80.call", "x32.call"} {
			if v, ok := id.probe[k]; ok && v == "ret=0 errno=0" {
				t.Errorf("%s succeeded: release %q", k, id.probe[strings.TrimSuffix(k, ".call")+".release"])
			}
		}
	})

	t.Run("mountinfo-syscage-paths", func(t *testing.T) {
		// syscage's own host paths (state root, agent sockets) never show;
		// the kernel-identity files are on a private tmpfs. The bundle's
		// own path is a known exposure (exposures_test.go).
		root, _ := filepath.Abs(rt.Root)
		for name, p := range map[string]string{
			"state root":    root,
			"sentry socket": "/run/syscage-agent",
		} {
			if strings.Contains(id.mounts, p) {
				t.Errorf("/proc/*/mountinfo shows the host path of the %s (%s):\n%s", name, p, grepLines(id.mounts, p))
			}
		}
		if !strings.Contains(id.mounts, "-- self") || !strings.Contains(id.mounts, "-- pid 1") || strings.Count(id.mounts, "\n") < 10 {
			t.Errorf("mountinfo was not read:\n%s", id.mounts)
		}
	})

	t.Run("cgroup-paths", func(t *testing.T) {
		// The container has a cgroup namespace of its own (the config
		// names none; syscage adds it): its cgroup is "/" in every
		// hierarchy, and neither /proc/self/cgroup nor the cgroup mounts
		// in mountinfo show a path of the host's layout, such as this
		// test process's own cgroups.
		if id.cgroup == "" {
			t.Fatalf("/proc/self/cgroup was not read")
		}
		for _, l := range strings.Split(id.cgroup, "\n") {
			if f := strings.SplitN(l, ":", 3); len(f) != 3 || f[2] != "/" {
				t.Errorf("/proc/self/cgroup line %q: want the namespace's root \"/\"", l)
			}
		}
		data, err := os.ReadFile("/proc/self/cgroup")
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			f := strings.SplitN(l, ":", 3)
			if len(f) != 3 || f[2] == "/" {
				continue
			}
			checked++
			if strings.Contains(id.mounts, f[2]) {
				t.Errorf("mountinfo shows the host's cgroup path %s (controller %s):\n%s", f[2], f[1], grepLines(id.mounts, f[2]))
			}
		}
		for _, l := range strings.Split(id.mounts, "\n") {
			if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], "/sys/fs/cgroup/") && f[3] != "/" {
				t.Errorf("cgroup mount %s has root %s, want /", f[4], f[3])
			}
		}
		t.Logf("%d non-root host cgroup path(s) checked", checked)
	})

	t.Run("sys-kernel-notes", func(t *testing.T) {
		// /sys/kernel/notes is the running kernel image's ELF notes: its
		// GNU build id names the host's exact kernel build.
		host, err := os.ReadFile("/sys/kernel/notes")
		if err != nil {
			t.Fatalf("reading the host's /sys/kernel/notes: %v", err)
		}
		if raw := id.probe["notes.raw"]; raw != "" && raw == hex.EncodeToString(host) {
			t.Errorf("/sys/kernel/notes is readable inside and identical to the host's (%d bytes, build id %s)",
				len(host), id.probe["notes.build_id"])
		}
		if id.probe["notes.read"] == "" && id.probe["notes.open"] == "" {
			t.Errorf("probe did not try /sys/kernel/notes")
		}
	})

	t.Run("kernel-build", func(t *testing.T) {
		// The files that name the host's kernel build or memory layout
		// are masked: empty (/dev/null over a file) or absent (an empty
		// tmpfs over a directory, or a file this host lacks). A failure
		// says whether the host has the file.
		for _, f := range []string{"/proc/config.gz", "/proc/version_signature", "/sys/kernel/btf/vmlinux",
			"/sys/kernel/vmcoreinfo", "/sys/kernel/boot_params/data", "/sys/kernel/boot_params/version"} {
			v, ok := id.probe["file."+f]
			if !ok {
				t.Errorf("probe did not try %s", f)
				continue
			}
			if v != "(empty)" && !strings.HasPrefix(v, "open-errno=") {
				host := "absent on the host"
				if _, err := os.Stat(f); err == nil {
					host = "present on the host"
				}
				t.Errorf("%s is readable inside the container (%s): first line %q", f, host, v)
			}
		}
	})

	t.Run("kernel-log", func(t *testing.T) {
		// /proc/kmsg must not open, or be masked (/dev/null bound over it).
		if v := id.probe["kmsg.open"]; !strings.HasPrefix(v, "ret=-1 ") && id.probe["kmsg.masked"] != "yes" {
			t.Errorf("/proc/kmsg opened inside the container (%s) and is not masked", v)
		}
		if v := id.probe["syslog.read_all"]; v != "ret=-1 errno=1" {
			t.Errorf("syslog(SYSLOG_ACTION_READ_ALL): %s, want ret=-1 errno=1 (EPERM)", v)
		}
		if v := id.shell["dmesg-status"]; v == "0" || v == "" {
			t.Errorf("dmesg exited %q, want a failure", v)
		}
	})

	t.Run("keyrings", func(t *testing.T) {
		for _, k := range []string{"keyctl.describe_session", "keyctl.describe_user"} {
			if v := id.probe[k]; v != "ret=-1 errno=1" {
				t.Errorf("%s: %s, want ret=-1 errno=1 (EPERM); session keyring: %q", k, v, id.probe["keyctl.session"])
			}
		}
		if v := id.probe["file./proc/keys"]; v != "(empty)" && !strings.HasPrefix(v, "open-errno=") {
			t.Errorf("/proc/keys lists keys inside the container: %q", v)
		}
	})

	t.Run("key-users", func(t *testing.T) {
		// /proc/key-users is not namespaced: it shows, for each uid, how
		// many keys and keyrings exist on the whole host and the quota
		// used — for uid 0 that counts the host's (and every other
		// container's) root keyrings.
		if v := id.probe["file./proc/key-users"]; v != "(empty)" && !strings.HasPrefix(v, "open-errno=") {
			t.Errorf("/proc/key-users is readable and shows the host's key usage: %q", v)
		}
	})
}

// TestIdentityFlag: --kernel-release sets what every route reports.
func TestIdentityFlag(t *testing.T) {
	t.Parallel()
	const rel = "5.4.0-custom"
	id, _, _ := runIdentity(t, nil, []string{"--kernel-release", rel})
	checkIdentity(t, id, rel)
}

// TestIdentityAnnotation: the dev.syscage.kernel-release annotation does
// the same from the OCI config.
func TestIdentityAnnotation(t *testing.T) {
	t.Parallel()
	const rel = "4.19.0-annotated"
	id, _, _ := runIdentity(t, nil, nil, withAnnotation("dev.syscage.kernel-release", rel))
	checkIdentity(t, id, rel)
}

// TestIdentityEveryTime: the identity mounts are made for every container,
// detached or not, and seen by exec'd processes. (They were once skipped
// at random when the runtime mistook its own main thread's namespace,
// parked in a container's by libcontainer, for the runtime's.)
func TestIdentityEveryTime(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("sleep", "60"))
	for i := 0; i < 12; i++ {
		id := newID(t)
		if res := rt.Run(nil, "run", "--detach", "--bundle", b, id); res.Code != 0 {
			t.Fatalf("run -d: %s", res)
		}
		res := rt.Run(nil, "exec", id, "cat", "/proc/version", "/proc/sys/kernel/osrelease")
		if res.Code != 0 || !strings.HasPrefix(res.Stdout, "Linux version "+defaultRelease+" ") ||
			!strings.Contains(res.Stdout, "\n"+defaultRelease+"\n") {
			t.Errorf("container %d: /proc/version and osrelease: %s", i, res)
		}
		if res := rt.Run(nil, "delete", "--force", id); res.Code != 0 {
			t.Fatalf("delete: %s", res)
		}
	}
}
