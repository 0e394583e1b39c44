package container

import (
	"fmt"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/types"
	"github.com/sirupsen/logrus"
)

// EventOptions are the flags of `events`.
type EventOptions struct {
	// Interval is the time between two stats events.
	Interval time.Duration
	// StatsOnly emits a single stats event and returns.
	StatsOnly bool
}

// Events hands a container's events to emit in runc's format: with
// StatsOnly a single "stats" event; otherwise a "stats" event every
// interval, an "oom" event whenever the kernel reports one, and one
// "sentry-gone" event if the container's sentry exits before it does,
// until the container stops or its cgroup goes away. An error from emit (the reader
// went away, say) ends the stream.
func (rt *Runtime) Events(id string, o EventOptions, emit func(*types.Event) error) error {
	if o.Interval <= 0 {
		return fmt.Errorf("--interval %v: must be greater than zero", o.Interval)
	}
	c, err := rt.Load(id)
	if err != nil {
		return err
	}
	if stopped(c) {
		return fmt.Errorf("container %q is not running", id)
	}
	if o.StatsOnly {
		ev, err := statsEvent(c)
		if err != nil {
			return err
		}
		return emit(ev)
	}
	oom, err := c.NotifyOOM()
	if err != nil {
		// Stats still work without the memory controller's eventfd.
		logrus.Warnf("container %q: OOM events unavailable: %v", id, err)
		oom = nil
	}
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	sentryGone := false
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				// The memory cgroup was removed: the container is gone.
				return nil
			}
			if err := emit(&types.Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		case <-tick.C:
			if stopped(c) {
				return nil
			}
			// Once, if the sentry exits while the container runs: its
			// mediated calls now fail (ENOSYS) and whoever watches the
			// events should know.
			if !sentryGone && !rt.SentryRunning(id) {
				sentryGone = true
				logrus.Warnf("container %s: its sentry is gone; the calls it mediated now fail with ENOSYS", id)
				if err := emit(&types.Event{Type: "sentry-gone", ID: id}); err != nil {
					return err
				}
			}
			ev, err := statsEvent(c)
			if err != nil {
				if stopped(c) {
					return nil
				}
				logrus.Warn(err)
				continue
			}
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
}

func statsEvent(c *libcontainer.Container) (*types.Event, error) {
	ls, err := c.Stats()
	if err != nil {
		return nil, fmt.Errorf("container %q: reading stats: %w", c.ID(), err)
	}
	ev := &types.Event{Type: "stats", ID: c.ID()}
	if s := ConvertStats(ls); s != nil {
		ev.Data = s
	}
	return ev, nil
}

// stopped reports whether the container's init has exited (or its state
// can no longer be read, which means the same to a watcher).
func stopped(c *libcontainer.Container) bool {
	st, err := c.Status()
	return err != nil || st == libcontainer.Stopped
}
