package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/sys/userns"
	"github.com/opencontainers/cgroups/systemd"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry"
	"github.com/syscage/syscage/internal/subid"
)

// Rootless operation: the runtime started by a user without root (euid
// not 0), or as root of a user namespace that is not the host's (rootless
// Podman runs its OCI runtime so). Such a runtime cannot drop
// capabilities it does not hold, write under /run, or manage cgroups
// without delegation; each place that differs asks Unprivileged.

// Unprivileged reports whether the runtime lacks the host's root: its
// effective user is not root, or it runs in a user namespace.
func Unprivileged() bool {
	return os.Geteuid() != 0 || userns.RunningInUserNS()
}

// RuntimeDir is where an unprivileged runtime keeps its state and
// sockets: $XDG_RUNTIME_DIR (a per-user tmpfs that the login manager
// creates, mode 0700), else a directory of its own under the temporary
// directory, created 0700 and refused if another user owns it (a shared
// /tmp is writable by all; another user must not prepare our sockets'
// directory).
func RuntimeDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		if err := ownedDir(d, false); err == nil {
			return d, nil
		} else {
			logrus.Debugf("XDG_RUNTIME_DIR %s: %v; using a directory under %s", d, err, os.TempDir())
		}
	}
	d := filepath.Join(os.TempDir(), "syscage-"+strconv.Itoa(os.Geteuid()))
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("rootless: creating runtime directory %s: %w", d, err)
	}
	if err := ownedDir(d, true); err != nil {
		return "", fmt.Errorf("rootless: runtime directory %s: %w", d, err)
	}
	return d, nil
}

// ownedDir checks that d is a directory (not a link) owned by us; private
// also asks that nobody else may enter it.
func ownedDir(d string, private bool) error {
	fi, err := os.Lstat(d)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return errors.New("not a directory")
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("owned by uid %d, not by us (uid %d)", st.Uid, os.Geteuid())
	case private && fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("mode %o lets other users in; want 0700", fi.Mode().Perm())
	}
	return nil
}

// DefaultStateRoot is the state root when --root is not given:
// DefaultRoot for root, <RuntimeDir>/syscage otherwise.
func DefaultStateRoot() string {
	if !Unprivileged() {
		return DefaultRoot
	}
	d, err := RuntimeDir()
	if err != nil {
		return DefaultRoot // the create that needs it reports the problem
	}
	return filepath.Join(d, "syscage")
}

// rootlessCgroups says whether libcontainer must treat cgroup errors as
// expected (no write access without delegation) and whether the limits a
// config asks for can be applied: with systemd, a rootless container's
// cgroup is delegated by the user's systemd instance; without it, there
// is none and limits are not applied.
func rootlessCgroups(systemdCgroup bool) (rootless, limits bool) {
	if !Unprivileged() {
		return false, true
	}
	if systemdCgroup && systemd.IsRunningSystemd() {
		return true, true
	}
	return true, false
}

// HasLimits reports whether a spec asks for cgroup resource limits.
func HasLimits(r *specs.LinuxResources) bool {
	if r == nil {
		return false
	}
	return r.Memory != nil || r.CPU != nil || r.Pids != nil || r.BlockIO != nil ||
		len(r.HugepageLimits) > 0 || len(r.Unified) > 0
}

// identityPaths are the /proc files that tell the kernel's release and
// build. As root they are replaced with the sandbox's (hideKernelIdentity,
// which mounts inside the container's mount namespace); a rootless runtime
// cannot join it, so they are masked (empty) instead: uname is still
// answered by the sentry, and the host's build is never shown.
var identityPaths = []string{"/proc/version", "/proc/sys/kernel/osrelease", "/proc/sys/kernel/version"}

// rootlessSpec adapts a spec to an unprivileged runtime, or refuses it:
// a user (euid not 0) needs a user namespace of the container's own with
// mappings (`syscage spec --rootless` writes such a config); without
// cgroup delegation the spec's resource limits cannot be applied, and
// are dropped with a warning. It reports whether libcontainer should run
// its cgroups rootless (errors expected, not fatal).
func (rt *Runtime) rootlessSpec(spec *specs.Spec) (cgroupsRootless bool, err error) {
	cgroupsRootless, limits := rootlessCgroups(rt.SystemdCgroup)
	if !cgroupsRootless {
		return false, nil
	}
	if os.Geteuid() != 0 {
		if err := checkPtraceScope(ptraceScopeFile); err != nil {
			return false, err
		}
		if !newNamespace(spec, specs.UserNamespace) || len(spec.Linux.UIDMappings) == 0 || len(spec.Linux.GIDMappings) == 0 {
			return false, fmt.Errorf("rootless: running as uid %d, the config must create a user namespace with uid and gid mappings (`syscage spec --rootless` writes one; or run as root)", os.Geteuid())
		}
		if err := checkMappings("uid", "/etc/subuid", spec.Linux.UIDMappings, os.Geteuid()); err != nil {
			return false, err
		}
		if err := checkMappings("gid", "/etc/subgid", spec.Linux.GIDMappings, os.Getegid()); err != nil {
			return false, err
		}
		if newNamespace(spec, specs.MountNamespace) {
			for _, p := range identityPaths {
				if !slices.Contains(spec.Linux.MaskedPaths, p) {
					spec.Linux.MaskedPaths = append(spec.Linux.MaskedPaths, p)
				}
			}
		}
	}
	if !limits && HasLimits(spec.Linux.Resources) {
		logrus.Warnf("rootless: no cgroup delegation (%s); the config's resource limits are not applied", noDelegationReason(rt.SystemdCgroup))
		devices := spec.Linux.Resources.Devices
		spec.Linux.Resources = &specs.LinuxResources{Devices: devices}
	}
	return true, nil
}

// noDelegationReason says why a rootless container gets no cgroup.
func noDelegationReason(systemdCgroup bool) string {
	if systemdCgroup {
		return "--systemd-cgroup, but systemd is not running"
	}
	return "cgroups are delegated to a user only through systemd: use --systemd-cgroup under a systemd user session"
}

// RootlessLimits reports whether an unprivileged runtime can apply cgroup
// limits, and if not, why (for `do`, which refuses --memory and --cpus
// then rather than run without them).
func (rt *Runtime) RootlessLimits() (ok bool, why string) {
	_, limits := rootlessCgroups(rt.SystemdCgroup)
	if limits {
		return true, ""
	}
	return false, noDelegationReason(rt.SystemdCgroup)
}

// writeUTSFile records the container's node and domain name for its
// sentry. Root reads them in the container's UTS namespace; a rootless
// runtime may not enter it, and takes them from the config instead (a
// new namespace starts with the host's names, then libcontainer sets the
// config's), or the host's when the container shares its namespace. The
// container changes them later only through the sentry (sethostname is
// checked there), so the two cannot disagree.
func writeUTSFile(path string, pid int, spec *specs.Spec) error {
	if os.Geteuid() == 0 {
		return sentry.WriteUTSFile(path, pid)
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("reading the host's UTS names: %w", err)
	}
	node, domain := unix.ByteSliceToString(u.Nodename[:]), unix.ByteSliceToString(u.Domainname[:])
	if newNamespace(spec, specs.UTSNamespace) {
		node, domain = first(spec.Hostname, node), first(spec.Domainname, domain)
	}
	return sentry.WriteUTSNames(path, node, domain)
}

// checkMappings refuses, before anything is created, id mappings a user
// cannot set up: anything beyond its own id needs newuidmap (newgidmap)
// and a subordinate range in file that covers it.
func checkMappings(kind, file string, maps []specs.LinuxIDMapping, own int) error {
	name := strconv.Itoa(os.Geteuid())
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	var sub *subid.Range
	looked := false
	for _, m := range maps {
		if m.HostID == uint32(own) && m.Size == 1 {
			continue
		}
		if !looked {
			tool := "new" + kind + "map"
			if _, err := exec.LookPath(tool); err != nil {
				return fmt.Errorf("rootless: the config maps %s %d-%d, which needs %s (Debian: apt-get install uidmap); map only your own %s (%d) otherwise", kind, m.HostID, uint64(m.HostID)+uint64(m.Size)-1, tool, kind, own)
			}
			r, err := subid.Lookup(file, name, os.Geteuid())
			if err != nil {
				return fmt.Errorf("rootless: %w", err)
			}
			sub, looked = r, true
		}
		if !subid.Covers(sub, m.HostID, m.Size) {
			have := "none"
			if sub != nil {
				have = fmt.Sprintf("%d-%d", sub.Start, uint64(sub.Start)+uint64(sub.Count)-1)
			}
			return fmt.Errorf("rootless: the config maps host %ss %d-%d, but user %s has no such subordinate %ss in %s (it has %s); map only your own %s (%d), or ask the administrator for a range", kind, m.HostID, uint64(m.HostID)+uint64(m.Size)-1, name, kind, file, have, kind, own)
		}
	}
	return nil
}

// rootlessExec refuses exec into a container with a seccomp listener
// for a user (euid not 0). libcontainer takes the new process's listener
// from it with pidfd_getfd while the process, joining the container's
// namespaces, is not dumpable; the kernel then asks for CAP_SYS_PTRACE
// over the user namespace its memory belongs to, the host's, which a
// user does not hold. The exec would fail half way with "pidfd_getfd:
// operation not permitted". Root of a user namespace (rootless Podman's
// runtime) holds it over that namespace and is not refused.
func rootlessExec(c *libcontainer.Container) error {
	if os.Geteuid() == 0 {
		return nil
	}
	if sc := c.Config().Seccomp; sc == nil || sc.ListenerPath == "" {
		return nil
	}
	return fmt.Errorf("rootless: exec into container %q is not supported without root: libcontainer hands the new process's seccomp listener to the sentry with pidfd_getfd, which the kernel refuses a user for a process joining the container's namespaces (rootless Podman, whose runtime runs as root of a user namespace, can exec; docs/workstation.md)", c.ID())
}

// ptraceScopeFile is Yama's setting, where the kernel has Yama.
const ptraceScopeFile = "/proc/sys/kernel/yama/ptrace_scope"

// checkPtraceScope refuses a rootless container where Yama forbids its
// sentry to reach the workload. The sentry runs as the user, is not the
// workload's ancestor, and reads its memory and takes its fds as the
// owner of the container's user namespace (CAP_SYS_PTRACE there): Yama's
// scope 1 (relational) allows that, scope 2 (admin only) and 3 (none)
// do not, and the sentry could then answer nothing.
func checkPtraceScope(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil // no Yama: the ordinary ptrace rules, which allow it
	}
	scope, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || scope <= 1 {
		return nil
	}
	return fmt.Errorf("rootless: %s is %d, which forbids the sentry (running as you) to read the sandboxed processes' memory; rootless syscage needs 0 or 1 (or run as root)", file, scope)
}
