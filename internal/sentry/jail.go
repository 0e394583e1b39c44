package sentry

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// procDir is how the sentry names /proc: the path itself, or, once the
// sentry is jailed, a directory fd opened on /proc before the chroot.
var procDir = struct {
	fd     int
	prefix string
}{unix.AT_FDCWD, "/proc/"}

// procRel is the (dirfd, path) pair that names /proc/<rel>.
func procRel(rel string) (int, string) { return procDir.fd, procDir.prefix + rel }

// readProc reads /proc/<rel>.
func readProc(rel string) ([]byte, error) {
	dfd, path := procRel(rel)
	fd, err := unix.Openat(dfd, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	return io.ReadAll(f)
}

// statProc stats /proc/<rel> (following the link, as for ns files).
func statProc(rel string, st *unix.Stat_t) error {
	dfd, path := procRel(rel)
	return unix.Fstatat(dfd, path, st, 0)
}

// Jail moves the sentry into root, an empty directory it cannot write:
// from then on no path it names (a file, a unix socket address) reaches
// the host's file system. It keeps a directory fd on a procfs, the only
// file system it reads (a caller's thread group, capabilities and
// namespaces): procFd, a procfs of the container's pid namespace the
// watchdog handed over (pidns.Of), or if procFd is not positive the host's
// /proc. It makes itself non-dumpable, so no process of its uid can read
// its memory or fds through /proc. It needs CAP_SYS_CHROOT, and must run
// before confine, whose filter refuses chroot.
func Jail(root string, procFd int) error {
	fd := procFd
	if fd <= 0 {
		var err error
		if fd, err = unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return fmt.Errorf("jailing the sentry: opening /proc: %w", err)
		}
	} else {
		var fs unix.Statfs_t
		if err := unix.Fstatfs(fd, &fs); err != nil || fs.Type != unix.PROC_SUPER_MAGIC {
			return fmt.Errorf("jailing the sentry: fd %d is not a procfs", fd)
		}
		unix.CloseOnExec(fd)
	}
	// The namespaces the sentry compares callers' with are its own and
	// the host's (pid 1's of the host's /proc): both named now, through
	// the host's /proc, which the jailed sentry no longer sees.
	if err := hostNamespaces.record(); err != nil {
		unix.Close(fd)
		return fmt.Errorf("jailing the sentry: %w", err)
	}
	// chroot changes the root of every thread (threads share fs_struct).
	if err := unix.Chroot(root); err != nil {
		unix.Close(fd)
		return fmt.Errorf("jailing the sentry: chroot %s: %w", root, err)
	}
	if err := unix.Chdir("/"); err != nil {
		unix.Close(fd)
		return fmt.Errorf("jailing the sentry: chdir /: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		unix.Close(fd)
		return fmt.Errorf("jailing the sentry: making it non-dumpable: %w", err)
	}
	procDir.fd, procDir.prefix = fd, ""
	syscalls.ReadProc = readProc
	return nil
}

// namespaceKinds are the namespaces ownNamespace compares.
var namespaceKinds = []string{"uts", "mnt"}

// hostNamespaces holds, once the sentry is jailed, the identities of its
// own namespaces and of the host's (pid 1's) of each kind in
// namespaceKinds; before, ownNamespace reads them from /proc.
var hostNamespaces nsIdentities

type nsIdentities struct {
	// ours and hosts are nil until record; hosts lacks a kind pid 1's
	// namespace of which could not be read.
	ours, hosts map[string]unix.Stat_t
}

// record reads the identities through the host's /proc.
func (n *nsIdentities) record() error {
	ours, hosts := map[string]unix.Stat_t{}, map[string]unix.Stat_t{}
	for _, kind := range namespaceKinds {
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/ns/"+kind, &st); err != nil {
			return fmt.Errorf("its own %s namespace: %w", kind, err)
		}
		ours[kind] = st
		// Some hosts' pid 1 lets no one read its namespaces.
		if err := unix.Stat("/proc/1/ns/"+kind, &st); err == nil {
			hosts[kind] = st
		}
	}
	n.ours, n.hosts = ours, hosts
	return nil
}

// own returns the sentry's own namespace of a kind.
func (n *nsIdentities) own(kind string, st *unix.Stat_t) error {
	if n.ours == nil {
		return statProc("self/ns/"+kind, st)
	}
	var ok bool
	if *st, ok = n.ours[kind]; !ok {
		return fmt.Errorf("no %s namespace recorded", kind)
	}
	return nil
}

// host returns the host's (pid 1's) namespace of a kind.
func (n *nsIdentities) host(kind string, st *unix.Stat_t) error {
	if n.ours == nil {
		return statProc("1/ns/"+kind, st)
	}
	var ok bool
	if *st, ok = n.hosts[kind]; !ok {
		return unix.EACCES
	}
	return nil
}

// IgnoreSignals makes the sentry ignore every signal a process may send
// that would otherwise end or stop it: serving from inside a container's
// pid namespace, it can be signalled by the container's root. Faults of
// its own still end it (the Go runtime tells a fault from a sent signal).
func IgnoreSignals() {
	var sigs []os.Signal
	for _, s := range []unix.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP,
		unix.SIGABRT, unix.SIGBUS, unix.SIGFPE, unix.SIGUSR1, unix.SIGSEGV, unix.SIGUSR2, unix.SIGPIPE,
		unix.SIGALRM, unix.SIGTERM, unix.SIGSTKFLT, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGVTALRM,
		unix.SIGPROF, unix.SIGIO, unix.SIGPWR, unix.SIGSYS, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU} {
		sigs = append(sigs, s)
	}
	// Real-time signals end a process by default; 32 and 33 are the C
	// library's and the Go runtime's own.
	for s := 34; s <= 64; s++ {
		sigs = append(sigs, unix.Signal(s))
	}
	signal.Ignore(sigs...)
}

// procTid is the /proc entry of a thread.
func procTid(tid int, rest string) string { return strconv.Itoa(tid) + rest }
