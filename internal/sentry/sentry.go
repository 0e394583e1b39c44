// Package sentry is the per-container supervisor. It receives the seccomp
// user-notification fds of a container's processes over the OCI seccomp
// agent socket (libcontainer connects to it for the init and for every
// exec'd process), and answers each notified system call: emulating it,
// performing it on the workload's behalf after checking it (proxy),
// letting the kernel continue a call whose decision rests on values only,
// or refusing it. Decisions come from the syscall table
// (internal/sentry/syscalls) under the container's profile.
//
// The one rule: a decision that depends on the workload's memory is never
// followed by "continue" (the memory can change between the check and the
// kernel's own read); such calls are proxied or denied.
//
// If the sentry dies, the kernel fails every pending and future notified
// call with ENOSYS: nothing falls open. The sentry also ends itself when
// it cannot take or keep a listener (Serve returns an error); its
// watchdog (internal/container) then kills the whole container, so a
// workload never runs on without its sentry.
package sentry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/audit"
	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// Policy decides notified calls from the syscall number and the value
// arguments (saved registers, which the caller cannot change while it
// waits): the table entry (nil for a number the architecture lacks) and
// the outcome. policy.Profile is one.
type Policy interface {
	Decide(nr int, args [6]uint64) (*syscalls.Entry, syscalls.Outcome)
}

// Config is what one container's sentry needs.
type Config struct {
	ContainerID string
	Env         syscalls.Env
	Policy      Policy
	// Caps is the container's capability set Policy is for; learn mode's
	// recorder decides with the base profile for the same set.
	Caps  syscalls.Caps
	Audit *audit.Writer // nil: auditing off
	// IdleTimeout ends the sentry (normally: "idle" on Status) if no
	// process has connected by then.
	IdleTimeout time.Duration
	// UTSFile holds the container's node and domain name (WriteUTSFile),
	// open for reading; read when uname is first emulated.
	UTSFile *os.File
	// Jail, if set, is the empty directory the sentry chroots into (Jail)
	// once set up is over: after the resource view is opened from the
	// host's /proc and cgroup file systems, before its filter is loaded.
	Jail string
	// First, if set, is the init's listener, which the watchdog took
	// from the agent socket before starting the sentry: served before
	// anything else is accepted.
	First *FirstListener
	// ProcFd, if positive, is a procfs of the container's pid
	// namespace (the sentry serves from inside it): the /proc the jailed
	// sentry keeps instead of the host's.
	ProcFd int
	// ResourceViews: sysinfo is answered from the container's cgroup,
	// found from the first process's (the init's) when it connects.
	ResourceViews bool
	// Observer, if set, sees every notified call before it is decided
	// (learn mode records them: policy.Recorder).
	Observer Observer
	// RuntimeUID is the uid of the runtime that hands listeners over (the
	// sentry itself runs as another): the agent socket's peer must have it.
	RuntimeUID int
	// Status, if set, is told of every listener taken ("took PID"), of
	// the loss that ends the sentry ("lost REASON") and of its normal end
	// once every listener has hung up ("done") or when none ever came
	// ("idle"), one line each: the
	// container's watchdog confirms hand-offs to create and exec from it
	// and tells a normal end from one that must stop the container.
	Status io.Writer
}

// FirstListener is a listener taken before the sentry started.
type FirstListener struct {
	Fd    int
	State *specs.ContainerProcessState
}

// MaxAgentMessage caps the OCI seccomp agent message the sentry reads: the
// container process state, whose size is dominated by the container's
// annotations. Kubernetes refuses a pod whose annotations exceed 256 KiB
// in all, and the rest of the state is a few hundred bytes, so a valid
// container stays far below this; a message above it is refused (and the
// sentry ends, which stops the container).
const MaxAgentMessage = 16 << 20

// agentReadTimeout bounds the reading of one agent message. libcontainer
// writes it in one sendmsg and closes the connection at once, so this is
// only reached if the writer hangs.
const agentReadTimeout = 30 * time.Second

// Observer is told of every notified call: the calling thread, the
// syscall number and the value arguments.
type Observer interface {
	Observe(tid, nr int, args [6]uint64)
}

// Sentry serves one container.
type Sentry struct {
	cfg     Config
	utsOnce sync.Once
	mu      sync.Mutex
	active  int
	served  bool
	allDone chan struct{}
	// closing is set when the last listener has hung up: the sentry is
	// ending normally, and a listener that arrives now is not taken (its
	// create or exec is not confirmed and fails closed).
	closing bool
	pool    *proxyPool
	// lost receives the first loss of a listener (lose); Serve ends on it.
	lost     chan error
	statusMu sync.Mutex
}

// Serve accepts notification fds on l and answers their calls until every
// process that had one is gone (or, if none ever connects, until the idle
// timeout). It closes l before returning.
func Serve(l *net.UnixListener, cfg Config) error {
	setProcs()
	s := &Sentry{cfg: cfg, allDone: make(chan struct{}), lost: make(chan error, 1),
		pool: newProxyPool(MaxProxying, MaxProxyQueue)}
	acceptErr := make(chan error, 1)
	go func() { acceptErr <- s.accept(l) }()
	var idle <-chan time.Time
	if cfg.IdleTimeout > 0 {
		t := time.NewTimer(cfg.IdleTimeout)
		defer t.Stop()
		idle = t.C
	}
	for {
		select {
		case err := <-s.lost:
			l.Close()
			return err
		case <-s.allDone:
			l.Close()
			// A listener lost just before the last one closed still ends
			// the sentry with its reason.
			select {
			case err := <-s.lost:
				return err
			default:
			}
			// The normal end: every process that had a listener is gone.
			s.report("done")
			return nil
		case err := <-acceptErr:
			if err != nil {
				logrus.Errorf("sentry: %v", err)
				s.report("lost %v", err)
			}
			return err
		case <-idle:
			s.mu.Lock()
			served := s.served
			s.mu.Unlock()
			if !served {
				// No listener ever came: the container's filter notifies
				// nothing (create confirms the init's hand-off before its
				// program runs whenever it does), so there is nothing to
				// serve and nothing to stop the container for.
				l.Close()
				logrus.Infof("sentry: no container process connected within %v; nothing to serve", cfg.IdleTimeout)
				s.report("idle")
				return nil
			}
		}
	}
}

func (s *Sentry) accept(l *net.UnixListener) error {
	if f := s.cfg.First; f != nil {
		// Taken by the watchdog before it started us: served first.
		if err := s.take(f.Fd, f.State); err != nil {
			return err
		}
	}
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accepting on the agent socket: %w", err)
		}
		fd, state, err := TakeListener(conn, s.cfg.RuntimeUID, s.cfg.ContainerID)
		conn.Close()
		if IsRefused(err) {
			// Not the runtime, or another container's process: nothing
			// it sent is taken (its create or exec is not confirmed, so
			// it fails closed); ours runs on.
			logrus.Warnf("sentry: %v: refused", err)
			continue
		}
		if err != nil {
			// A process now runs with a filter whose listener nobody
			// holds (every notified call fails with ENOSYS): the
			// hand-off failed, and the container must not run on.
			return fmt.Errorf("taking a seccomp listener: %w", err)
		}
		if err := s.take(fd, state); err != nil {
			return err
		}
	}
}

// take serves a listener that arrived: the first one (the init's) ends
// the sentry's set-up (resource view, jail, filter).
func (s *Sentry) take(fd int, state *specs.ContainerProcessState) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		unix.Close(fd)
		logrus.Warnf("sentry: a listener for pid %d arrived after the last one closed: not taken", state.Pid)
		return nil
	}
	if !s.served {
		// Set up is over once the first process (the init) is here:
		// from now on the sentry runs jailed, under its own filter.
		s.openResources(state.Pid)
		if s.cfg.Jail != "" {
			if err := Jail(s.cfg.Jail, s.cfg.ProcFd); err != nil {
				s.mu.Unlock()
				unix.Close(fd)
				return err
			}
		}
		if err := confine(); err != nil {
			s.mu.Unlock()
			unix.Close(fd)
			return err
		}
	}
	s.active++
	s.served = true
	s.mu.Unlock()
	logrus.Debugf("sentry: serving pid %d (%s)", state.Pid, strings.Join(state.Fds, ","))
	s.serve(fd)
	s.report("took %d", state.Pid)
	return nil
}

// refusedError is TakeListener's error for a message the sentry must not
// take, but that does not end it: not from the runtime, or for another
// container.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// TakeListener reads one agent message from conn and returns its seccomp
// listener and the process state, if it comes from the runtime (a process
// of runtimeUID) and is for container id; a message refused for either
// reason gives an error IsRefused tells apart. The watchdog takes the
// first (the init's) this way, before it starts the sentry in the init's
// pid namespace; the sentry, the rest.
func TakeListener(conn *net.UnixConn, runtimeUID int, id string) (int, *specs.ContainerProcessState, error) {
	if err := runtimePeer(conn, runtimeUID); err != nil {
		return -1, nil, &refusedError{err}
	}
	fd, state, err := receiveListener(conn)
	if err != nil {
		return -1, nil, err
	}
	if err := forContainer(state, id); err != nil {
		unix.Close(fd)
		return -1, nil, &refusedError{err}
	}
	return fd, state, nil
}

// IsRefused tells whether a TakeListener error refused a message (not from
// the runtime, or for another container) rather than failed to read it.
func IsRefused(err error) bool {
	var r *refusedError
	return errors.As(err, &r)
}

// forContainer checks an agent message is for the container this sentry
// serves.
func forContainer(state *specs.ContainerProcessState, id string) error {
	if state.State.ID != id {
		return fmt.Errorf("agent message from pid %d for container %q, this sentry serves %q", state.Pid, state.State.ID, id)
	}
	return nil
}

// runtimePeer checks the agent socket's peer is the runtime: a process
// running as runtimeUID (libcontainer's parent, in create or exec, sends
// the listener; the socket's directory is the runtime's).
func runtimePeer(conn *net.UnixConn, runtimeUID int) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	if int(cred.Uid) != runtimeUID {
		return fmt.Errorf("peer pid %d runs as uid %d, not the runtime's %d", cred.Pid, cred.Uid, runtimeUID)
	}
	return nil
}

// lose ends the sentry because a listener was lost (or never taken): it
// reports why and makes Serve return the error. Only the first loss is
// kept.
func (s *Sentry) lose(err error) {
	logrus.Errorf("sentry: %v", err)
	s.report("lost %v", err)
	select {
	case s.lost <- err:
	default:
	}
}

// report writes one status line (see Config.Status); newlines in the
// text are flattened so a line is always one event.
func (s *Sentry) report(format string, args ...any) {
	if s.cfg.Status == nil {
		return
	}
	line := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	if _, err := io.WriteString(s.cfg.Status, line+"\n"); err != nil {
		logrus.Warnf("sentry: status: %v", err)
	}
}

// receiveListener reads one OCI seccomp agent message: the container
// process state as JSON with the listener fd attached. libcontainer dials
// a stream socket, writes the message in one sendmsg and closes, so a
// large message (a config with big annotations) arrives in several reads
// with the fd on the first: the whole stream is read, up to EOF, within
// MaxAgentMessage.
func receiveListener(conn *net.UnixConn) (int, *specs.ContainerProcessState, error) {
	_ = conn.SetReadDeadline(time.Now().Add(agentReadTimeout))
	var (
		data []byte
		fds  []int
	)
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*8))
	for {
		n, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
			if perr != nil {
				closeAll(fds)
				return -1, nil, fmt.Errorf("parsing agent message: %w", perr)
			}
			for i := range msgs {
				if got, rerr := unix.ParseUnixRights(&msgs[i]); rerr == nil {
					fds = append(fds, got...)
				}
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			closeAll(fds)
			return -1, nil, errors.New("agent message: its file descriptors were truncated")
		}
		data = append(data, buf[:n]...)
		if len(data) > MaxAgentMessage {
			closeAll(fds)
			return -1, nil, fmt.Errorf("agent message is larger than %d bytes (the cap on a container's process state)", MaxAgentMessage)
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0 && oobn == 0) {
			break
		}
		if err != nil {
			closeAll(fds)
			return -1, nil, fmt.Errorf("reading agent message (%d bytes so far): %w", len(data), err)
		}
	}
	var state specs.ContainerProcessState
	if err := json.Unmarshal(data, &state); err != nil {
		closeAll(fds)
		return -1, nil, fmt.Errorf("agent message (%d bytes) is not a container process state: %w", len(data), err)
	}
	idx := -1
	for i, name := range state.Fds {
		if name == specs.SeccompFdName {
			idx = i
		}
	}
	if idx < 0 || idx >= len(fds) {
		closeAll(fds)
		return -1, nil, fmt.Errorf("agent message from pid %d carries no seccomp fd", state.Pid)
	}
	for i, fd := range fds {
		if i != idx {
			unix.Close(fd)
		}
	}
	return fds[idx], &state, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// answer decides and answers one notification received on fd. t is the
// caller as handlers see it, filled in from n by the receiver (a
// receiver reuses one task for all its calls: nothing keeps it past the
// handler). start is when the notification was received, for the audit
// stream's latency (zero when auditing is off).
func (s *Sentry) answer(fd int, n *notif, t *task, e *syscalls.Entry, out syscalls.Outcome, start time.Time) {
	resp := s.respond(n, t, e, out, start)
	s.reply(fd, n, e, &resp)
}

// respond decides one notification and writes its audit event: all of
// answer but the answer itself (reply).
func (s *Sentry) respond(n *notif, t *task, e *syscalls.Entry, out syscalls.Outcome, start time.Time) notifResp {
	resp := notifResp{ID: n.ID}
	decision := out.Tier.String()
	var handler syscalls.Handler
	if e != nil {
		handler = e.Handler
	}
	switch out.Tier {
	case syscalls.Check, syscalls.Pass:
		// Only value arguments were looked at: the kernel may go on. A
		// checked call's handler decides on values and namespaces only
		// (never on memory it reads, which only it may follow).
		if hook := e.CheckHook(); hook != nil && out.Tier == syscalls.Check {
			s.utsOnce.Do(s.loadUTS)
			if r := hook(t, n.Data.Args, &s.cfg.Env); r.Errno != 0 {
				resp.Error = -int32(r.Errno)
				decision = "deny"
				break
			}
		}
		resp.Flags = unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE
		decision = "continue"
	case syscalls.Emulate, syscalls.Proxy:
		if handler == nil {
			resp.Error = -int32(unix.ENOSYS)
			break
		}
		s.utsOnce.Do(s.loadUTS)
		r := handler(t, n.Data.Args, &s.cfg.Env)
		if r.Errno != 0 {
			resp.Error = -int32(r.Errno)
		} else {
			resp.Val = r.Val
		}
	default: // Deny, and anything unknown: fail closed.
		errno := out.Errno
		if errno == 0 {
			errno = unix.EPERM
		}
		resp.Error = -int32(errno)
		decision = "deny"
	}
	// The event is written before the answer: once answered, the caller
	// may exit and its container be torn down (the sentry with it) before
	// a later write; an audited call must never go unrecorded.
	if s.cfg.Audit != nil {
		s.audit(n, syscallName(e, n), decision, &resp, time.Since(start))
	}
	return resp
}

// reply sends the answer respond made.
func (s *Sentry) reply(fd int, n *notif, e *syscalls.Entry, resp *notifResp) {
	if err := send(fd, resp); err != nil {
		logrus.Warnf("sentry: answering %s from pid %d: %v", syscallName(e, n), n.Pid, err)
	}
}

// syscallName is the call's name for the audit stream and logs: the
// table's, or syscall_NR for a number the table lacks.
func syscallName(e *syscalls.Entry, n *notif) string {
	if e != nil {
		return e.Name
	}
	return "syscall_" + strconv.Itoa(int(n.Data.Nr))
}

func (s *Sentry) audit(n *notif, name, decision string, resp *notifResp, lat time.Duration) {
	e := &audit.Event{
		Time:      time.Now().UTC(),
		Container: s.cfg.ContainerID,
		Pid:       tgid(int(n.Pid)),
		Tid:       int(n.Pid),
		Syscall:   name,
		Nr:        int(n.Data.Nr),
		Args:      syscalls.DecodeArgs(int(n.Data.Nr), n.Data.Args),
		Decision:  decision,
		Result:    resp.Val,
		LatencyNs: lat.Nanoseconds(),
	}
	if resp.Error != 0 {
		e.Result = -1
		e.Errno = unix.ErrnoName(unix.Errno(-resp.Error))
	}
	if err := s.cfg.Audit.Write(e); err != nil {
		logrus.Warnf("sentry: audit: %v", err)
	}
}

// tgid returns the thread group (process) id of a thread, or the thread id
// itself if it cannot be read.
func tgid(tid int) int {
	if pid, err := threadGroup(tid); err == nil {
		return pid
	}
	return tid
}

// loadUTS fills the node and domain names from the file create wrote.
func (s *Sentry) loadUTS() {
	if s.cfg.UTSFile == nil {
		return
	}
	node, domain, err := readUTSFile(s.cfg.UTSFile)
	if err != nil {
		logrus.Warnf("sentry: container UTS names: %v", err)
		return
	}
	s.cfg.Env.Nodename, s.cfg.Env.Domainname = node, domain
	s.cfg.Env.UTS = syscalls.NewUTSNames(node, domain)
}
