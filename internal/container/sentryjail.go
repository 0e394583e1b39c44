package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// The sentry's identity. It does not run as root: it runs as SentryUID
// (nobody) with two capabilities, raised as ambient capabilities so they
// survive the exec and hold on every thread:
//
//   - CAP_SYS_PTRACE, to reach the memory (process_vm_readv/writev) and
//     fds (pidfd_getfd) of the container's processes whatever their
//     credentials;
//   - CAP_SYS_CHROOT, to jail itself in sentryJailDir before serving
//     (its own filter refuses chroot afterwards).
//
// As nobody it owns no file, can read only what the world can, and holds
// no root-owned state directory; jailed, it names no host path but /proc,
// through a directory fd.
//
// Landlock would narrow what it may open further, but a Landlock domain
// also forbids ptrace access (process_vm_readv/writev, pidfd_getfd) to
// every process outside it, which is the sentry's whole job: the
// workload's domain would have to nest inside the sentry's.
const (
	SentryUID = 65534
	SentryGID = 65534
)

// sentryJailDir is the empty, root-owned directory every sentry chroots
// into: no path the sentry names reaches the host's file system.
const sentryJailDir = "/run/syscage-empty"

// sentryCapabilities is all the sentry keeps.
var sentryCapabilities = []uintptr{unix.CAP_SYS_PTRACE, unix.CAP_SYS_CHROOT}

// prepareSentryJail makes sentryJailDir: empty, owned by root, mode 0555.
func prepareSentryJail() error {
	if err := os.Mkdir(sentryJailDir, 0o555); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("creating the sentry's jail %s: %w", sentryJailDir, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(sentryJailDir, &st); err != nil {
		return fmt.Errorf("the sentry's jail %s: %w", sentryJailDir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != 0 {
		return fmt.Errorf("the sentry's jail %s is not a directory owned by root", sentryJailDir)
	}
	if st.Mode&0o7777 != 0o555 {
		if err := os.Chmod(sentryJailDir, 0o555); err != nil {
			return fmt.Errorf("the sentry's jail %s: %w", sentryJailDir, err)
		}
	}
	if entries, err := os.ReadDir(sentryJailDir); err != nil || len(entries) > 0 {
		return fmt.Errorf("the sentry's jail %s is not an empty directory", sentryJailDir)
	}
	return nil
}

// startSentryProcess starts the sentry command cmd (whose Args[0] is the
// syscage binary) as SentryUID with sentryCapabilities (and a bounding
// set of only those). The binary is executed through an fd opened here as
// root, so the sentry needs no search right on the directories above it
// (it still needs the right to execute the file itself).
func startSentryProcess(cmd *exec.Cmd) error {
	if err := prepareSentryJail(); err != nil {
		return err
	}
	bin, err := os.Open(cmd.Path)
	if err != nil {
		return fmt.Errorf("opening the sentry's binary: %w", err)
	}
	defer bin.Close()
	binPath := fmt.Sprintf("/proc/self/fd/%d", bin.Fd())
	cmd.Path = binPath
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: SentryUID, Gid: SentryGID, Groups: []uint32{}},
		AmbientCaps: sentryCapabilities,
	}
	return startWithCapabilities(cmd, sentryCapabilities)
}
