package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/opencontainers/cgroups/systemd"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/policy"
)

// DefaultRoot is where container state lives unless --root says otherwise.
const DefaultRoot = "/run/syscage"

// Runtime holds the settings shared by every command: the state root and
// the cgroup driver.
type Runtime struct {
	Root          string
	SystemdCgroup bool
}

// CreateOptions are the flags of `create` and `run`.
type CreateOptions struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	PreserveFDs   int
	NoPivot       bool
	NoNewKeyring  bool
	// Detach applies to run: return once the container runs.
	Detach bool
	// Keep applies to run: do not delete the container when it exits.
	Keep bool
	// Sandbox configures the container's sentry: profile, reported kernel
	// identity, audit.
	Sandbox SandboxOptions
}

// Load opens an existing container by id.
func (rt *Runtime) Load(id string) (*libcontainer.Container, error) {
	if id == "" {
		return nil, errors.New("container id cannot be empty")
	}
	c, err := libcontainer.Load(rt.Root, id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) {
			return nil, fmt.Errorf("container %q does not exist", id)
		}
		return nil, fmt.Errorf("loading container %q: %w", id, err)
	}
	return c, nil
}

// Create sets up a container from a bundle and leaves its init process
// waiting for `start`. Nothing is left behind if any step fails.
func (rt *Runtime) Create(o CreateOptions) error {
	_, err := rt.create(o, actCreate)
	return err
}

// Run creates and starts a container; in the foreground it returns the
// container's exit code and removes the container afterwards.
func (rt *Runtime) Run(o CreateOptions) (int, error) {
	return rt.create(o, actRun)
}

type action int

const (
	actCreate action = iota
	actRun
)

func (rt *Runtime) create(o CreateOptions, act action) (int, error) {
	if o.ID == "" {
		return -1, errors.New("container id cannot be empty")
	}
	if rt.SystemdCgroup && !systemd.IsRunningSystemd() {
		return -1, errors.New("--systemd-cgroup: systemd is not running on this host (it is not PID 1); use the default cgroupfs driver")
	}
	if o.Bundle == "" {
		o.Bundle = "."
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return -1, err
	}
	spec, err := LoadSpec(bundle)
	if err != nil {
		return -1, err
	}
	detach := o.Detach || act == actCreate
	if err := checkTerminal(spec.Process.Terminal, detach, o.ConsoleSocket); err != nil {
		return -1, err
	}
	// Paths given relative to the caller's directory must survive the
	// chdir into the bundle that libcontainer's config conversion expects.
	if o.PidFile, err = absPath(o.PidFile); err != nil {
		return -1, err
	}
	if o.ConsoleSocket, err = absPath(o.ConsoleSocket); err != nil {
		return -1, err
	}
	stateDir := filepath.Join(rt.Root, o.ID)
	sb, err := resolveSandbox(o.Sandbox, spec, stateDir)
	if err != nil {
		return -1, err
	}
	// The profile for the container's capabilities, in the filter and in
	// the sentry (which decides notified calls with the same rules).
	sb.Caps = containerCaps(spec.Process)
	sb.Profile = sb.Profile.ForCaps(sb.Caps)
	if err := refusePtraceBeside(sb.Caps, spec, joinsPidNamespace(spec), fmt.Sprintf("container %q", o.ID)); err != nil {
		return -1, err
	}
	filter, err := policy.ContainerFilter(sb.Profile, spec.Linux.Seccomp, agentSocket(stateDir), sb.AuditPath != "")
	if err != nil {
		return -1, err
	}
	spec.Linux.Seccomp = filter
	cgroupsRootless, err := rt.rootlessSpec(spec)
	if err != nil {
		return -1, err
	}
	maskHostFacts(spec)
	privateCgroupNamespace(spec)
	keepMountsHome(spec)
	normalizeSpec(spec)
	// exec'd processes take the config's rlimits, RLIMIT_AS included.
	execRlimits := spec.Process.Rlimits
	addressLimit := takeAddressSpaceLimit(spec.Process)
	if err := os.Chdir(bundle); err != nil {
		return -1, fmt.Errorf("entering bundle %s: %w", bundle, err)
	}
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:       o.ID,
		UseSystemdCgroup: rt.SystemdCgroup,
		NoPivotRoot:      o.NoPivot,
		NoNewKeyring:     o.NoNewKeyring,
		Spec:             spec,
		RootlessEUID:     os.Geteuid() != 0,
		RootlessCgroups:  cgroupsRootless,
	})
	if err != nil {
		return -1, fmt.Errorf("%w: %s: %v", ErrInvalidBundle, filepath.Join(bundle, specConfig), err)
	}
	if err := os.MkdirAll(rt.Root, 0o711); err != nil {
		return -1, fmt.Errorf("creating state root %s: %w", rt.Root, err)
	}
	c, err := libcontainer.Create(rt.Root, o.ID, config)
	if err != nil {
		// A racing create of the same id fails in libcontainer's mkdir,
		// or, when the winner's init is already in the cgroup, in its
		// check that the cgroup is empty, which comes first: either way
		// the id's state dir exists.
		if errors.Is(err, libcontainer.ErrExist) || errors.Is(err, os.ErrExist) {
			return -1, fmt.Errorf("container %q already exists", o.ID)
		}
		if _, serr := os.Stat(stateDir); serr == nil {
			return -1, fmt.Errorf("container %q already exists (%v)", o.ID, err)
		}
		return -1, fmt.Errorf("creating container %q: %w", o.ID, err)
	}
	initRlimits := spec.Process.Rlimits
	spec.Process.Rlimits = execRlimits
	err = writeSpecCopy(rt.Root, o.ID, spec)
	spec.Process.Rlimits = initRlimits
	if err != nil {
		destroy(c, stateDir)
		return -1, err
	}
	if err := writeSandboxFiles(stateDir, sb); err != nil {
		destroy(c, stateDir)
		return -1, err
	}
	// A rootless runtime's sentry runs as its user: no id to allocate.
	if os.Geteuid() == 0 {
		if sb.SentryID, err = allocateSentryID(sb.SentryIDs, stateDir); err != nil {
			destroy(c, stateDir)
			return -1, err
		}
	}
	waitSentry, err := startSentry(stateDir, o.ID, rt.SystemdCgroup, sb, sentryPlace(spec, sb, o.ID))
	if err != nil {
		destroy(c, stateDir)
		return -1, err
	}
	// The views server starts now, beside the container's creation, and
	// gets the init's pid below.
	var views *viewsServer
	if sb.Views && newNamespace(spec, specs.MountNamespace) {
		if views, err = launchViews(stateDir, sb.SentryID); err != nil {
			destroy(c, stateDir)
			return -1, err
		}
		defer views.abandon()
	}
	p := &processRun{
		container:     c,
		stateDir:      stateDir,
		spec:          spec.Process,
		init:          true,
		detach:        detach,
		pidFile:       o.PidFile,
		consoleSocket: o.ConsoleSocket,
		preserveFDs:   o.PreserveFDs,
		destroy:       !o.Keep,
		act:           act,
		waitSentry:    waitSentry,
		beforeUser: func(pid int) error {
			if err := waitSentry(); err != nil {
				return err
			}
			// The init runs nothing of the user's before start (or, for
			// run, before the Exec below): it must not until the sentry
			// holds its listener.
			if err := confirmListener(c, stateDir, pid); err != nil {
				return err
			}
			if err := writeUTSFile(filepath.Join(stateDir, utsFileName), pid, spec); err != nil {
				return err
			}
			if err := applyAddressSpaceLimit(pid, addressLimit); err != nil {
				return err
			}
			if os.Geteuid() != 0 {
				// Rootless: the identity files are masked instead
				// (rootlessSpec); joining the container's mount
				// namespace takes privileges a user does not hold.
				return nil
			}
			if !newNamespace(spec, specs.MountNamespace) {
				logrus.Warnf("kernel identity: container %s joins or shares a mount namespace; its /proc/version is that namespace's", o.ID)
				return nil
			}
			if err := hideKernelIdentity(pid, stateDir, sb); err != nil {
				return err
			}
			if views == nil {
				return nil
			}
			return views.attach(pid)
		},
	}
	if os.Getenv("LISTEN_FDS") != "" {
		p.listenFDs = activation.Files(false)
	}
	return p.run()
}

// loadWithStatus opens a container by id and reads its status.
func (rt *Runtime) loadWithStatus(id string) (*libcontainer.Container, libcontainer.Status, error) {
	c, err := rt.Load(id)
	if err != nil {
		return nil, 0, err
	}
	st, err := c.Status()
	if err != nil {
		return nil, 0, fmt.Errorf("container %q: reading status: %w", id, err)
	}
	return c, st, nil
}

// Start lets a created container's init process run the user's program.
func (rt *Runtime) Start(id string) error {
	c, st, err := rt.loadWithStatus(id)
	if err != nil {
		return err
	}
	switch st {
	case libcontainer.Created:
		if err := c.Exec(); err != nil {
			return fmt.Errorf("starting container %q: %w", id, err)
		}
		return nil
	case libcontainer.Stopped:
		return fmt.Errorf("cannot start container %q: it has stopped", id)
	case libcontainer.Running:
		return fmt.Errorf("cannot start container %q: it is already running", id)
	default:
		return fmt.Errorf("cannot start container %q in state %s", id, st)
	}
}

func absPath(p string) (string, error) {
	if p == "" || filepath.IsAbs(p) {
		return p, nil
	}
	return filepath.Abs(p)
}

func checkTerminal(terminal, detach bool, consoleSocket string) error {
	if detach && terminal && consoleSocket == "" {
		return errNoConsoleSocket
	}
	if (!detach || !terminal) && consoleSocket != "" {
		return errors.New("--console-socket is only used for a detached process with a terminal (process.terminal: true)")
	}
	return nil
}

// specCopyName is the file in the container's state directory that keeps
// the OCI spec it was created from; exec uses its process as the template.
const specCopyName = "syscage-spec.json"

func writeSpecCopy(root, id string, spec *specs.Spec) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("saving spec: %w", err)
	}
	path := filepath.Join(root, id, specCopyName)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("saving spec to %s: %w", path, err)
	}
	return nil
}

// SavedSpec returns the OCI spec a container was created from.
func (rt *Runtime) SavedSpec(id string) (*specs.Spec, error) {
	path := filepath.Join(rt.Root, id, specCopyName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("container %q: reading its spec: %w", id, err)
	}
	return ParseSpec(data)
}

// processRun starts one container process (init or exec'd) and, in the
// foreground, stays with it until it exits.
type processRun struct {
	container     *libcontainer.Container
	stateDir      string
	spec          *specs.Process
	init          bool
	detach        bool
	pidFile       string
	consoleSocket string
	preserveFDs   int
	listenFDs     []*os.File
	destroy       bool
	act           action
	subCgroups    map[string]string
	// beforeUser runs after an init is set up and before the user's
	// program may run (create: before start; run: before exec).
	beforeUser func(pid int) error
	// waitSentry waits until the container's sentry has started (see
	// startSentry); a failed create waits for it before cleaning up, so
	// the sentry is never left behind.
	waitSentry func() error
	// afterStart runs once an exec'd process has started.
	afterStart func(pid int) error
}

func (r *processRun) run() (code int, retErr error) {
	owned := r.init // an init that fails leaves no container behind
	defer func() {
		if retErr != nil && owned {
			if r.waitSentry != nil {
				_ = r.waitSentry()
			}
			destroy(r.container, r.stateDir)
		}
	}()
	p, err := newProcess(r.spec, r.init)
	if err != nil {
		return -1, err
	}
	p.LogLevel = strconv.Itoa(int(logrus.GetLevel()))
	p.SubCgroupPaths = r.subCgroups
	if len(r.listenFDs) > 0 {
		p.Env = append(p.Env, "LISTEN_FDS="+strconv.Itoa(len(r.listenFDs)), "LISTEN_PID=1")
		p.ExtraFiles = append(p.ExtraFiles, r.listenFDs...)
	}
	first := 3 + len(p.ExtraFiles)
	for fd := first; fd < first+r.preserveFDs; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return -1, fmt.Errorf("--preserve-fds: file descriptor %d is not open", fd)
		}
		p.ExtraFiles = append(p.ExtraFiles, os.NewFile(uintptr(fd), "preserved-fd-"+strconv.Itoa(fd)))
	}
	var relay *signalRelay
	if !r.detach {
		if relay, err = newSignalRelay(); err != nil {
			return -1, err
		}
		defer relay.stop()
	}
	cfg := r.container.Config()
	rootUID, err := cfg.HostRootUID()
	if err != nil {
		return -1, fmt.Errorf("container %s: its root user on the host: %w", r.container.ID(), err)
	}
	rootGID, err := cfg.HostRootGID()
	if err != nil {
		return -1, fmt.Errorf("container %s: its root group on the host: %w", r.container.ID(), err)
	}
	io, err := setupStdio(p, r.spec.Terminal, r.detach, r.consoleSocket, rootUID, rootGID)
	if err != nil {
		return -1, err
	}
	defer io.close()
	if err := r.start(p); err != nil {
		return -1, err
	}
	if err := io.started(); err != nil {
		kill(p)
		return -1, err
	}
	if r.pidFile != "" {
		if err := writePidFile(r.pidFile, p); err != nil {
			kill(p)
			return -1, err
		}
	}
	if r.detach {
		return 0, nil
	}
	code, err = relay.wait(p, io)
	if err != nil {
		kill(p)
		return -1, err
	}
	owned = false
	if r.init && r.destroy {
		destroy(r.container, r.stateDir)
	}
	return code, nil
}

// start starts the process: an exec'd one at once; an init is created,
// prepared (beforeUser) and, for run, let go into the user's program.
func (r *processRun) start(p *libcontainer.Process) error {
	if !r.init {
		if err := r.container.Run(p); err != nil {
			return fmt.Errorf("starting process: %w", err)
		}
		if r.afterStart != nil {
			pid, err := p.Pid()
			if err == nil {
				err = r.afterStart(pid)
			}
			if err != nil {
				kill(p)
				return err
			}
		}
		return nil
	}
	if err := r.container.Start(p); err != nil {
		return fmt.Errorf("starting container process: %w", err)
	}
	if r.beforeUser != nil {
		pid, err := p.Pid()
		if err == nil {
			err = r.beforeUser(pid)
		}
		if err != nil {
			kill(p)
			return err
		}
	}
	if r.act == actRun {
		if err := r.container.Exec(); err != nil {
			kill(p)
			return fmt.Errorf("starting the container's program: %w", err)
		}
	}
	return nil
}

// destroy stops a container's sentry and removes the container. Its
// processes lose the sentry first; they are being killed anyway, and a
// notified call without a sentry fails (ENOSYS), it never passes.
func destroy(c *libcontainer.Container, stateDir string) {
	stopSentry(stateDir)
	stopViews(stateDir)
	if err := c.Destroy(); err != nil {
		logrus.Warnf("removing container %s: %v", c.ID(), err)
	}
}

func kill(p *libcontainer.Process) {
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
}

// writePidFile writes the process's host pid atomically (write, rename),
// so a reader never sees a partial number.
func writePidFile(path string, p *libcontainer.Process) error {
	pid, err := p.Pid()
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing pid file: %w", err)
	}
	return nil
}

// newNamespace reports whether the spec creates a namespace of type t
// (listed without a path), as opposed to sharing the runtime's or joining
// one by path.
func newNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t && ns.Path == "" {
			return true
		}
	}
	return false
}

// takeAddressSpaceLimit removes RLIMIT_AS from the process's rlimits and
// returns it (nil if there is none), for applyAddressSpaceLimit.
//
// libcontainer applies rlimits to the init before the init compiles and
// loads the seccomp filter, and a Go process (the init is this binary)
// already maps more address space than a modest RLIMIT_AS allows (1 GiB
// in the OCI suite), so it could not compile the sandbox's filter. The
// limit is applied instead once the init is set up and before the user's
// program runs: the program starts under it, as the config asks.
func takeAddressSpaceLimit(p *specs.Process) *unix.Rlimit {
	for i, r := range p.Rlimits {
		if r.Type == "RLIMIT_AS" {
			p.Rlimits = append(p.Rlimits[:i:i], p.Rlimits[i+1:]...)
			return &unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		}
	}
	return nil
}

// applyAddressSpaceLimit sets the init's RLIMIT_AS (prlimit), if any.
func applyAddressSpaceLimit(pid int, lim *unix.Rlimit) error {
	if lim == nil {
		return nil
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_AS, lim, nil); err != nil {
		return fmt.Errorf("setting RLIMIT_AS of the container's init: %w", err)
	}
	return nil
}
