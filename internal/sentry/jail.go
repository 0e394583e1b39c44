package sentry

import (
	"fmt"
	"io"
	"os"
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
// the host's file system. It keeps a directory fd on /proc, the only part
// of the host it reads (a caller's thread group, capabilities and
// namespaces), and makes itself non-dumpable, so no process of its uid
// can read its memory or fds through /proc. It needs CAP_SYS_CHROOT, and
// must run before confine, whose filter refuses chroot.
func Jail(root string) error {
	fd, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("jailing the sentry: opening /proc: %w", err)
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

// procTid is the /proc entry of a thread.
func procTid(tid int, rest string) string { return strconv.Itoa(tid) + rest }
