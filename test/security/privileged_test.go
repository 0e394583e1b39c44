package security

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// sharedHostDir is a directory on the host made a shared mount of its
// own (as Kubernetes requires of a Bidirectional volume's source), which
// a container may write and mount into. Everything mounted on or under
// it is detached when t ends.
func sharedHostDir(t *testing.T) string {
	t.Helper()
	dir := sandboxtest.ShortTempDir(t, "scpriv")
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting %s on itself: %v", dir, err)
	}
	t.Cleanup(func() {
		for _, m := range hostMountsUnder(t, dir) {
			_ = unix.Unmount(m, unix.MNT_DETACH)
		}
		_ = unix.Unmount(dir, unix.MNT_DETACH)
	})
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("making %s shared: %v", dir, err)
	}
	return dir
}

// hostMountsUnder lists the host's mount points strictly below dir.
func hostMountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append(out, f[4])
		}
	}
	return out
}

// withBidirectional binds src at dst as Kubernetes' Bidirectional mount
// propagation does through containerd: the mount rshared, and the root's
// propagation rshared so the bind stays in the host's peer group.
func withBidirectional(src, dst string) specOpt {
	return func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"rbind", "rshared", "rw"}})
		s.Linux.RootfsPropagation = "rshared"
	}
}

// TestPrivilegedMountsStayInside: a privileged container (CAP_SYS_ADMIN)
// mounts and unmounts in its own mount namespace — as host root and as
// root in a user namespace — and what it mounts under a Bidirectional
// (rshared) volume does not reach the host: the volume is a slave of the
// host's mount in the container, and the host has no new mount and no
// file the container wrote.
func TestPrivilegedMountsStayInside(t *testing.T) {
	for _, ident := range sandboxtest.Identities {
		if ident.Name != "userns" {
			continue // root: TestPrivilegedOverHostUserNamespace; uid 1000 holds no capability
		}
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			host := sharedHostDir(t)
			rt := newRuntime(t)
			script := `mount -t tmpfs none /target && echo inside > /target/f && cat /target/f && umount /target && ls /target | wc -l
mkdir -p /ctl/sub && mount -t tmpfs none /ctl/sub && touch /ctl/sub/from-container && echo mounted-under-volume
grep ' /ctl ' /proc/self/mountinfo`
			b := newBundle(t, withArgs("sh", "-c", script), ident.Opt, withCapability("CAP_SYS_ADMIN"), withBidirectional(host, "/ctl"))
			res := rt.Container(b, nil)
			if res.Code != 0 || !strings.HasPrefix(res.Stdout, "inside\n0\nmounted-under-volume\n") {
				t.Fatalf("want the container's mounts to work: %s", res)
			}
			info := strings.TrimPrefix(res.Stdout, "inside\n0\nmounted-under-volume\n")
			if !strings.Contains(info, " master:") || strings.Contains(info, " shared:") {
				t.Errorf("the volume in the container is not a slave of the host's mount: %s", info)
			}
			if !strings.Contains(res.Stderr, "propagation rshared: rslave instead") {
				t.Errorf("no warning that rshared became rslave: %s", res)
			}
			if m := hostMountsUnder(t, host); len(m) > 0 {
				t.Errorf("the container's mount reached the host: %v", m)
			}
			if _, err := os.Stat(filepath.Join(host, "sub", "from-container")); err == nil {
				t.Errorf("the host sees the file the container wrote into its own mount")
			}
		})
	}
}

// TestPrivilegedInHostMountNamespace: a privileged container that shares
// the host's mount namespace (its config lists no mount namespace; runc
// then only changes its root) cannot mount or unmount anything: the
// sentry refuses with EPERM, though the kernel would let its
// CAP_SYS_ADMIN do both on the host. The targets lie in the bundle's
// rootfs, which is the container's root: a mount there would be the
// host's.
func TestPrivilegedInHostMountNamespace(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withCapability("CAP_SYS_ADMIN"), func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.MountNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
		// Nothing for runc to mount: with no mount namespace of the
		// container's own, its mounts would be made on the host.
		s.Mounts = nil
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
		s.Process.Args = []string{"sh", "-c", "mount -t tmpfs none /hostns/free 2>&1; umount /hostns/mounted 2>&1; echo done"}
	})
	target := filepath.Join(b, "rootfs", "hostns")
	mounted, free := filepath.Join(target, "mounted"), filepath.Join(target, "free")
	for _, d := range []string{target, mounted, free} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, m := range hostMountsUnder(t, b) {
			_ = unix.Unmount(m, unix.MNT_DETACH)
		}
	})
	if err := unix.Mount("none", mounted, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	// runc's init reads /proc/sys/kernel/cap_last_cap under the new root.
	proc := filepath.Join(b, "rootfs", "proc")
	if err := unix.Mount("proc", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(filepath.Dir(rt.Root), "audit.jsonl")
	res := rt.Container(b, []string{"--strace-log", log})
	if res.Code != 0 || !strings.HasSuffix(res.Stdout, "done\n") {
		t.Fatalf("%s", res)
	}
	// busybox's words for EPERM from mount(2) and umount2(2).
	if !strings.Contains(res.Stdout, "mount: permission denied (are you root?)\n") ||
		!strings.Contains(res.Stdout, "umount: can't unmount /hostns/mounted: Operation not permitted\n") {
		t.Errorf("want mount and umount refused with EPERM: %s", res)
	}
	// The refusals are the sentry's (its CAP_SYS_ADMIN would satisfy the kernel).
	denied := map[string]bool{}
	for _, e := range readAudit(t, log) {
		if e.Decision == "deny" && e.Errno == "EPERM" {
			denied[e.Syscall] = true
		}
	}
	if !denied["mount"] || !denied["umount2"] {
		t.Errorf("no deny events for mount and umount2 in the audit stream: %v", denied)
	}
	m := hostMountsUnder(t, b)
	if slices.Contains(m, free) || !slices.Contains(m, mounted) {
		t.Errorf("host mounts under the bundle: %v; want %s still mounted, nothing on %s", m, mounted, free)
	}
}

// TestPrivilegedOverHostUserNamespace: a privileged container without a
// user namespace of its own holds CAP_SYS_ADMIN over the host's, where
// mount(2) reaches the host whatever mount namespace it runs in (the
// review changed a host sysctl after lifting /proc/sys, and wrote a file
// into the host's /dev through a fresh devtmpfs). So its mounts stay
// refused, and create says so; in a user namespace of its own the kernel
// keeps the same attempts inside (they fail there too). The sysctl write
// writes back the value it read: a regression shows as success, never as
// a changed host.
func TestPrivilegedOverHostUserNamespace(t *testing.T) {
	script := `umount -l /proc/sys 2>&1; echo umount=$?
mkdir -p /tmp/p /tmp/d
mount -t proc proc /tmp/p 2>&1; echo proc=$?
mount -t devtmpfs none /tmp/d 2>&1; echo devtmpfs=$?
v=$(cat /proc/sys/kernel/printk_ratelimit); echo "$v" > /proc/sys/kernel/printk_ratelimit 2>&1; echo sysctl=$?`
	for _, ident := range sandboxtest.Identities {
		if ident.Name == "uid1000" {
			continue
		}
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			rt := newRuntime(t)
			b := newBundle(t, withArgs("sh", "-c", script), ident.Opt, withCapability("CAP_SYS_ADMIN"), withWritableTmp())
			before, err := os.ReadFile("/proc/sys/kernel/printk_ratelimit")
			if err != nil {
				t.Fatal(err)
			}
			res := rt.Container(b, nil)
			if res.Code != 0 {
				t.Fatalf("%s", res)
			}
			// Over the host's user namespace every attempt is refused; in
			// its own, the kernel lets it lift its own masks (documented)
			// and mount a procfs of its own, and refuses the rest.
			mustFail := []string{"umount", "proc", "devtmpfs", "sysctl"}
			if ident.Name == "userns" {
				mustFail = []string{"devtmpfs", "sysctl"}
			}
			for _, k := range mustFail {
				if !strings.Contains(res.Stdout, k+"=") || strings.Contains(res.Stdout, k+"=0\n") {
					t.Errorf("%s did not fail in a privileged %s container: %s", k, ident.Name, res)
				}
			}
			warned := strings.Contains(res.Stderr, "mount and umount2 stay refused")
			if warned != (ident.Name == "root") {
				t.Errorf("warning that mounts stay refused: %v, want %v: %s", warned, ident.Name == "root", res.Stderr)
			}
			if after, _ := os.ReadFile("/proc/sys/kernel/printk_ratelimit"); string(after) != string(before) {
				t.Errorf("the host's printk_ratelimit changed from %q to %q", before, after)
			}
			if _, err := os.Stat("/dev/.syscage-canary"); err == nil {
				t.Errorf("a file appeared in the host's /dev")
			}
		})
	}
}
