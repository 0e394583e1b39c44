package container

import (
	"fmt"
	"path/filepath"
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
// "sentry-gone" event (its data: why, and whether the container was
// killed for it) if the container's sentry ends while the container runs,
// until the container stops or its cgroup goes away. An error from emit
// (the reader went away, say) ends the stream.
//
// A container whose sentry ended is killed by its watchdog, so it may
// already be stopped when the stream starts or at the next tick: the
// sentry-gone event is emitted then, before the stream ends.
func (rt *Runtime) Events(id string, o EventOptions, emit func(*types.Event) error) error {
	if o.Interval <= 0 {
		return fmt.Errorf("--interval %v: must be greater than zero", o.Interval)
	}
	c, err := rt.Load(id)
	if err != nil {
		return err
	}
	stateDir := filepath.Join(rt.Root, id)
	sentryGone := false
	// goneEvent emits the sentry-gone event once, if the sentry has ended.
	goneEvent := func() error {
		if sentryGone {
			return nil
		}
		rec := readSentryExit(stateDir)
		// Without a record, a sentry that is not running has either just
		// died (its watchdog is at work) or ended with its container.
		if rec == nil && (rt.SentryRunning(id) || stopped(c)) {
			return nil
		}
		sentryGone = true
		ev := &types.Event{Type: "sentry-gone", ID: id}
		if rec != nil {
			ev.Data = rec
		}
		logrus.Warnf("container %s: its sentry is gone; the container is killed", id)
		return emit(ev)
	}
	if stopped(c) {
		if readSentryExit(stateDir) != nil {
			return goneEvent()
		}
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
	for {
		select {
		case _, ok := <-oom:
			if !ok {
				// The memory cgroup was removed: the container is gone.
				return goneEvent()
			}
			if err := emit(&types.Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		case <-tick.C:
			// Once, if the sentry ends while the container runs: the
			// container is killed for it and whoever watches the events
			// should know why.
			if err := goneEvent(); err != nil {
				return err
			}
			if stopped(c) {
				return nil
			}
			ev, err := statsEvent(c)
			if err != nil {
				if stopped(c) {
					return goneEvent()
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
