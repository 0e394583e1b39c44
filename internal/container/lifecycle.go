package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// State is what `state` and `list --format json` print for a container:
// the OCI state fields plus runc's rootfs and creation time, which
// containerd's go-runc client reads.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Sentry is syscage's own field: "running", or "gone" when the
	// container's sentry has ended while the container ran. Its watchdog
	// then kills the container (fail closed) and SentryExit says why.
	Sentry     string      `json:"sentry,omitempty"`
	SentryExit *SentryExit `json:"sentryExit,omitempty"`
}

// StateOf reads a container's current state, including its sentry's.
func (rt *Runtime) StateOf(c *libcontainer.Container) (*State, error) {
	st, err := c.State()
	if err != nil {
		return nil, fmt.Errorf("container %q: reading state: %w", c.ID(), err)
	}
	status, err := c.Status()
	if err != nil {
		return nil, fmt.Errorf("container %q: reading status: %w", c.ID(), err)
	}
	pid := st.BaseState.InitProcessPid
	if status == libcontainer.Stopped {
		pid = 0
	}
	bundle, annotations := utils.Annotations(st.Config.Labels)
	sentry := ""
	stateDir := filepath.Join(rt.Root, c.ID())
	exit := readSentryExit(stateDir)
	switch {
	case exit != nil:
		sentry = "gone"
	case status != libcontainer.Stopped:
		sentry = "running"
		if _, ok := sentryPid(stateDir); !ok {
			// Only for the moment before its watchdog has killed the
			// container and recorded why.
			sentry = "gone"
			logrus.Warnf("container %s: its sentry is gone; the container is being killed", c.ID())
		}
	}
	return &State{
		OCIVersion:  specs.Version,
		ID:          st.BaseState.ID,
		Pid:         pid,
		Status:      status.String(),
		Bundle:      bundle,
		Rootfs:      st.BaseState.Config.Rootfs,
		Created:     st.BaseState.Created,
		Owner:       "root",
		Annotations: annotations,
		Sentry:      sentry,
		SentryExit:  exit,
	}, nil
}

// List returns the state of every container under the root, sorted by id.
func (rt *Runtime) List() ([]*State, error) {
	entries, err := os.ReadDir(rt.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading state root %s: %w", rt.Root, err)
	}
	var out []*State
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := libcontainer.Load(rt.Root, e.Name())
		if err != nil {
			// A directory of an aborted create has no state yet.
			continue
		}
		s, err := rt.StateOf(c)
		if err != nil {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseSignal accepts a signal number or a name with or without "SIG",
// in any case ("9", "KILL", "sigterm").
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal number %d", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", s)
	}
	return sig, nil
}

// Kill sends a signal to the container's init, or with all to every
// process in its cgroup.
func (rt *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	c, err := rt.Load(id)
	if err != nil {
		return err
	}
	if all {
		return signalAll(c, filepath.Join(rt.Root, id), sig)
	}
	if err := c.Signal(sig); err != nil {
		if errors.Is(err, libcontainer.ErrNotRunning) {
			return fmt.Errorf("container %q is not running", id)
		}
		return fmt.Errorf("signalling container %q: %w", id, err)
	}
	return nil
}

func signalAll(c *libcontainer.Container, stateDir string, sig unix.Signal) error {
	if sig == unix.SIGKILL {
		// libcontainer kills the whole cgroup (frozen, or cgroup.kill)
		// for a container sharing a pid namespace, and killing the init
		// of a container with its own kills the namespace: nothing is
		// left to signal one pid at a time, which could hit a pid reused
		// while the container's processes are being reaped.
		err := c.Signal(sig)
		if err == nil {
			return nil
		}
		if !errors.Is(err, libcontainer.ErrNotRunning) {
			return fmt.Errorf("signalling container %q: %w", c.ID(), err)
		}
		// "Not running" to libcontainer: the init's thread-group leader
		// has exited. Its other threads, and what it started, may still
		// run in the cgroup: they are killed one by one.
	}
	pids, err := c.Processes()
	if err != nil {
		return fmt.Errorf("container %q: listing processes: %w", c.ID(), err)
	}
	if sig == unix.SIGKILL {
		// A thread's SIGKILL kills its whole thread group: the threads
		// (leaders included) are every process, those whose leader has
		// exited too, which the process list lacks.
		if tids, err := cgroupThreads(c); err == nil {
			pids = tids
		}
	}
	for _, pid := range withoutSentry(pids, stateDir) {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signalling pid %d of container %q: %w", pid, c.ID(), err)
		}
	}
	return nil
}

// Delete removes a container's resources. A running or paused container is
// refused unless force is set, in which case it is killed first.
func (rt *Runtime) Delete(id string, force bool) error {
	c, err := libcontainer.Load(rt.Root, id)
	if err != nil {
		// Only a well-formed id whose directory has no state yet (a create
		// that died before saving it) is cleaned up here; an invalid id
		// ("..", ".", "a/b") never reaches the file system.
		if !errors.Is(err, libcontainer.ErrNotExist) || !validID(id) {
			if errors.Is(err, libcontainer.ErrNotExist) {
				return fmt.Errorf("container %q does not exist", id)
			}
			return fmt.Errorf("container %q: %w", id, err)
		}
		dir := filepath.Join(rt.Root, id)
		if _, serr := os.Stat(dir); serr != nil {
			return fmt.Errorf("container %q does not exist", id)
		}
		stopSentry(dir)
		stopViews(dir)
		if rerr := os.RemoveAll(dir); rerr != nil {
			return fmt.Errorf("removing %s: %w", dir, rerr)
		}
		return nil
	}
	st, err := c.Status()
	if err != nil {
		return fmt.Errorf("container %q: reading status: %w", id, err)
	}
	switch st {
	case libcontainer.Stopped, libcontainer.Created:
		// A created container's init is only waiting: destroy kills it.
	case libcontainer.Running, libcontainer.Paused:
		if !force {
			return fmt.Errorf("cannot delete container %q: it is %s (stop it first, or use --force)", id, st)
		}
		if err := killAndWait(c); err != nil {
			return err
		}
	}
	stopSentry(filepath.Join(rt.Root, id))
	stopViews(filepath.Join(rt.Root, id))
	if err := c.Destroy(); err != nil {
		return fmt.Errorf("removing container %q: %w", id, err)
	}
	return nil
}

// killAndWait sends SIGKILL and waits up to ten seconds for init to go.
func killAndWait(c *libcontainer.Container) error {
	_ = c.Signal(unix.SIGKILL)
	for i := 0; i < 100; i++ {
		if err := c.Signal(unix.Signal(0)); err != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("container %q: init is still running 10s after SIGKILL", c.ID())
}

// validID mirrors libcontainer's rule for container ids: letters, digits
// and "_+-.", not "." or "..", so a joined path stays inside the root.
func validID(id string) bool {
	if id == "" || id == "." || id == ".." || len(id) > 1024 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '_' || r == '+' || r == '-' || r == '.':
		default:
			return false
		}
	}
	return true
}
