package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/mountns"
)

// Kernel identity files the container sees instead of the host's. They are
// bind-mounted over procfs entries inside the container's mount namespace
// before the user's program runs, so reading them costs nothing at run
// time (no notification per open).
var kernelIdentityFiles = []struct{ name, target string }{
	{"version", "/proc/version"},
	{"osrelease", "/proc/sys/kernel/osrelease"},
	{"kversion", "/proc/sys/kernel/version"},
}

// hideKernelIdentity mounts files describing release (and version) over
// the container's /proc/version, /proc/sys/kernel/osrelease and
// /proc/sys/kernel/version. The files live on a small private tmpfs, so
// the container's mountinfo shows "tmpfs" and "/version", not a host path.
//
// Only a container with a mount namespace of its own gets them: mounting in
// a namespace the container joins (or the host's, when it has none) would
// change what everyone else in that namespace sees. Such a container keeps
// the /proc of the namespace it shares (uname is still emulated).
func hideKernelIdentity(initPid int, stateDir string, o sandbox) error {
	own, err := ownMountNamespace(initPid)
	if err != nil {
		return fmt.Errorf("kernel identity: %w", err)
	}
	if !own {
		logrus.Warnf("kernel identity: the container shares a mount namespace; its /proc/version is that namespace's")
		return nil
	}
	contents := map[string]string{
		"version":   fmt.Sprintf("Linux version %s (syscage@sandbox) %s\n", o.KernelRelease, o.KernelVersion),
		"osrelease": o.KernelRelease + "\n",
		"kversion":  o.KernelVersion + "\n",
	}
	trees, err := detachedIdentityTrees(contents)
	if errors.Is(err, unix.EINVAL) {
		// Kernels before 6.15 cannot clone from a detached mount.
		trees, err = attachedIdentityTrees(stateDir, contents)
	}
	if err != nil {
		return fmt.Errorf("kernel identity: %w", err)
	}
	defer func() {
		for _, fd := range trees {
			unix.Close(fd)
		}
	}()
	if err := mountns.Do(initPid, func() error { return attachInNamespace(trees) }); err != nil {
		return fmt.Errorf("kernel identity: %w", err)
	}
	return nil
}

func attachInNamespace(trees []int) error {
	for i, f := range kernelIdentityFiles {
		if err := unix.MoveMount(trees[i], "", unix.AT_FDCWD, f.target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("mounting over %s: %w", f.target, err)
		}
	}
	return nil
}

// ownMountNamespace reports whether pid's mount namespace differs from
// ours. (A namespace joined by path is excluded by the caller: it has
// other members.)
//
// "Ours" is the calling thread's, not /proc/self's: /proc/self is the
// main thread, and a goroutine that locks a thread, joins a container's
// namespace and exits (libcontainer does this while it prepares mounts,
// and so do we) leaves the main thread parked in that namespace if it ran
// there. Threads that still run goroutines never are.
func ownMountNamespace(pid int) (bool, error) {
	var theirs, ours unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/mnt", &theirs); err != nil {
		return false, err
	}
	if err := unix.Stat("/proc/thread-self/ns/mnt", &ours); err != nil {
		return false, err
	}
	return theirs.Ino != ours.Ino || theirs.Dev != ours.Dev, nil
}

// identityAttrs are the mount attributes of every identity file.
const identityAttrs = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC

// detachedIdentityTrees writes the identity files on a tmpfs that is never
// attached anywhere (fsopen/fsmount) and clones a mount of each file: no
// mount appears in, or propagates through, the host's namespace, and
// nothing is left to unmount. Returns EINVAL where the kernel cannot clone
// from a detached mount.
func detachedIdentityTrees(contents map[string]string) ([]int, error) {
	fsfd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fsfd)
	if err := unix.FsconfigSetString(fsfd, "size", "64k"); err != nil {
		return nil, fmt.Errorf("tmpfs size: %w", err)
	}
	if err := unix.FsconfigSetString(fsfd, "mode", "0755"); err != nil {
		return nil, fmt.Errorf("tmpfs mode: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("creating tmpfs: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	defer unix.Close(mfd)
	return writeAndClone(mfd, contents)
}

// attachedIdentityTrees is the fallback for older kernels: the tmpfs is
// mounted in the state dir just long enough to clone the files from it.
func attachedIdentityTrees(stateDir string, contents map[string]string) ([]int, error) {
	dir := filepath.Join(stateDir, "kernel-identity")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	defer os.Remove(dir)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return nil, fmt.Errorf("mounting tmpfs: %w", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	return writeAndClone(dfd, contents)
}

// writeAndClone writes each identity file under the directory dfd and
// returns a read-only clone of each, in kernelIdentityFiles' order.
func writeAndClone(dfd int, contents map[string]string) (_ []int, retErr error) {
	var trees []int
	defer func() {
		if retErr != nil {
			for _, fd := range trees {
				unix.Close(fd)
			}
		}
	}()
	for _, f := range kernelIdentityFiles {
		if err := writeAt(dfd, f.name, contents[f.name]); err != nil {
			return nil, err
		}
		fd, err := cloneReadOnly(dfd, f.name)
		if err != nil {
			return nil, err
		}
		trees = append(trees, fd)
	}
	return trees, nil
}

// writeAt creates name under the directory dfd with the given content.
func writeAt(dfd int, name, content string) error {
	fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o444)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(content)); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// cloneReadOnly returns a detached, read-only bind mount of name under dfd.
func cloneReadOnly(dfd int, name string) (int, error) {
	fd, err := unix.OpenTree(dfd, name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("cloning %s: %w", name, err)
	}
	attr := &unix.MountAttr{Attr_set: identityAttrs}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("making %s read-only: %w", name, err)
	}
	return fd, nil
}
