// Package pidns gives a supervisor what it needs to serve from inside
// another process's pid namespace: the namespace itself (to start a
// process in it) and a procfs of that namespace that nobody else can
// change (to name the namespace's processes, and only those).
//
// A process whose pid namespace is a container's, and whose /proc is a
// procfs of that namespace, cannot name a process outside the container:
// pidfd_open, process_vm_readv/writev, kill and the seccomp notifications'
// pids are all numbers in the caller's pid namespace, and a procfs shows
// only the processes of the namespace it was made for.
package pidns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/mountns"
)

// Target is the pid namespace of a process, and a procfs of it.
type Target struct {
	// NS is the pid namespace (an nsfs file, for setns).
	NS *os.File
	// Net is the process's network namespace: a process started in NS
	// joins it too, so that its /proc/<pid>/net, which any process of the
	// namespace may read, shows the container's network, not the host's.
	Net *os.File
	// Proc is a detached, private clone of the procfs mounted at the
	// process's /proc: its root directory. Nothing mounted on the
	// container's /proc later reaches it (it is a mount of its own, in no
	// mount namespace, and propagates nothing).
	Proc *os.File
	// reaper is the namespace's pid 1 (its /proc/<pid> directory, which
	// pins the process): the namespace lives as long as it does.
	reaper *os.File
	// id names the namespace (ID).
	id string
}

// ID names the namespace: its nsfs device and inode, as IDOf gives them
// for a path to a namespace file.
func (t *Target) ID() string { return t.id }

// IDOf names the pid namespace at path (a /proc/<pid>/ns/pid file or a
// bind mount of one).
func IDOf(path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", err
	}
	return idOf(&st), nil
}

func idOf(st *unix.Stat_t) string { return fmt.Sprintf("%d-%d", st.Dev, st.Ino) }

// Close closes the target's files.
func (t *Target) Close() {
	for _, f := range []*os.File{t.NS, t.Net, t.Proc, t.reaper} {
		if f != nil {
			f.Close()
		}
	}
}

// Of returns the pid namespace of pid and a private clone of the procfs at
// its /proc. The caller must be able to open the process's namespaces
// (CAP_SYS_PTRACE) and to join its mount namespace and clone a mount
// there (CAP_SYS_ADMIN), and must
// call it while the process's /proc is trusted: before the process runs
// anything of the workload's (a workload that can mount may cover its
// /proc, and the clone checks only that what it finds is a procfs of the
// process's pid namespace).
func Of(pid int) (*Target, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	t := &Target{}
	fail := func(err error) (*Target, error) {
		t.Close()
		return nil, err
	}
	proc := "/proc/" + strconv.Itoa(pid)
	if t.NS, err = os.Open(proc + "/ns/pid"); err != nil {
		return fail(fmt.Errorf("opening the pid namespace of %d: %w", pid, err))
	}
	var theirs, ours unix.Stat_t
	if err := unix.Fstat(int(t.NS.Fd()), &theirs); err != nil {
		return fail(err)
	}
	if err := unix.Stat("/proc/self/ns/pid", &ours); err != nil {
		return fail(err)
	}
	if theirs.Dev == ours.Dev && theirs.Ino == ours.Ino {
		return fail(ErrShared)
	}
	t.id = idOf(&theirs)
	if t.Net, err = os.Open(proc + "/ns/net"); err != nil {
		return fail(fmt.Errorf("opening the network namespace of %d: %w", pid, err))
	}
	// A mount is cloned from the caller's mount namespace only: the
	// clone is made on a thread that joins the process's.
	tree := -1
	err = mountns.Do(pid, func() error {
		// No symbolic link, not above the root: the mount point the
		// process itself sees as /proc.
		dir, err := unix.Openat2(unix.AT_FDCWD, "/proc", &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err != nil {
			return fmt.Errorf("opening its /proc: %w", err)
		}
		defer unix.Close(dir)
		if tree, err = unix.OpenTree(dir, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("cloning its /proc: %w", err)
		}
		return nil
	})
	if tree >= 0 {
		t.Proc = os.NewFile(uintptr(tree), "proc")
	}
	if err != nil {
		return fail(fmt.Errorf("process %d: %w", pid, err))
	}
	// The namespaces and the mount are the process's, not a recycled
	// pid's, if it still runs now.
	if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
		return fail(fmt.Errorf("process %d: %w", pid, err))
	}
	// Private: mounts made later in the peer group of the container's
	// /proc must not appear in the clone. Kernels before 5.12 lack
	// mount_setattr; there the clone is as private as the container's
	// /proc (the runtime makes a container's mounts rslave at most).
	attr := unix.MountAttr{Propagation: unix.MS_PRIVATE}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr); err != nil && !errors.Is(err, unix.ENOSYS) {
		return fail(fmt.Errorf("making the clone of /proc of %d private: %w", pid, err))
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(tree, &fs); err != nil {
		return fail(fmt.Errorf("/proc of %d: %w", pid, err))
	}
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return fail(fmt.Errorf("/proc of %d: %w", pid, err))
	}
	if fs.Type != unix.PROC_SUPER_MAGIC || st.Ino != procRootIno {
		return fail(fmt.Errorf("/proc of %d is not the root of a procfs", pid))
	}
	reaper, err := unix.Openat(tree, "1", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(fmt.Errorf("/proc of %d: its pid 1: %w", pid, err))
	}
	t.reaper = os.NewFile(uintptr(reaper), "reaper")
	// Pid 1 of the procfs's namespace is in that namespace: the procfs is
	// of pid's namespace if the two are the same.
	var reapers unix.Stat_t
	if err := unix.Fstatat(reaper, "ns/pid", &reapers, 0); err != nil {
		return fail(fmt.Errorf("/proc of %d: the pid namespace of its pid 1: %w", pid, err))
	}
	if reapers.Dev != theirs.Dev || reapers.Ino != theirs.Ino {
		return fail(fmt.Errorf("/proc of %d is a procfs of another pid namespace than its own", pid))
	}
	return t, nil
}

// ErrShared is Of's error for a process in the caller's own pid namespace:
// nothing is gained by entering it.
var ErrShared = errors.New("the process shares the caller's pid namespace")

// procRootIno is the inode number of a procfs's root directory.
const procRootIno = 1

// Alive reports whether the namespace's pid 1 still runs: once it has
// exited, the kernel kills every other process of the namespace.
func (t *Target) Alive() bool {
	return unix.PidfdSendSignal(int(t.reaper.Fd()), 0, nil, 0) != unix.ESRCH
}

// Ending reports whether the namespace's pid 1 has exited or is exiting:
// the kernel then kills every other process of the namespace (with
// SIGKILL), and waits for them to be reaped before pid 1 is gone, so a
// parent outside the namespace that reaps such a process finds pid 1
// exiting, not gone. Exiting means every thread of it: a thread-group
// leader that exits alone (exit(2), not exit_group) is a zombie in exit
// while its other threads keep the namespace alive, and the kernel kills
// the namespace only when the last one exits.
func (t *Target) Ending() bool {
	if !t.Alive() {
		return true
	}
	tasks, err := unix.Openat(int(t.reaper.Fd()), "task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT)
	}
	dir := os.NewFile(uintptr(tasks), "task")
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return false
	}
	for _, tid := range names {
		data, err := readAt(tasks, tid+"/stat")
		if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) {
			continue // gone meanwhile
		}
		flags, ok := statFlags(data)
		if err != nil || !ok || flags&pfExiting == 0 {
			return false
		}
	}
	return true
}

// readAt reads a small file below a directory fd.
func readAt(dfd int, path string) (string, error) {
	fd, err := unix.Openat(dfd, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	buf := make([]byte, 4096)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// pfExiting is the kernel's PF_EXITING task flag: the task is in exit.
const pfExiting = 0x4

// statFlags returns the flags field of a /proc/<pid>/stat line (the ninth;
// the second, the command name in parentheses, may hold spaces and
// parentheses of its own).
func statFlags(stat string) (uint64, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 7 {
		return 0, false
	}
	v, err := strconv.ParseUint(f[6], 10, 64)
	return v, err == nil
}

// Enter makes the calling thread's future children start in the target's
// pid namespace (setns(2): the thread itself stays where it is), and
// moves the thread into the target's network namespace, which its
// children inherit. It needs CAP_SYS_ADMIN; the caller must lock the
// goroutine to its thread and must not unlock it (the thread is retired
// when the goroutine exits).
func (t *Target) Enter() error {
	if err := unix.Setns(int(t.NS.Fd()), unix.CLONE_NEWPID); err != nil {
		return fmt.Errorf("entering the pid namespace: %w", err)
	}
	if err := unix.Setns(int(t.Net.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("entering the network namespace: %w", err)
	}
	return nil
}
