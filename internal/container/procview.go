package container

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
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
	dir := filepath.Join(stateDir, "kernel-identity")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("kernel identity: %w", err)
	}
	defer os.Remove(dir)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return fmt.Errorf("kernel identity: mounting tmpfs: %w", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	contents := map[string]string{
		"version":   fmt.Sprintf("Linux version %s (syscage@sandbox) %s\n", o.KernelRelease, o.KernelVersion),
		"osrelease": o.KernelRelease + "\n",
		"kversion":  o.KernelVersion + "\n",
	}
	var trees []int
	defer func() {
		for _, fd := range trees {
			unix.Close(fd)
		}
	}()
	for _, f := range kernelIdentityFiles {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(contents[f.name]), 0o444); err != nil {
			return fmt.Errorf("kernel identity: %w", err)
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, p, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return fmt.Errorf("kernel identity: cloning %s: %w", f.name, err)
		}
		trees = append(trees, fd)
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
			return fmt.Errorf("kernel identity: making %s read-only: %w", f.name, err)
		}
	}
	nsfd, err := unix.Open("/proc/"+strconv.Itoa(initPid)+"/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("kernel identity: opening the container's mount namespace: %w", err)
	}
	defer unix.Close(nsfd)
	errc := make(chan error, 1)
	go func() {
		// This thread joins the container's mount namespace and is never
		// handed back to the Go scheduler: returning without
		// UnlockOSThread makes the runtime end the thread.
		runtime.LockOSThread()
		errc <- attachInNamespace(nsfd, trees)
	}()
	return <-errc
}

func attachInNamespace(nsfd int, trees []int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("kernel identity: unshare(CLONE_FS): %w", err)
	}
	if err := unix.Setns(nsfd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("kernel identity: entering the container's mount namespace: %w", err)
	}
	for i, f := range kernelIdentityFiles {
		if err := unix.MoveMount(trees[i], "", unix.AT_FDCWD, f.target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("kernel identity: mounting over %s: %w", f.target, err)
		}
	}
	return nil
}

// ownMountNamespace reports whether pid's mount namespace differs from
// ours. (A namespace joined by path is excluded by the caller: it has
// other members.)
func ownMountNamespace(pid int) (bool, error) {
	var theirs, ours unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/mnt", &theirs); err != nil {
		return false, err
	}
	if err := unix.Stat("/proc/self/ns/mnt", &ours); err != nil {
		return false, err
	}
	return theirs.Ino != ours.Ino || theirs.Dev != ours.Dev, nil
}
