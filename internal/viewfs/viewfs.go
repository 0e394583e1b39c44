// Package viewfs serves a container's resource views (internal/resview)
// as files — meminfo, cpuinfo, stat, uptime, loadavg, swaps, diskstats,
// cpu-online — on a FUSE file system of its own, and mounts each file
// over the procfs or sysfs file it stands for inside the container's
// mount namespace (resview.Files).
//
// The file system is created detached (fsopen/fsmount): it is never
// attached in the host's namespace, so no other process can reach it and
// nothing is left to unmount; the container's mounts are its only users.
// One views server per container: a reader in one container never waits
// on another's. A rendering of a view is kept for Fresh (and dropped at
// once when a file of the container's cgroup is written, as `syscage
// update` does) and read from the kernel's page cache, so that a read
// costs one FUSE request (the open) while it is fresh; see file.Open.
// If the server is gone, the kernel fails every open of the files with
// ENOTCONN: a container never sees the host's values instead (a file it
// opened before keeps at most its container's last rendering, see
// Start).
package viewfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/mountns"
	"github.com/syscage/syscage/internal/resview"
)

// Renderer is what the files are made from (resview.View).
type Renderer interface {
	Snapshot(need resview.Need) (*resview.Snapshot, error)
}

// Fresh is how long a rendering of a view is served again (from the
// kernel's page cache) before the next open renders it anew: the bound
// on how stale a view's usage figures (memory in use, CPU time, load,
// uptime) can be. A change of the container's limits is seen at once:
// a write to any file of its cgroup directories (`syscage update`)
// makes the next open of every view render anew (see limitsWatch).
const Fresh = 500 * time.Millisecond

// root is the file system's root: one file per view.
type root struct {
	fs.Inode
	view   Renderer
	limits *limitsWatch
}

var _ = (fs.NodeOnAdder)((*root)(nil))

func (r *root) OnAdd(ctx context.Context) {
	for i, f := range resview.Files {
		ch := r.NewPersistentInode(ctx, &file{name: f.Name, view: r.view, limits: r.limits},
			fs.StableAttr{Mode: syscall.S_IFREG, Ino: uint64(i + 2)})
		r.AddChild(f.Name, ch, false)
	}
}

// file is one view.
type file struct {
	fs.Inode
	name   string
	view   Renderer
	limits *limitsWatch

	// cur is the rendering the kernel's page cache holds (or will):
	// replaced under mu, read without it (see Read).
	cur  atomic.Pointer[[]byte]
	mu   sync.Mutex
	made time.Time // when cur was rendered (or found unchanged)
	gen  uint64    // limits.generation() when cur was rendered
}

// current is the current rendering (nil if none yet).
func (f *file) current() []byte {
	if p := f.cur.Load(); p != nil {
		return *p
	}
	return nil
}

var (
	_ = (fs.NodeOpener)((*file)(nil))
	_ = (fs.NodeGetattrer)((*file)(nil))
	_ = (fs.NodeReader)((*file)(nil))
)

// Getattr: read-only for everyone; the size is that of the rendering the
// kernel caches (rendered now if there is none yet). It never renders a
// new one over it: a size the kernel finds unchanged would leave it
// serving cached pages of the old rendering as the new one.
func (f *file) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | 0o444
	out.Nlink = 1
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur.Load() == nil {
		if b, err := f.render(); err == nil {
			f.cur.Store(&b)
			f.made, f.gen = time.Now(), f.limits.generation()
		}
	}
	out.Size = uint64(len(f.current()))
	return 0
}

func (f *file) render() ([]byte, error) {
	s, err := f.view.Snapshot(resview.NeedOf(f.name))
	if err != nil {
		logrus.Warnf("views: %s: %v", f.name, err)
		return nil, err
	}
	return resview.Render(f.name, s)
}

// Open hands out the view's current rendering. Reads go through the
// kernel's page cache (no FLUSH on close: nothing is written), so an
// open is the one request a read costs while the rendering is fresh
// (FOPEN_KEEP_CACHE: the cached pages are read again). Every open
// reaches the server: with the server gone it fails (ENOTCONN), so no
// new open ever reads what the kernel still caches.
//
// A rendering older than Fresh, or made before the container's limits
// changed, is replaced by a new one; if that differs, the open is
// answered without FOPEN_KEEP_CACHE, so the kernel drops the cached pages
// and the next read fetches the new rendering (one READ: the kernel then
// knows the end of the file from its size, no read at EOF reaches us).
//
// The kernel's idea of the size must be the rendering's: it ends reads
// and sendfile/splice (which read through the page cache, busybox cat
// uses it) there. Storing the rendering's last byte in the cache (FUSE
// NOTIFY_STORE) extends the size if it was shorter (the open then drops
// the page, the size stays); a read that comes back short shrinks it
// (the kernel takes a short read as the end of the file).
func (f *file) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	gen := f.limits.generation()
	cur := f.cur.Load()
	if f.limits != nil && cur != nil && gen == f.gen && now.Sub(f.made) < Fresh {
		return nil, fuse.FOPEN_KEEP_CACHE | fuse.FOPEN_NOFLUSH, 0
	}
	b, err := f.render()
	if err != nil {
		return nil, 0, syscall.EIO
	}
	same := cur != nil && bytes.Equal(b, *cur)
	f.made, f.gen = now, gen
	if same {
		return nil, fuse.FOPEN_KEEP_CACHE | fuse.FOPEN_NOFLUSH, 0
	}
	f.cur.Store(&b)
	// The store may wait for a page a read holds locked while it waits
	// for its READ: Read takes no lock, so that READ is answered.
	if n := len(b); n > 0 {
		if errno := f.WriteCache(int64(n-1), b[n-1:]); errno != 0 {
			logrus.Warnf("views: %s: setting the size: %v", f.name, errno)
		}
	}
	return nil, fuse.FOPEN_NOFLUSH, 0
}

// Read serves the view's current rendering: the one the last open
// installed, so that whatever pages a read fills in the kernel's cache
// (whichever open it comes from) are those of the rendering the cache is
// meant to hold. A read of a view longer than the kernel's read-ahead
// (128 KiB) that spans a new rendering may join parts of two.
func (f *file) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off < 0 {
		return nil, syscall.EINVAL
	}
	// No lock: an open may hold f.mu while the kernel makes it wait
	// for this very read (see Open). A rendering is never changed once
	// made (a new one replaces it), so the reply may share it.
	cur := f.current()
	if off >= int64(len(cur)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(cur)))
	return fuse.ReadResultData(cur[off:end]), 0
}

// Server is a running views file system.
type Server struct {
	srv   *fuse.Server
	devfd int
	mfd   int // the detached mount of the root (-1 once attached)
}

// Start creates the file system (detached: fsopen/fsmount on /dev/fuse)
// and serves it. dirs are the container's cgroup directories, watched
// for changes of its limits (limitsWatch).
func Start(view Renderer, dirs resview.Dirs) (*Server, error) {
	devfd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening /dev/fuse: %w", err)
	}
	mfd, err := detachedMount(devfd)
	if err != nil {
		unix.Close(devfd)
		return nil, err
	}
	opts := &fs.Options{
		// The files never change identity: the kernel may keep their
		// entries. Their attributes (the size) expire after Fresh: a
		// read that reaches the end of the file then asks for them, so
		// a file kept open after the server died fails (ENOTCONN)
		// within Fresh too, rather than reading its cached pages on.
		EntryTimeout: ptr(time.Hour),
		AttrTimeout:  ptr(Fresh),
		MountOptions: fuse.MountOptions{
			AllowOther:    true,
			FsName:        "syscage-views",
			Name:          "syscage",
			DisableXAttrs: true,
			MaxBackground: 4,
		},
	}
	srv, err := fuse.NewServer(fs.NewNodeFS(&root{view: view, limits: watchLimits(dirList(dirs))}, opts), "/dev/fd/"+strconv.Itoa(devfd), &opts.MountOptions)
	if err != nil {
		unix.Close(mfd)
		unix.Close(devfd)
		return nil, fmt.Errorf("starting the views server: %w", err)
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		unix.Close(mfd)
		return nil, fmt.Errorf("starting the views server: %w", err)
	}
	return &Server{srv: srv, devfd: devfd, mfd: mfd}, nil
}

func ptr[T any](v T) *T { return &v }

// detachedMount makes a FUSE superblock served through devfd and returns
// a detached, read-only mount of it.
func detachedMount(devfd int) (int, error) {
	fsfd, err := unix.Fsopen("fuse", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen fuse: %w", err)
	}
	defer unix.Close(fsfd)
	for _, kv := range [][2]string{{"fd", strconv.Itoa(devfd)}, {"rootmode", "40555"}, {"user_id", "0"}, {"group_id", "0"}} {
		if err := unix.FsconfigSetString(fsfd, kv[0], kv[1]); err != nil {
			return -1, fmt.Errorf("fuse option %s: %w", kv[0], err)
		}
	}
	if err := unix.FsconfigSetFlag(fsfd, "allow_other"); err != nil {
		return -1, fmt.Errorf("fuse option allow_other: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("creating the fuse file system: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, viewAttrs)
	if err != nil {
		return -1, fmt.Errorf("fsmount fuse: %w", err)
	}
	return mfd, nil
}

// viewAttrs are the mount attributes of every view.
const viewAttrs = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC

// Wait returns when the file system is gone: every mount of it was
// unmounted (the container's mount namespace went away with its last
// process) or its connection aborted.
func (s *Server) Wait() { s.srv.Wait() }

// Attach mounts each view over its target inside the mount namespace of
// pid (the container's init), then drops the server's own mount of the
// root. Targets missing in the container (no /sys, say) are skipped.
// scratch is a private directory (in the container's state dir) for
// kernels that cannot clone from a detached mount (before 6.15): the
// root is attached there just long enough to clone the files.
func (s *Server) Attach(pid int, scratch string) error {
	defer func() {
		if s.mfd >= 0 {
			unix.Close(s.mfd)
			s.mfd = -1
		}
	}()
	trees, err := cloneFiles(s.mfd)
	if errors.Is(err, unix.EINVAL) {
		trees, err = cloneAttached(s.mfd, scratch)
	}
	if err != nil {
		return err
	}
	defer func() {
		for _, fd := range trees {
			unix.Close(fd)
		}
	}()
	return mountns.Do(pid, func() error { return moveInto(trees) })
}

// cloneFiles returns a read-only clone of each view under the directory
// dfd (the file system's root), in resview.Files' order.
func cloneFiles(dfd int) (_ []int, retErr error) {
	var trees []int
	defer func() {
		if retErr != nil {
			for _, fd := range trees {
				unix.Close(fd)
			}
		}
	}()
	for _, f := range resview.Files {
		fd, err := unix.OpenTree(dfd, f.Name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return nil, fmt.Errorf("cloning view %s: %w", f.Name, err)
		}
		trees = append(trees, fd)
		attr := &unix.MountAttr{Attr_set: viewAttrs}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, attr); err != nil {
			return nil, fmt.Errorf("making view %s read-only: %w", f.Name, err)
		}
	}
	return trees, nil
}

// cloneAttached is cloneFiles for kernels before 6.15: the root is
// attached at dir (created, then removed) only while the files are
// cloned.
func cloneAttached(mfd int, dir string) ([]int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("views: %w", err)
	}
	defer os.Remove(dir)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return nil, fmt.Errorf("attaching the views at %s: %w", dir, err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	return cloneFiles(dfd)
}

// moveInto joins the mount namespace nsfd (on a thread the caller
// retires) and moves each clone over its target.
func moveInto(trees []int) error {
	for i, f := range resview.Files {
		// Only over the kernel's own files: a /sys that is the image's
		// directory (no sysfs mounted) is left as it is.
		var st unix.Statfs_t
		if err := unix.Statfs(f.Target, &st); err != nil {
			logrus.Warnf("views: %s is not in the container (%v): not shown", f.Target, err)
			continue
		}
		if st.Type != unix.PROC_SUPER_MAGIC && st.Type != unix.SYSFS_MAGIC {
			logrus.Warnf("views: %s is not on procfs or sysfs in the container (file system %#x): not shown", f.Target, st.Type)
			continue
		}
		if err := unix.MoveMount(trees[i], "", unix.AT_FDCWD, f.Target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("mounting the view over %s: %w", f.Target, err)
		}
	}
	return nil
}

// DropPrivileges makes the server id (uid and gid: its container's
// sentry's, an id no workload has, so no process but root's can signal it
// or share its per-user limits), with no capabilities (it executes
// nothing, so it cannot regain any): once attached it only answers on its
// /dev/fuse fd and reads cgroup files (world-readable) through the
// directory fds it holds.
func DropPrivileges(id uint32) error {
	if id == 0 {
		return fmt.Errorf("dropping privileges: no id to drop to")
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("dropping groups: %w", err)
	}
	if err := syscall.Setresgid(int(id), int(id), int(id)); err != nil {
		return fmt.Errorf("setresgid %d: %w", id, err)
	}
	// From uid 0 to non-zero: the kernel clears every capability set.
	if err := syscall.Setresuid(int(id), int(id), int(id)); err != nil {
		return fmt.Errorf("setresuid %d: %w", id, err)
	}
	return nil
}

// dirList is the directories of d a views server joins and watches: on
// v1 memory, cpu, cpuacct and cpuset (each once), on v2 the one cgroup.
func dirList(d resview.Dirs) []string {
	dirs := []string{d.Memory, d.CPU, d.CPUAcct, d.CPUSet}
	if d.V2 {
		dirs = []string{d.Unified}
	}
	var list []string
	seen := map[string]bool{}
	for _, dir := range dirs {
		if dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		list = append(list, dir)
	}
	return list
}

// JoinCgroups moves the calling process into the container's cgroups
// (d, resview.DirsOf its init): on v1 its memory, cpu, cpuacct and cpuset
// hierarchies — not pids (the server's threads would count against the
// container's task limit) and not devices or freezer (`syscage ps` and
// pause go by those); on v2 its one cgroup. The server's memory and CPU
// are then the container's: a reader that floods its views slows and
// fills only its own container, never the host or another container.
func JoinCgroups(d resview.Dirs) error {
	for _, dir := range dirList(d) {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte("0"), 0); err != nil {
			return fmt.Errorf("joining the container's cgroup %s: %w", dir, err)
		}
	}
	return nil
}
