package container

import (
	"fmt"

	"github.com/opencontainers/runc/libcontainer"
)

// Pause freezes every process of a running or created container.
func (rt *Runtime) Pause(id string) error {
	c, st, err := rt.loadWithStatus(id)
	if err != nil {
		return err
	}
	switch st {
	case libcontainer.Running, libcontainer.Created:
	case libcontainer.Paused:
		return fmt.Errorf("cannot pause container %q: it is already paused", id)
	default:
		return fmt.Errorf("cannot pause container %q: it is %s, not running", id, st)
	}
	if err := c.Pause(); err != nil {
		return fmt.Errorf("pausing container %q: %w", id, err)
	}
	return nil
}

// Resume thaws a paused container.
func (rt *Runtime) Resume(id string) error {
	c, st, err := rt.loadWithStatus(id)
	if err != nil {
		return err
	}
	if st != libcontainer.Paused {
		return fmt.Errorf("cannot resume container %q: it is %s, not paused", id, st)
	}
	if err := c.Resume(); err != nil {
		return fmt.Errorf("resuming container %q: %w", id, err)
	}
	return nil
}
