package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// ExecOptions are the flags of `exec`.
type ExecOptions struct {
	// ProcessFile is an OCI process JSON; when set, Args and the overrides
	// below are ignored except where runc applies them too (none).
	ProcessFile   string
	Args          []string
	Env           []string
	Cwd           string
	User          string // uid[:gid]
	AdditionalGID []int
	Caps          []string
	Tty           bool
	NoNewPrivs    bool
	Detach        bool
	PidFile       string
	ConsoleSocket string
	PreserveFDs   int
	IgnorePaused  bool
	Cgroup        string
	AppArmor      string
	ProcessLabel  string
}

// Exec runs a new process inside a running container. In the foreground it
// returns the process's exit code.
func (rt *Runtime) Exec(id string, o ExecOptions) (int, error) {
	c, st, err := rt.loadWithStatus(id)
	if err != nil {
		return -1, err
	}
	switch {
	case st == libcontainer.Stopped:
		return -1, fmt.Errorf("cannot exec in container %q: it has stopped", id)
	case st == libcontainer.Paused && !o.IgnorePaused:
		return -1, fmt.Errorf("cannot exec in container %q: it is paused (use --ignore-paused)", id)
	}
	if err := rootlessExec(c); err != nil {
		return -1, err
	}
	proc, err := rt.execProcess(id, o)
	if err != nil {
		return -1, err
	}
	if err := rt.checkExecCaps(c, id, proc); err != nil {
		return -1, err
	}
	if err := checkTerminal(proc.Terminal, o.Detach, o.ConsoleSocket); err != nil {
		return -1, err
	}
	sub, err := parseSubCgroups(o.Cgroup)
	if err != nil {
		return -1, err
	}
	// As for the init (takeAddressSpaceLimit), RLIMIT_AS cannot be in
	// force while libcontainer's setns init compiles the filter; it is set
	// on the process as soon as it has started.
	addressLimit := takeAddressSpaceLimit(proc)
	stateDir := filepath.Join(rt.Root, id)
	r := &processRun{
		container: c,
		afterStart: func(pid int) error {
			// The process runs already (its notified calls wait for the
			// sentry); if the sentry did not take its listener, it is
			// killed and exec fails.
			if err := confirmListener(c, stateDir, pid); err != nil {
				return err
			}
			return applyAddressSpaceLimit(pid, addressLimit)
		},
		spec:          proc,
		detach:        o.Detach,
		pidFile:       o.PidFile,
		consoleSocket: o.ConsoleSocket,
		preserveFDs:   o.PreserveFDs,
		act:           actRun,
		subCgroups:    sub,
	}
	return r.run()
}

// checkExecCaps refuses to exec a process with CAP_SYS_PTRACE over the
// host's user namespace into a container whose pid namespace has a sentry
// serving inside (its own, or another container's it shares the
// namespace with): such a process (or whatever program it goes on to run,
// the workload's included) could attach to that sentry and take its
// listeners and open files. A container created with CAP_SYS_PTRACE has
// its sentry outside (sentryPlace).
func (rt *Runtime) checkExecCaps(c *libcontainer.Container, id string, p *specs.Process) error {
	spec, err := rt.SavedSpec(id)
	if err != nil {
		return err
	}
	// A process with no capabilities section gets the container's
	// (libcontainer), not every one.
	caps := containerCaps(spec.Process)
	if p.Capabilities != nil {
		caps = containerCaps(p)
	}
	if caps&ptraceCap == 0 {
		return nil
	}
	st, err := c.State()
	if err != nil {
		return fmt.Errorf("cannot exec a process with CAP_SYS_PTRACE in container %q: %w", id, err)
	}
	return refusePtraceBeside(caps, spec, "/proc/"+strconv.Itoa(st.InitProcessPid)+"/ns/pid",
		fmt.Sprintf("cannot exec in container %q: the process", id))
}

// execProcess builds the OCI process to exec: from --process, or from the
// container's own process with the command line's overrides.
func (rt *Runtime) execProcess(id string, o ExecOptions) (*specs.Process, error) {
	if o.ProcessFile != "" {
		data, err := os.ReadFile(o.ProcessFile)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := decodeJSON(data, &p); err != nil {
			return nil, fmt.Errorf("--process %s: %v", o.ProcessFile, err)
		}
		if err := ValidateProcess(&p); err != nil {
			return nil, fmt.Errorf("--process %s: %v", o.ProcessFile, err)
		}
		return &p, nil
	}
	if len(o.Args) == 0 {
		return nil, errors.New("exec needs a command to run (arguments after the container id) or --process")
	}
	spec, err := rt.SavedSpec(id)
	if err != nil {
		return nil, err
	}
	p := *spec.Process
	p.Args = o.Args
	p.Terminal = o.Tty
	p.Env = append(append([]string(nil), p.Env...), o.Env...)
	if o.Cwd != "" {
		p.Cwd = o.Cwd
	}
	if o.NoNewPrivs {
		p.NoNewPrivileges = true
	}
	if o.AppArmor != "" {
		p.ApparmorProfile = o.AppArmor
	}
	if o.ProcessLabel != "" {
		p.SelinuxLabel = o.ProcessLabel
	}
	if len(o.Caps) > 0 {
		caps := specs.LinuxCapabilities{}
		if p.Capabilities != nil {
			caps = *p.Capabilities
		}
		for _, name := range o.Caps {
			name = strings.ToUpper(name)
			if !strings.HasPrefix(name, "CAP_") {
				name = "CAP_" + name
			}
			caps.Bounding = append(caps.Bounding, name)
			caps.Effective = append(caps.Effective, name)
			caps.Permitted = append(caps.Permitted, name)
			caps.Ambient = append(caps.Ambient, name)
		}
		p.Capabilities = &caps
	}
	if o.User != "" {
		uid, gid, err := parseUser(o.User)
		if err != nil {
			return nil, err
		}
		p.User.UID = uid
		if gid >= 0 {
			p.User.GID = uint32(gid)
		}
	}
	for _, g := range o.AdditionalGID {
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if err := ValidateProcess(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// parseUser reads --user uid[:gid]; gid is -1 when absent.
func parseUser(s string) (uint32, int, error) {
	u, g, hasGID := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return 0, -1, fmt.Errorf("--user %q: uid must be a number", s)
	}
	if !hasGID {
		return uint32(uid), -1, nil
	}
	gid, err := strconv.ParseUint(g, 10, 32)
	if err != nil {
		return 0, -1, fmt.Errorf("--user %q: gid must be a number", s)
	}
	return uint32(uid), int(gid), nil
}

// parseSubCgroups reads --cgroup: "path" (all controllers, or cgroup v2)
// or "ctrl[,ctrl]:path" entries.
func parseSubCgroups(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	m := map[string]string{}
	for _, part := range parts {
		ctrls, path, ok := strings.Cut(part, ":")
		if !ok {
			if len(parts) > 1 {
				return nil, fmt.Errorf("--cgroup %q: a bare path cannot be mixed with other entries", s)
			}
			m[""] = part
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			if c == "" {
				return nil, fmt.Errorf("--cgroup %q: empty controller name before %q", s, path)
			}
			if _, dup := m[c]; dup {
				return nil, fmt.Errorf("--cgroup %q: controller %s given more than once", s, c)
			}
			m[c] = path
		}
	}
	return m, nil
}
