package container

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// signalRelay is installed before a foreground process starts so that no
// signal is lost: it forwards what we receive to the process, keeps the
// terminal size in step, and reaps children until the process exits.
type signalRelay struct {
	ch chan os.Signal
}

func newSignalRelay() (*signalRelay, error) {
	// As a subreaper we become the parent of the container's orphans
	// (for example a double-forked exec) and reap them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("becoming child subreaper: %w", err)
	}
	r := &signalRelay{ch: make(chan os.Signal, 128)}
	signal.Notify(r.ch)
	return r, nil
}

// stop stops the relay's signal delivery.
func (r *signalRelay) stop() { signal.Stop(r.ch) }

// wait relays signals until the process with the given pid exits and
// returns its exit code (128+n when a signal ended it, as a shell reports).
func (r *signalRelay) wait(p *libcontainer.Process, io *stdio) (int, error) {
	pid, err := p.Pid()
	if err != nil {
		return -1, err
	}
	for sig := range r.ch {
		switch sig {
		case unix.SIGWINCH:
			io.resize()
		case unix.SIGURG:
			// The Go runtime's preemption signal: not meant for the container.
		case unix.SIGCHLD:
			for {
				var ws unix.WaitStatus
				child, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
				if err != nil || child <= 0 {
					break
				}
				if child == pid {
					return exitCode(ws), nil
				}
			}
		default:
			if err := unix.Kill(pid, sig.(unix.Signal)); err != nil {
				logrus.Debugf("forwarding %v to pid %d: %v", sig, pid, err)
			}
		}
	}
	return -1, fmt.Errorf("signal relay closed before pid %d exited", pid)
}

// exitCode renders a wait status the way a shell reports it.
func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
