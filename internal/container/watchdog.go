package container

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/pidns"
	"github.com/syscage/syscage/internal/policy"
	"github.com/syscage/syscage/internal/sentry"
)

// The watchdog is the parent of a container's sentry. create starts it
// (outside the container's namespaces, in a session of its own); it starts
// the sentry and stays until the sentry ends. It does two things:
//
//   - hand-off confirmation: libcontainer sends each process's seccomp
//     listener to the sentry and does not wait for an answer, so create
//     and exec ask the watchdog, on the control socket, whether the sentry
//     took the listener of their pid. The sentry tells the watchdog each
//     listener it took on a pipe only the two of them hold; the answer is
//     "ok" only once that pid's line has arrived.
//   - fail closed: when the sentry ends without being asked to (killed,
//     crashed, or because it lost a listener), the watchdog kills every
//     process of the container and records why (sentryExitFile), which
//     `state` and `events` report.
//
// The workload cannot reach the watchdog: it runs in the host's pid,
// mount and network namespaces as root, talks to nobody but the sentry
// and root-only sockets under agentDir, and is the sentry's parent, so
// the kernel tells it of the sentry's death (wait4) with no pid to race.

const (
	// watchdogPidFile records the watchdog's pid in the state dir.
	watchdogPidFile = "watchdog.pid"
	// sentryExitFile records why the sentry ended while the container ran.
	sentryExitFile = "sentry-exit.json"
	// confirmTimeout bounds how long a confirmation waits for the sentry's
	// line. libcontainer has written the whole message before create or
	// exec asks, so the wait is only the sentry's reading of it.
	confirmTimeout = 20 * time.Second
	// sentryStopGrace is how long a stopped sentry has (learn mode writes
	// its profile then) before it is killed.
	sentryStopGrace = 3 * time.Second
)

// Fds of the watchdog (set by startSentry) and of the sentry (set by the
// watchdog).
const (
	watchdogAgentFd   = 3 // the bound agent socket, passed on to the sentry
	watchdogControlFd = 4 // the bound control socket
	watchdogReadyFd   = 5 // "ok" or an error, then closed, once the sentry runs
	// watchdogFirstSentryFileFd is where the files create opened for the
	// sentry start (openSentryFiles); the watchdog passes them on.
	watchdogFirstSentryFileFd = 6
	// SentryAgentFd and SentryStatusFd are the sentry's fds: the agent
	// socket and the status pipe to the watchdog (sentry.Config.Status);
	// the files create opened for it follow from SentryFirstFileFd.
	SentryAgentFd     = 3
	SentryStatusFd    = 4
	SentryFirstFileFd = 5
)

// SentryExit is why a container's sentry ended while the container ran.
type SentryExit struct {
	Time time.Time `json:"time"`
	// Reason is what the sentry reported ("lost ...") or, if it reported
	// nothing, how it ended ("killed by signal 9").
	Reason string `json:"reason"`
	// Killed tells whether the watchdog killed the container's processes.
	Killed bool `json:"killed"`
}

// WatchdogOptions are the flags of the hidden sentry-watchdog command.
type WatchdogOptions struct {
	Root          string
	ID            string
	SystemdCgroup bool
	// SentryArgs are the arguments of the sentry command.
	SentryArgs []string
	// SentryFiles is how many files create passed for the sentry.
	SentryFiles int
	// SentryID is the uid and gid the sentry runs as.
	SentryID uint32
	// LearnedPath, in learn mode, is where the watchdog writes the
	// profile its sentry learned (the sentry, confined, writes no file).
	LearnedPath string
	// SentryPlace, if set, is why the sentry serves from the runtime's
	// pid namespace (sentryPlace); empty, it serves from the container's.
	SentryPlace string
}

// watchdog is the state shared by the watchdog's goroutines.
type watchdog struct {
	mu      sync.Mutex
	took    map[int]bool
	lost    string // the sentry's "lost" line, if any
	done    bool   // the sentry's "done" (every listener hung up) or "idle" (none came) line
	ended   string // how the sentry ended, once it has
	changed chan struct{}
	// learnedPath is where a learning sentry's profile goes.
	learnedPath string
	// cmd is the sentry, once started.
	cmd *exec.Cmd
	// target is the container's pid namespace when the sentry serves
	// from inside it (nil: from the runtime's).
	target *pidns.Target
}

// charge moves the sentry (sentryPid) into the cgroups of the container's
// init (initPid) as soon as it has started, before it takes a listener:
// from then on the container's limits bound the sentry. A sentry that
// cannot be charged (no cgroups to join, as for a rootless runtime)
// serves uncharged, and says so in the log.
func charge(sentryPid, initPid int) {
	dirs, err := chargeSentry(sentryPid, initPid)
	if err != nil {
		log := logrus.Warnf
		if os.Geteuid() != 0 {
			log = logrus.Infof // a rootless runtime has no cgroups to place it in (docs/workstation.md)
		}
		log("watchdog: the sentry is not charged to the container's cgroups: %v", err)
		return
	}
	logrus.Debugf("watchdog: the sentry is charged to %s", strings.Join(dirs, ", "))
}

// update changes the state under the lock and wakes every waiter.
func (w *watchdog) update(f func()) {
	w.mu.Lock()
	f()
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

// confirm waits until the sentry has taken pid's listener (true, and the
// entry is consumed: a hand-off is confirmed once, and a recycled pid
// must not inherit an old confirmation), or has ended, or the timeout.
func (w *watchdog) confirm(pid int, timeout time.Duration) (bool, string) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		// An ended sentry confirms nothing, not even a pid it took
		// before (a take never asked for could otherwise confirm a
		// recycled pid's exec).
		if w.ended != "" {
			reason := w.ended
			if w.lost != "" {
				reason = w.lost
			}
			w.mu.Unlock()
			return false, "the sentry has ended: " + reason
		}
		if w.took[pid] {
			delete(w.took, pid)
			w.mu.Unlock()
			return true, ""
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return false, fmt.Sprintf("the sentry did not report taking it within %v", timeout)
		}
	}
}

// maxStatusLine bounds one status line: a learned profile, base64, is the
// longest (the recorder's own bound keeps it far below).
const maxStatusLine = 32 << 20

// readStatus reads the sentry's status lines until the pipe closes.
func (w *watchdog) readStatus(r *os.File) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxStatusLine)
	for sc.Scan() {
		verb, arg, _ := strings.Cut(sc.Text(), " ")
		switch verb {
		case "took":
			if pid, err := strconv.Atoi(arg); err == nil && pid > 0 {
				w.update(func() { w.took[pid] = true })
			}
		case "lost":
			w.update(func() {
				if w.lost == "" {
					w.lost = arg
				}
			})
		case "done", "idle":
			w.update(func() { w.done = true })
		case "learned":
			w.learned(arg)
		}
	}
}

// learned writes the profile a learning sentry sent ("learned <base64>")
// to the path create chose (never one the sentry names), atomically.
func (w *watchdog) learned(arg string) {
	if w.learnedPath == "" {
		logrus.Warnf("watchdog: the sentry sent a learned profile, but the container does not learn")
		return
	}
	data, err := base64.StdEncoding.DecodeString(arg)
	if err == nil {
		err = policy.WriteFileAtomic(w.learnedPath, data)
	}
	if err != nil {
		logrus.Errorf("watchdog: learned profile: %v", err)
		return
	}
	logrus.Infof("watchdog: learned profile written to %s", w.learnedPath)
}

// serveControl answers "confirm PID" requests on the control socket.
func (w *watchdog) serveControl(l *net.UnixListener) {
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(confirmTimeout + 10*time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				return
			}
			verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
			pid, err := strconv.Atoi(arg)
			if verb != "confirm" || err != nil || pid <= 0 {
				fmt.Fprintf(conn, "error bad request %q\n", strings.TrimSpace(line))
				return
			}
			if ok, reason := w.confirm(pid, confirmTimeout); !ok {
				fmt.Fprintf(conn, "error %s\n", reason)
				return
			}
			fmt.Fprintln(conn, "ok")
		}()
	}
}

// RunWatchdog is the sentry-watchdog command: take the init's listener,
// start the sentry with it (in the init's pid namespace), confirm
// hand-offs, and kill the container if the sentry ends unasked.
func RunWatchdog(o WatchdogOptions) error {
	stateDir := filepath.Join(o.Root, o.ID)
	// The fds create passed are inheritable; the sentry gets only those
	// handed to it explicitly (a leaked copy of the ready pipe or of a
	// file meant for another fd number would outlive the watchdog's use).
	for fd := watchdogAgentFd; fd < watchdogFirstSentryFileFd+o.SentryFiles; fd++ {
		unix.CloseOnExec(fd)
	}
	ready := os.NewFile(watchdogReadyFd, "ready")
	fail := func(err error) error {
		fmt.Fprintf(ready, "error %v\n", err)
		ready.Close()
		return err
	}
	control := os.NewFile(watchdogControlFd, "control-socket")
	cl, err := UnixListener(control, "control socket")
	control.Close()
	if err != nil {
		return fail(fmt.Errorf("watchdog: %w", err))
	}
	// One *os.File per fd, kept until the sentry has its copy (a second
	// one's finalizer would close the fd under whatever reuses it).
	agent := os.NewFile(watchdogAgentFd, "agent-socket")
	defer agent.Close()
	agentL, err := UnixListener(agent, "agent socket")
	if err != nil {
		cl.Close()
		return fail(fmt.Errorf("watchdog: %w", err))
	}
	// Signals: SIGTERM is a request to stop (delete); the rest of the
	// usual ones must not end the watchdog before its sentry.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGPIPE)

	statusR, statusW, err := os.Pipe()
	if err != nil {
		return fail(fmt.Errorf("watchdog: status pipe: %w", err))
	}
	self, err := os.Executable()
	if err != nil {
		return fail(fmt.Errorf("watchdog: finding our own binary: %w", err))
	}
	w := &watchdog{took: map[int]bool{}, changed: make(chan struct{}), learnedPath: o.LearnedPath}
	fmt.Fprintln(ready, "ok")
	ready.Close()
	go w.serveControl(cl)

	// The sentry starts once the container's init has handed over its
	// listener (libcontainer sends it from create, before the init runs
	// anything of the workload's; the init may already wait in a notified
	// call): the watchdog takes it, and so learns the init's pid, whose
	// pid namespace the sentry serves from. A create that never gets that
	// far (it failed, and deletes the container), or a filter that
	// notifies nothing, leaves the watchdog to stop or give up.
	taken := make(chan firstListener, 1)
	go func() { taken <- takeFirst(agentL, o) }()
	giveUp := time.NewTimer(initTimeout)
	defer giveUp.Stop()
	var first firstListener
wait0:
	for {
		select {
		case first = <-taken:
			break wait0
		case sig := <-sigs:
			if sig == unix.SIGTERM {
				agentL.Close()
				cl.Close()
				return nil
			}
		case <-giveUp.C:
			agentL.Close()
			cl.Close()
			logrus.Infof("watchdog: container %s: no listener came within %v; nothing to serve", o.ID, initTimeout)
			return nil
		}
	}
	agentL.Close() // the sentry has the socket as its fd 3
	if first.err == nil {
		first.err = w.startSentry(o, stateDir, self, agent, statusW, first)
	} else {
		first.err = fmt.Errorf("taking the init's seccomp listener: %w", first.err)
	}
	statusW.Close()
	if first.err != nil {
		// Confirmations asked meanwhile get the reason; the record is
		// written before the control socket closes, for those that come
		// after.
		reason := "was not started: " + first.err.Error()
		w.update(func() { w.ended = reason })
		err := failClosed(o, stateDir, reason)
		cl.Close()
		return err
	}
	cmd := w.cmd
	statusDone := make(chan struct{})
	go func() { w.readStatus(statusR); close(statusDone) }()

	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	stopping := false
	var werr error
	var grace <-chan time.Time
wait:
	for {
		select {
		case sig := <-sigs:
			if sig != unix.SIGTERM || stopping {
				continue
			}
			stopping = true
			logrus.Infof("watchdog: stopping the sentry of container %s", o.ID)
			if w.target != nil {
				// A sentry in the container's pid namespace ignores
				// signals it can (the container's root may send them)
				// and has nothing to save: it never learns.
				_ = cmd.Process.Kill()
				continue
			}
			_ = cmd.Process.Signal(unix.SIGTERM)
			grace = time.After(sentryStopGrace)
		case <-grace:
			_ = cmd.Process.Kill()
		case werr = <-waited:
			break wait
		}
	}
	// The pipe closes once the sentry is gone; its last line (if any) is
	// the reason it gave.
	<-statusDone
	statusR.Close()
	ended := describeExit(cmd.ProcessState, werr)
	w.update(func() { w.ended = ended })
	defer cl.Close() // after failClosed's record, for confirmations that come late
	if stopping {
		return nil
	}
	// The normal end: the sentry said every listener hung up (every
	// process that had one is gone or going), or that none ever came (the
	// filter notifies nothing), and exited 0. Anything else
	// — a signal, an error, a lost listener, a 0 without "done" — stops
	// the container.
	if w.done && w.lost == "" && cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 0 {
		return nil
	}
	// A sentry inside the container's pid namespace is killed by the
	// kernel with the rest of the namespace when its pid 1 exits: the
	// container is gone, not its sentry's guard.
	// Every thread of pid 1 must be in exit (pidns.Target.Ending): a
	// workload can make its leader thread alone exit and then SIGKILL the
	// sentry. Whatever of the container is left is killed all the same;
	// only no alarm is recorded.
	if w.target != nil && killedBy(cmd.ProcessState, unix.SIGKILL) && w.target.Ending() {
		logrus.Debugf("watchdog: container %s: the sentry ended with its pid namespace", o.ID)
		if c, err := libcontainer.Load(o.Root, o.ID); err == nil && hasProcesses(c) {
			_ = signalAll(c, stateDir, unix.SIGKILL)
		}
		return nil
	}
	reason := ended
	if w.lost != "" {
		reason = "lost a seccomp listener: " + w.lost
	}
	return failClosed(o, stateDir, reason)
}

// initTimeout is how long a watchdog waits for the init's listener before
// it gives up (the filter notifies nothing, or create failed without
// deleting).
const initTimeout = 2 * time.Minute

// firstListener is the init's listener, taken by the watchdog.
type firstListener struct {
	fd    int
	state *specs.ContainerProcessState
	err   error
}

// UnixListener is the listening unix socket f as a listener of its own:
// net.FileListener duplicates the fd, so closing the listener leaves f
// (and closing f leaves the listener). what names the socket in errors.
func UnixListener(f *os.File, what string) (*net.UnixListener, error) {
	fl, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("fd %d is not the %s: %w", f.Fd(), what, err)
	}
	l, ok := fl.(*net.UnixListener)
	if !ok {
		fl.Close()
		return nil, fmt.Errorf("fd %d (the %s) is not a unix socket", f.Fd(), what)
	}
	// The socket's path is the runtime's to remove (stopSentry).
	l.SetUnlinkOnClose(false)
	return l, nil
}

// takeFirst accepts agent connections until one carries a listener of
// this container from the runtime (others are refused, as the sentry
// refuses them).
func takeFirst(l *net.UnixListener, o WatchdogOptions) firstListener {
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			return firstListener{err: err}
		}
		fd, state, err := sentry.TakeListener(conn, os.Geteuid(), o.ID)
		conn.Close()
		if sentry.IsRefused(err) {
			logrus.Warnf("watchdog: agent socket: %v: refused", err)
			continue
		}
		return firstListener{fd: fd, state: state, err: err}
	}
}

// startSentry starts the sentry with the init's listener, first: in the
// pid namespace of the container's init, with a procfs of that namespace,
// unless the container or the runtime rules that out (o.SentryPlace, from
// sentryPlace, or enterablePidNamespace).
func (w *watchdog) startSentry(o WatchdogOptions, stateDir, self string, agent, statusW *os.File, first firstListener) error {
	initPid := first.state.Pid
	listener := os.NewFile(uintptr(first.fd), "seccomp-listener")
	defer listener.Close() // the sentry has its copy
	stateFile, err := memfdWith("agent-state", first.state)
	if err != nil {
		return fmt.Errorf("passing the init's process state: %w", err)
	}
	defer stateFile.Close()
	place, target := o.SentryPlace, (*pidns.Target)(nil)
	if place == "" {
		place, target = enterablePidNamespace(initPid)
	}
	args := append([]string{"sentry"}, o.SentryArgs...)
	cmd := exec.Command(self, args...)
	// Its command line is readable by the container's processes when it
	// serves from their pid namespace: it names no host path but the
	// state dir.
	cmd.Args[0] = "syscage-sentry"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, os.Stderr
	cmd.ExtraFiles = []*os.File{agent, statusW} // fds 3 and 4
	for i := 0; i < o.SentryFiles; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(watchdogFirstSentryFileFd+i), "sentry-file"))
	}
	cmd.Args = append(cmd.Args, "--first-listener-fd", strconv.Itoa(3+len(cmd.ExtraFiles)),
		"--first-state-fd", strconv.Itoa(4+len(cmd.ExtraFiles)))
	cmd.ExtraFiles = append(cmd.ExtraFiles, listener, stateFile)
	if target != nil {
		cmd.Args = append(cmd.Args, "--proc-fd", strconv.Itoa(3+len(cmd.ExtraFiles)), "--in-container-pidns")
		cmd.ExtraFiles = append(cmd.ExtraFiles, target.Proc)
	}
	cmd.Dir = "/"
	err = startSentryProcess(cmd, o.SentryID, target)
	// The sentry has its copies (the status pipe's write end is closed
	// by the caller); of the target, the watchdog keeps the namespace's
	// pid 1 only (Alive).
	for _, f := range cmd.ExtraFiles {
		if f != statusW && f != listener && f != stateFile {
			f.Close()
		}
	}
	if target != nil {
		target.NS.Close()
		target.Net.Close()
	}
	if err != nil {
		return fmt.Errorf("starting the sentry: %w", err)
	}
	pid := cmd.Process.Pid
	// Past this point a failure leaves no sentry behind.
	abandon := func(err error) error {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}
	// create exempts the watchdog from the OOM killer; the sentry gets
	// the ordinary score back: losing it stops the container, and it must
	// not be an unkillable store of whatever memory a workload makes it
	// spend.
	if err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/oom_score_adj", []byte("0"), 0); err != nil && !Unprivileged() {
		logrus.Warnf("watchdog: container %s: resetting the sentry's OOM score: %v", o.ID, err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, sentryPidFile), []byte(strconv.Itoa(pid)), 0o600); err != nil {
		return abandon(fmt.Errorf("recording the sentry's pid: %w", err))
	}
	if err := os.WriteFile(filepath.Join(stateDir, sentryPlaceFile), []byte(place), 0o600); err != nil {
		// state reports it; unrecorded, the container does not run.
		return abandon(fmt.Errorf("recording where the sentry serves: %w", err))
	}
	if place != sentryInContainer {
		logrus.Infof("watchdog: container %s: the sentry serves from %s", o.ID, place)
	}
	if target != nil {
		if err := registerPidNamespace(stateDir, target); err != nil {
			return abandon(err)
		}
	}
	w.cmd, w.target = cmd, target
	// From the start, the container's limits bound the sentry: it is
	// charged to the cgroups of the init the runtime's message named
	// (never of a pid the sentry reports).
	charge(pid, initPid)
	return nil
}

// enterablePidNamespace returns the pid namespace of the container's init
// for its sentry, with sentryInContainer, or why the sentry serves from
// the runtime's.
func enterablePidNamespace(initPid int) (string, *pidns.Target) {
	t, err := pidns.Of(initPid)
	switch {
	case errors.Is(err, pidns.ErrShared):
		return "the runtime's pid namespace: the container shares it", nil
	case err != nil:
		return "the runtime's pid namespace: " + err.Error(), nil
	}
	return sentryInContainer, t
}

// memfdWith is an unnamed in-memory file holding v as JSON, read from its
// start.
func memfdWith(name string, v any) (*os.File, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, 0); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// killedBy reports whether a process was killed by sig.
func killedBy(ps *os.ProcessState, sig unix.Signal) bool {
	if ps == nil {
		return false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// describeExit says how a process ended.
func describeExit(ps *os.ProcessState, err error) string {
	if ps == nil {
		return fmt.Sprintf("could not be waited for: %v", err)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %d (%s)", ws.Signal(), unix.SignalName(ws.Signal()))
	}
	return fmt.Sprintf("exited with status %d", ps.ExitCode())
}

// failClosed kills the container's processes after its sentry ended, if
// any still run, and records why.
func failClosed(o WatchdogOptions, stateDir, reason string) error {
	rec := SentryExit{Time: time.Now().UTC(), Reason: "the sentry " + reason}
	c, err := libcontainer.Load(o.Root, o.ID)
	switch {
	case err != nil:
		// create has not saved the container yet: it will find the
		// sentry gone when it asks for its confirmation, and clean up.
		logrus.Warnf("watchdog: container %s: %s; the container is not saved yet (%v)", o.ID, rec.Reason, err)
	case stopped(c) && !hasProcesses(c):
		logrus.Warnf("watchdog: container %s: %s after the container stopped", o.ID, rec.Reason)
	default:
		logrus.Errorf("watchdog: container %s: %s; killing every process of the container", o.ID, rec.Reason)
		if kerr := signalAll(c, stateDir, unix.SIGKILL); kerr != nil {
			logrus.Errorf("watchdog: %v", kerr)
			rec.Reason += "; killing the container: " + kerr.Error()
		} else {
			rec.Killed = true
		}
	}
	return writeSentryExit(stateDir, &rec)
}

// hasProcesses reports whether the container's cgroup still holds a
// process: a container that shares another's pid namespace (Kubernetes
// shareProcessNamespace) is "stopped" once its init exits, while children
// it left run on under its filter, served by its sentry.
func hasProcesses(c *libcontainer.Container) bool {
	// Threads, not processes: a process whose leader thread has exited
	// is not in the process list (cgroupThreads).
	if tids, err := cgroupThreads(c); err == nil {
		return len(tids) > 0
	}
	pids, err := c.Processes()
	return err != nil || len(pids) > 0
}

func writeSentryExit(stateDir string, rec *SentryExit) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	path := filepath.Join(stateDir, sentryExitFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("watchdog: recording why the sentry ended: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("watchdog: recording why the sentry ended: %w", err)
	}
	return nil
}

// readSentryExit returns the record of the sentry's end, nil if there is
// none.
func readSentryExit(stateDir string) *SentryExit {
	data, err := os.ReadFile(filepath.Join(stateDir, sentryExitFile))
	if err != nil {
		return nil
	}
	var rec SentryExit
	if json.Unmarshal(data, &rec) != nil {
		return nil
	}
	return &rec
}

// confirmListener asks the container's watchdog whether the sentry took
// the seccomp listener of pid; nil means it did and serves it, or that
// the container's filter notifies nothing (no listener to hand off).
func confirmListener(c *libcontainer.Container, stateDir string, pid int) error {
	if sc := c.Config().Seccomp; sc == nil || sc.ListenerPath == "" {
		return nil
	}
	conn, err := net.DialTimeout("unix", controlSocket(stateDir), 5*time.Second)
	if err != nil {
		// The watchdog stops answering once its sentry has ended: the
		// listener was not taken. Its record says why, if it wrote one.
		why := fmt.Sprintf("its watchdog does not answer (%v)", err)
		if rec := readSentryExit(stateDir); rec != nil {
			why = rec.Reason
		}
		return fmt.Errorf("the sentry did not take the seccomp listener of pid %d: %s", pid, why)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(confirmTimeout + 5*time.Second))
	if _, err := fmt.Fprintf(conn, "confirm %d\n", pid); err != nil {
		return fmt.Errorf("confirming the sentry took the seccomp listener of pid %d: %w", pid, err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		// A watchdog that ends (its sentry did, or never started) closes
		// the socket; its record says why.
		if rec := readSentryExit(stateDir); rec != nil {
			return fmt.Errorf("the sentry did not take the seccomp listener of pid %d: %s", pid, rec.Reason)
		}
		return fmt.Errorf("confirming the sentry took the seccomp listener of pid %d: no answer from its watchdog: %w", pid, err)
	}
	line = strings.TrimSpace(line)
	if line == "ok" {
		return nil
	}
	return fmt.Errorf("the sentry did not take the seccomp listener of pid %d: %s", pid, strings.TrimPrefix(line, "error "))
}

// errWatchdogGone is what waitSentry reports when the watchdog closed its
// ready pipe without a word.
var errWatchdogGone = errors.New("sentry: its watchdog ended before starting it")
