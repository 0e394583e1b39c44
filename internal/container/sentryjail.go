package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/pidns"
	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// The sentry's identity. It does not run as root: it runs as a uid and
// gid of its own (Config.SentryIDs: a range no workload's id may fall in,
// one id per container), with two capabilities, raised as ambient
// capabilities so they survive the exec and hold on every thread:
//
//   - CAP_SYS_PTRACE, to reach the memory (process_vm_readv/writev) and
//     fds (pidfd_getfd) of the container's processes whatever their
//     credentials;
//   - CAP_SYS_CHROOT, to jail itself before serving (its own filter
//     refuses chroot afterwards).
//
// With an id of its own it owns no file, can read only what the world
// can, and shares no per-user limit (RLIMIT_NPROC) with, and cannot be
// signalled by, any process but root's; jailed, it names no host path but
// /proc, through a directory fd.
//
// Landlock would narrow what it may open further, but a Landlock domain
// also forbids ptrace access (process_vm_readv/writev, pidfd_getfd) to
// every process outside it, which is the sentry's whole job: the
// workload's domain would have to nest inside the sentry's.
//
// fallbackSentryID (nobody) is the id in a user namespace that does not
// map the container's sentry id (rootless Podman maps 65536 ids).
const fallbackSentryID = 65534

// sentryJailDir is the empty, root-owned directory every sentry of a root
// runtime chroots into: no path the sentry names reaches the host's file
// system.
const sentryJailDir = "/run/syscage-empty"

// sentryCapabilities is all the sentry keeps.
var sentryCapabilities = []uintptr{unix.CAP_SYS_PTRACE, unix.CAP_SYS_CHROOT}

// sentryJail is the jail of this runtime's sentries: sentryJailDir for
// root; for root in a user namespace (rootless Podman), which may not
// write /run, "empty" in its agent directory; none for a rootless user,
// whose sentry runs as that user with no capability to chroot
// (docs/workstation.md).
func sentryJail() string {
	switch {
	case os.Geteuid() != 0:
		return ""
	case Unprivileged():
		return filepath.Join(agentDirectory(), "empty")
	}
	return sentryJailDir
}

// prepareSentryJail makes dir: empty, owned by root, mode 0555.
func prepareSentryJail(dir string) error {
	if err := os.Mkdir(dir, 0o555); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating the sentry's jail %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("the sentry's jail %s: %w", dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != 0 {
		return fmt.Errorf("the sentry's jail %s is not a directory owned by root", dir)
	}
	if st.Mode&0o7777 != 0o555 {
		if err := os.Chmod(dir, 0o555); err != nil {
			return fmt.Errorf("the sentry's jail %s: %w", dir, err)
		}
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
		return fmt.Errorf("the sentry's jail %s is not an empty directory", dir)
	}
	return nil
}

// startSentryProcess starts the sentry command cmd (whose Args[0] is the
// syscage binary). A root runtime starts it as id (uid and gid) with
// sentryCapabilities (and a bounding set of only those); the binary is
// executed through an fd opened here as root, so the sentry needs no
// search right on the directories above it (it still needs the right to
// execute the file itself). Root of a user namespace that maps neither id
// nor fallbackSentryID keeps uid 0 with the same two capabilities. A
// rootless user starts it as itself: it holds no capability to give or
// drop, and reaches the workload because it owns the container's user
// namespace. target, if set, is the pid namespace the sentry starts in.
func startSentryProcess(cmd *exec.Cmd, id uint32, target *pidns.Target) error {
	if os.Geteuid() != 0 {
		return cmd.Start()
	}
	bin, err := os.Open(cmd.Path)
	if err != nil {
		return fmt.Errorf("opening the sentry's binary: %w", err)
	}
	defer bin.Close()
	// The path is resolved in the child, after its fds have been
	// arranged: 0-2 and the extra files from 3 on, with the files being
	// moved parked on the numbers just above the highest of their fds
	// (syscall.forkAndExecInChild: one per file, and its error pipe). The
	// binary's fd must be above all of them (with room for the null
	// device os/exec opens for stdin and stdout, which may come above the
	// highest), or the child would execute
	// whatever file landed on its number (seen: one of the sentry's own
	// files, "permission denied", and "exec format error").
	files := 3 + len(cmd.ExtraFiles)
	highest := files
	for _, f := range cmd.ExtraFiles {
		highest = max(highest, int(f.Fd()))
	}
	exe, err := unix.FcntlInt(bin.Fd(), unix.F_DUPFD_CLOEXEC, highest+2*files+8)
	if err != nil {
		return fmt.Errorf("opening the sentry's binary: %w", err)
	}
	defer unix.Close(exe)
	cmd.Path = fmt.Sprintf("/proc/self/fd/%d", exe)
	for _, id := range []uint32{id, fallbackSentryID} {
		if id != 0 && mapped("/proc/self/uid_map", id) && mapped("/proc/self/gid_map", id) {
			cmd.SysProcAttr = &syscall.SysProcAttr{
				Credential:  &syscall.Credential{Uid: id, Gid: id, Groups: []uint32{}},
				AmbientCaps: sentryCapabilities,
			}
			break
		}
	}
	var enter func() error
	if target != nil {
		enter = target.Enter
	}
	return startWithCapabilities(cmd, sentryCapabilities, enter)
}

// mapped reports whether id is mapped in the user namespace whose
// uid_map or gid_map is file (every id is, in the initial one).
func mapped(file string, id uint32) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var inside, outside, count uint64
		if n, _ := fmt.Sscan(line, &inside, &outside, &count); n == 3 && uint64(id) >= inside && uint64(id) < inside+count {
			return true
		}
	}
	return false
}

// Where the sentry serves from. In the container's pid namespace, with a
// procfs of that namespace as its only /proc, a compromised sentry names
// no process outside the container: its CAP_SYS_PTRACE reaches only the
// container's processes (docs/security.md). Elsewhere it serves from the
// runtime's (the host's) pid namespace, for a reason recorded in
// sentryPlaceFile and reported by `state`.
const (
	// sentryPlaceFile records where the sentry serves from.
	sentryPlaceFile = "sentry-place"
	// sentryInContainer is that record for the container's pid namespace.
	sentryInContainer = "the container's pid namespace"
)

// sentryPlace says why the sentry of a container with this spec and
// sandbox must serve from the runtime's pid namespace, or "" if it may
// serve from the container's (the watchdog then enters it, or records why
// it could not).
func sentryPlace(spec *specs.Spec, sb sandbox, id string) string {
	const host = "the runtime's pid namespace: "
	switch {
	case Unprivileged():
		return host + "a rootless runtime does not enter the container's"
	case sb.Profile.Learning:
		return host + "learn mode: the sentry writes the learned profile when the container stops, which it would not outlive inside the container's"
	case sb.Caps&ptraceCap != 0 && !ownUserNamespace(spec):
		return host + "the container holds CAP_SYS_PTRACE over the host's user namespace, with which it could take over a sentry it can name"
	case joinsPidNamespace(spec) != "":
		return host + "the container joins another's pid namespace, whose processes it does not choose"
	case isPodSandbox(spec, id):
		return host + "the pod's sandbox container: the pod's containers join its pid namespace when they share one, and may hold CAP_SYS_PTRACE"
	}
	return ""
}

// ptraceCap is CAP_SYS_PTRACE in a capability mask.
var ptraceCap = func() syscalls.Caps {
	c, _ := syscalls.CapsOf("CAP_SYS_PTRACE")
	return c
}()

// Pid namespaces with a sentry inside. A process that holds CAP_SYS_PTRACE
// over the host's user namespace and can name a sentry can take it over:
// its memory, its listeners and the host files it holds open (the
// container's cgroup directories, its audit file). So no such process may
// run in a pid namespace where a sentry serves: the watchdog registers
// the namespace under agentDirectory()/pidns, and create (a container
// joining it) and exec refuse such a process there.
const (
	pidnsRegistry = "pidns"
	// sentryPidnsFile records the registry entry in the state dir.
	sentryPidnsFile = "sentry-pidns"
)

// registerPidNamespace records that stateDir's sentry serves inside t.
func registerPidNamespace(stateDir string, t *pidns.Target) error {
	dir := filepath.Join(agentDirectory(), pidnsRegistry)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("registering the sentry's pid namespace: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, t.ID()), []byte(stateDir), 0o600); err != nil {
		return fmt.Errorf("registering the sentry's pid namespace: %w", err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, sentryPidnsFile), []byte(t.ID()), 0o600); err != nil {
		return fmt.Errorf("recording the sentry's pid namespace: %w", err)
	}
	return nil
}

// unregisterPidNamespace removes stateDir's entry, if it is still its own.
func unregisterPidNamespace(stateDir string) {
	id, err := os.ReadFile(filepath.Join(stateDir, sentryPidnsFile))
	if err != nil || strings.ContainsAny(string(id), "/.") {
		return
	}
	entry := filepath.Join(agentDirectory(), pidnsRegistry, string(id))
	if owner, err := os.ReadFile(entry); err == nil && string(owner) == stateDir {
		os.Remove(entry)
	}
}

// sentryInside returns the state dir of a container whose sentry serves
// inside the pid namespace at nsPath, if one does: its entry is there and
// its sentry runs, in that namespace (an entry left by a container that
// was never deleted, for a namespace whose inode was reused since, is no
// such thing).
func sentryInside(nsPath string) (string, bool) {
	id, err := pidns.IDOf(nsPath)
	if err != nil {
		return "", false
	}
	owner, err := os.ReadFile(filepath.Join(agentDirectory(), pidnsRegistry, id))
	if err != nil {
		return "", false
	}
	spid, ok := sentryPid(string(owner))
	if !ok {
		return "", false
	}
	if sid, err := pidns.IDOf("/proc/" + strconv.Itoa(spid) + "/ns/pid"); err != nil || sid != id {
		return "", false
	}
	return string(owner), true
}

// refusePtraceBeside refuses a process holding CAP_SYS_PTRACE (caps)
// over the host's user namespace (the container has none of its own) in
// the pid namespace at nsPath, where a sentry serves.
func refusePtraceBeside(caps syscalls.Caps, spec *specs.Spec, nsPath, what string) error {
	if caps&ptraceCap == 0 || ownUserNamespace(spec) || nsPath == "" {
		return nil
	}
	if owner, ok := sentryInside(nsPath); ok {
		return fmt.Errorf("%s holds CAP_SYS_PTRACE and would run in the pid namespace where the sentry of container %q serves, which that capability over the host's user namespace would reach (give the container a user namespace of its own, or CAP_SYS_PTRACE to the container whose pid namespace it is)", what, filepath.Base(owner))
	}
	return nil
}

// joinsPidNamespace is the path of the pid namespace the container joins,
// "" if it makes one of its own (or has none: it shares the runtime's).
func joinsPidNamespace(spec *specs.Spec) string {
	if spec.Linux == nil {
		return ""
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace {
			return ns.Path
		}
	}
	return ""
}

// isPodSandbox reports whether the container is a Kubernetes pod's
// sandbox (pause) container, as the CRI plugin (containerd's or CRI-O's)
// marks it: with a pod-level pid namespace (shareProcessNamespace) the
// pod's other containers join the sandbox's, and a privileged one holds
// CAP_SYS_PTRACE; its sentry, serving only the pause process, serves from
// the runtime's pid namespace, so that no sentry serves inside a
// namespace a pod shares. (A pod author could put such an annotation on
// an ordinary container only where the CRI plugin passes pod annotations
// through; it would move that container's sentry outside, never weaken
// its filter; so the mark counts only beside the sandbox id the plugin
// gives the sandbox container, which is its own container id, which a
// pod author does not know in advance.)
func isPodSandbox(spec *specs.Spec, id string) bool {
	a := spec.Annotations
	return (a["io.kubernetes.cri.container-type"] == "sandbox" && a["io.kubernetes.cri.sandbox-id"] == id) ||
		(a["io.kubernetes.cri-o.ContainerType"] == "sandbox" && a["io.kubernetes.cri-o.SandboxID"] == id)
}
