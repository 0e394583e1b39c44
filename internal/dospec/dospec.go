// Package dospec builds the OCI bundle of `syscage do`: a container with
// no image of its own, whose root file system is the host's, read-only,
// with the working directory and chosen paths writable, a private /tmp and
// /run, a minimal /dev, and new pid, ipc, uts, mount (and, unless the host
// network is asked for, network) namespaces. Rootless, it adds a user
// namespace mapping the caller's ids.
//
// The bundle lives in a private temporary directory that Remove deletes;
// its rootfs is an empty directory holding only mount points (the host's
// top-level directories are bound onto them, recursively read-only) and
// the host's top-level symbolic links (bin -> usr/bin ...).
package dospec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/subid"
)

// Network modes.
const (
	NetworkNone = "none" // a network namespace of its own with only lo
	NetworkHost = "host" // the host's network namespace
)

// InitPath is where the sandbox's pid 1 (the `do-init` command of this
// binary) is bound inside the container.
const InitPath = "/.syscage-init"

// Options say what the sandbox runs and what it may touch.
type Options struct {
	// Args is the command and its arguments.
	Args []string
	// Cwd is the working directory: absolute, made writable.
	Cwd string
	// RW and RO are host paths (absolute) bound writable or read-only at
	// the same place.
	RW, RO []string
	// Hide are host paths (absolute, existing directories) covered by an
	// empty read-only tmpfs: --hide, and the runtime's own state (its
	// sockets must not be reachable from the sandbox).
	Hide []string
	// Network is NetworkNone or NetworkHost.
	Network string
	// Env is the command's whole environment.
	Env []string
	// Terminal gives the command a terminal of its own.
	Terminal bool
	// MemoryBytes and CPUs are cgroup limits (0: none).
	MemoryBytes int64
	CPUs        float64
	// Rootless adds a user namespace whose root is the caller (UID, GID
	// on the host) and, when SubUID/SubGID are given, maps ids 1.. onto
	// the caller's subordinate range.
	Rootless       bool
	UID, GID       int
	SubUID, SubGID *subid.Range
	// Init is the host path of the binary whose do-init command is the
	// sandbox's pid 1 (it forwards signals and reaps orphans, as a shell
	// does not when it is pid 1). Empty: the command is pid 1 itself.
	Init string
	// Hostname is the sandbox's host name.
	Hostname string
}

// hidden are the host's top-level directories the sandbox does not get:
// it has its own /proc, /sys, /dev, /tmp and /run.
var hidden = map[string]bool{"proc": true, "sys": true, "dev": true, "tmp": true, "run": true}

// Bundle is a prepared bundle directory.
type Bundle struct {
	Dir string
}

// Remove deletes the bundle directory. The rootfs holds only empty mount
// points and links (the container's mounts were in its own namespace).
func (b *Bundle) Remove() error {
	return os.RemoveAll(b.Dir)
}

// Prepare checks o, makes a bundle directory under base (mode 0700) with
// its rootfs skeleton and config.json, and returns it. Nothing is left
// behind when it fails.
func Prepare(base string, o Options) (*Bundle, error) {
	o, err := Resolve(o)
	if err != nil {
		return nil, err
	}
	if err := Check(o); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("do: creating %s: %w", base, err)
	}
	dir, err := os.MkdirTemp(base, "do-")
	if err != nil {
		return nil, fmt.Errorf("do: creating a bundle directory: %w", err)
	}
	b := &Bundle{Dir: dir}
	fail := func(err error) (*Bundle, error) {
		b.Remove()
		return nil, err
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return fail(fmt.Errorf("do: %w", err))
	}
	tops, err := skeleton(rootfs)
	if err != nil {
		return fail(err)
	}
	spec := Build(o, tops)
	data, err := json.Marshal(spec)
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		return fail(fmt.Errorf("do: writing the bundle's config: %w", err))
	}
	return b, nil
}

// Resolve replaces the working directory and every --rw, --ro and --hide
// path with the path it names once its symbolic links are followed, and
// refuses a path that passes through a link lying in a directory the
// sandbox may write (the working directory, a --rw path). The sandboxed
// command writes there, so a link it left (out -> /etc, .git -> ~/.ssh)
// would otherwise become, on a later run, a writable bind of /etc or a
// read-only bind over a hidden directory: the review did both. Links
// elsewhere are the user's own and are followed; the checks (Check) and
// the binds (Build) see the resolved paths. (A sandbox running at the
// same time that swaps a directory for a link between this and the mount
// could still race it.)
func Resolve(o Options) (Options, error) {
	resolve := func(p, flag string) (string, error) {
		if !filepath.IsAbs(p) {
			return "", fmt.Errorf("do: %s %s: not an absolute path", flag, p)
		}
		r, err := filepath.EvalSymlinks(p)
		if err != nil {
			return "", fmt.Errorf("do: %s %s: %w", flag, p, err)
		}
		return r, nil
	}
	var err error
	if o.Cwd != "" && o.Cwd != "/" {
		if o.Cwd, err = resolve(o.Cwd, "the working directory"); err != nil {
			return o, err
		}
	}
	writable := []string{o.Cwd}
	for _, p := range o.RW {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			writable = append(writable, r)
		}
	}
	for _, l := range []struct {
		paths *[]string
		flag  string
	}{{&o.RW, "--rw"}, {&o.RO, "--ro"}, {&o.Hide, "--hide"}} {
		out := make([]string, len(*l.paths))
		for i, p := range *l.paths {
			if filepath.IsAbs(p) {
				if link, area := plantedLink(p, writable); link != "" {
					return o, fmt.Errorf("do: %s %s: %s is a symbolic link inside %s, which the sandbox can write: a sandboxed command may have put it there; give the path it should name", l.flag, p, link, area)
				}
			}
			if out[i], err = resolve(p, l.flag); err != nil {
				return o, err
			}
		}
		*l.paths = out
	}
	return o, nil
}

// plantedLink returns the first component of p that is a symbolic link
// lying at or under one of the writable directories, and that directory;
// "" if there is none.
func plantedLink(p string, writable []string) (string, string) {
	cur := "/"
	for _, c := range strings.Split(strings.Trim(filepath.Clean(p), "/"), "/") {
		if c == "" {
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(next)
		if err != nil {
			return "", ""
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(cur)
			if err != nil {
				return "", ""
			}
			for _, w := range writable {
				if w != "" && (real == w || strings.HasPrefix(real, strings.TrimSuffix(w, "/")+"/")) {
					return next, w
				}
			}
			// A link of the user's: follow it and go on from its target.
			t, err := filepath.EvalSymlinks(next)
			if err != nil {
				return "", ""
			}
			next = t
		}
		cur = next
	}
	return "", ""
}

// Check validates the options (after Resolve): a command, absolute paths
// that exist, writable ones where writing is asked for, and no bind at or
// under a hidden directory (it would be mounted over the hiding tmpfs).
func Check(o Options) error {
	if len(o.Args) == 0 || o.Args[0] == "" {
		return errors.New("do: no command given (usage: syscage do [flags] -- CMD [ARGS...])")
	}
	switch o.Network {
	case NetworkNone, NetworkHost:
	default:
		return fmt.Errorf("do: --network %q: must be %s or %s", o.Network, NetworkNone, NetworkHost)
	}
	if o.MemoryBytes < 0 {
		return fmt.Errorf("do: --memory: must not be negative")
	}
	if o.CPUs < 0 {
		return fmt.Errorf("do: --cpus %v: must not be negative", o.CPUs)
	}
	if o.Cwd == "/" {
		return errors.New("do: the working directory is /, which would make the whole host writable; run from the directory the command may write to")
	}
	for _, p := range append([]string{o.Cwd}, o.RW...) {
		if err := checkPath(p, "--rw", true); err != nil {
			if p == o.Cwd {
				return fmt.Errorf("do: the working directory %s: %w", p, errors.Unwrap(err))
			}
			return err
		}
	}
	for _, p := range o.RO {
		if err := checkPath(p, "--ro", false); err != nil {
			return err
		}
	}
	for _, p := range o.Hide {
		if err := checkPath(p, "--hide", false); err != nil {
			return err
		}
		if fi, _ := os.Stat(p); !fi.IsDir() {
			return fmt.Errorf("do: --hide %s: not a directory", p)
		}
	}
	for _, h := range o.Hide {
		for _, l := range []struct {
			paths []string
			flag  string
		}{{[]string{o.Cwd}, "the working directory"}, {o.RW, "--rw"}, {o.RO, "--ro"}} {
			for _, p := range l.paths {
				if p == h || strings.HasPrefix(p, strings.TrimSuffix(h, "/")+"/") {
					return fmt.Errorf("do: %s %s is at or under the hidden directory %s", l.flag, p, h)
				}
			}
		}
	}
	return nil
}

func checkPath(p, flag string, writable bool) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("do: %s %s: %w", flag, p, errors.New("not an absolute path"))
	}
	clean := filepath.Clean(p)
	if top := strings.SplitN(strings.TrimPrefix(clean, "/"), "/", 2)[0]; writable && (clean == "/" || top == "proc" || top == "sys" || top == "dev") {
		return fmt.Errorf("do: %s %s: %w", flag, p, errors.New("the sandbox's /, /proc, /sys and /dev cannot be made writable"))
	}
	if _, err := os.Stat(p); err != nil {
		return fmt.Errorf("do: %s %s: %w", flag, p, err)
	}
	if writable {
		if err := unix.Access(p, unix.W_OK); err != nil {
			return fmt.Errorf("do: %s %s: %w", flag, p, fmt.Errorf("not writable by us: %w", err))
		}
	}
	return nil
}

// skeleton fills rootfs with a mount point for each of the host's
// top-level directories (but those in hidden) and a copy of each
// top-level symbolic link, and returns the directories' names.
func skeleton(rootfs string) ([]string, error) {
	entries, err := os.ReadDir("/")
	if err != nil {
		return nil, fmt.Errorf("do: reading the host's /: %w", err)
	}
	var dirs []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case hidden[name]:
			if err := os.Mkdir(filepath.Join(rootfs, name), 0o755); err != nil {
				return nil, fmt.Errorf("do: %w", err)
			}
		case e.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink("/" + name)
			if err != nil {
				return nil, fmt.Errorf("do: reading the host's /%s: %w", name, err)
			}
			if err := os.Symlink(target, filepath.Join(rootfs, name)); err != nil {
				return nil, fmt.Errorf("do: %w", err)
			}
		case e.IsDir():
			if err := os.Mkdir(filepath.Join(rootfs, name), 0o755); err != nil {
				return nil, fmt.Errorf("do: %w", err)
			}
			dirs = append(dirs, name)
		}
		// Top-level files (rare) are left out.
	}
	return dirs, nil
}

// Build returns the spec: the host's top-level directories tops bound
// read-only, then the sandbox's own /proc, /dev, /sys, /tmp and /run, then
// the writable, read-only and hidden paths, shallowest first (so a --ro
// inside a writable directory stays read-only, a --hide inside it hidden).
func Build(o Options, tops []string) *specs.Spec {
	spec := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: o.Hostname,
		Process: &specs.Process{
			Terminal: o.Terminal,
			User:     specs.User{UID: 0, GID: 0},
			Args:     o.Args,
			Env:      o.Env,
			Cwd:      o.Cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  defaultCaps,
				Effective: defaultCaps,
				Permitted: defaultCaps,
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
				"/sys/firmware", "/sys/devices/virtual/powercap",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
	if o.Init != "" {
		spec.Process.Args = append([]string{InitPath, "do-init", "--"}, o.Args...)
	}
	// Keep the rlimit of open files the caller has, as a directly run
	// command would.
	var nofile unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile) == nil {
		spec.Process.Rlimits[0] = specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Hard: nofile.Max, Soft: nofile.Cur}
	}
	if o.Network == NetworkNone {
		spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	ro := []string{"rbind", "rro", "nosuid", "nodev"}
	devpts := []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
	if !o.Rootless {
		// The tty group; a user namespace maps only the caller's group.
		devpts = append(devpts, "gid=5")
	}
	for _, d := range tops {
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/" + d, Type: "bind", Source: "/" + d, Options: ro})
	}
	spec.Mounts = append(spec.Mounts,
		specs.Mount{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: devpts},
		specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		specs.Mount{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
		specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=755"}},
	)
	if o.Rootless {
		// A user may mount sysfs only in a network namespace of its own
		// user namespace; the host's, bound read-only, does everywhere.
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: ro})
	} else {
		spec.Mounts = append(spec.Mounts,
			specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			// The sandbox's own cgroup (a cgroup namespace of its own),
			// so a command can read its limits.
			specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}})
	}
	type bind struct {
		path     string
		rw, hide bool
	}
	var binds []bind
	binds = append(binds, bind{path: filepath.Clean(o.Cwd), rw: true})
	for _, p := range o.RW {
		binds = append(binds, bind{path: filepath.Clean(p), rw: true})
	}
	for _, p := range o.RO {
		binds = append(binds, bind{path: filepath.Clean(p)})
	}
	for _, p := range o.Hide {
		binds = append(binds, bind{path: filepath.Clean(p), hide: true})
	}
	sort.SliceStable(binds, func(i, j int) bool {
		return strings.Count(binds[i].path, "/") < strings.Count(binds[j].path, "/")
	})
	for _, b := range binds {
		if b.hide {
			spec.Mounts = append(spec.Mounts, specs.Mount{Destination: b.path, Type: "tmpfs", Source: "tmpfs",
				Options: []string{"ro", "nosuid", "nodev", "noexec", "size=4k", "mode=755"}})
			continue
		}
		opts := []string{"rbind", "nosuid", "nodev"}
		if b.rw {
			opts = append(opts, "rw")
		} else {
			opts = append(opts, "rro")
		}
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: b.path, Type: "bind", Source: b.path, Options: opts})
	}
	if o.Init != "" {
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: InitPath, Type: "bind", Source: o.Init, Options: []string{"bind", "ro", "nosuid", "nodev"}})
	}
	if o.Rootless {
		spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		spec.Linux.UIDMappings = mappings(o.UID, o.SubUID)
		spec.Linux.GIDMappings = mappings(o.GID, o.SubGID)
	} else {
		spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	}
	if o.MemoryBytes > 0 || o.CPUs > 0 {
		if spec.Linux.Resources == nil {
			spec.Linux.Resources = &specs.LinuxResources{}
		}
		if o.MemoryBytes > 0 {
			limit := o.MemoryBytes
			spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
		}
		if o.CPUs > 0 {
			period := uint64(100000)
			quota := int64(o.CPUs * float64(period))
			spec.Linux.Resources.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
		}
	}
	return spec
}

// defaultCaps are the capabilities of the sandbox's root: the OCI
// default's, nothing that overrides file permissions or administers the
// system.
var defaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}

// mappings maps the sandbox's root to id and, with a subordinate range,
// ids 1.. onto it.
func mappings(id int, sub *subid.Range) []specs.LinuxIDMapping {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(id), Size: 1}}
	if sub != nil && sub.Count > 0 {
		m = append(m, specs.LinuxIDMapping{ContainerID: 1, HostID: sub.Start, Size: sub.Count})
	}
	return m
}
