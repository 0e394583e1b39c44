package sentry

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// How a listener is served. A listener's receivers are goroutines locked
// to an OS thread of their own, each of which receives a notification,
// decides it and answers it on that thread, then receives the next.
// Nothing is handed to another goroutine on the way: a hand-off costs a
// wake-up of another thread (on this kind of machine a cross-CPU wake-up
// costs several µs), and the thread blocked in the receive is the one the
// kernel wakes on the caller's CPU (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP).
//
// Receivers are active (waiting in the receive, or answering what they
// received) or on standby (parked on a channel, off the listener). One is
// active to begin with: every receiver waiting on the listener is woken by
// each notification and all but one go back to waiting, which costs a
// single caller ~15%. When calls from two threads of the process come in
// interleaved, a standby (or a new receiver) is made active too, up to one
// per CPU the sentry may use, so that calls made at once are answered at
// once; an extra active receiver goes back to standby after
// quietCalls calls in a row with no interleaving.
//
// A proxied call (connect under strict) may block for as long as the
// kernel lets it. A receiver performs one itself, holding a slot of the
// sentry's proxy pool, only while another receiver waits on the listener:
// one already does, or it makes a standby (or a new receiver) active.
// It then stays active, so a thread making proxied calls one after the
// other finds two receivers waiting and pays no wake-up of a parked
// thread (a locked goroutine's wake-up costs tens of µs here); proxied
// calls do not count towards quietCalls. When it can do neither
// (maxReceivers reached, or every slot taken), the call goes to the pool
// as before: a goroutine of its own, waiting for a slot, or EAGAIN past
// the pool's queue. So a listener has at most maxReceivers receiver
// threads, and the sentry at most MaxProxying threads performing proxied
// calls.

// maxReceivers caps the receivers of one listener: their threads count
// against the container's pids limit (the sentry is charged to the
// container's cgroups), one set per process that has a listener.
const maxReceivers = 4

// maxActive is how many receivers of one listener may wait on it at once:
// one per CPU the sentry may use, within maxReceivers.
var maxActive = int32(min(runtime.NumCPU(), maxReceivers))

// setProcs gives the Go scheduler more Ps than CPUs, by maxReceivers.
// Receivers spend their time in system calls, each holding a P while it
// is there; when no P is idle, the scheduler takes a P from a thread
// that has been in a system call for 20 µs, and that thread, once back,
// must get one from another thread, which costs wake-ups of other threads
// on every call (a proxied connect then took 50 µs instead of 20). With
// a P to spare, a thread back from a system call takes its own P again.
// Ps are not threads: this starts none.
func setProcs() {
	runtime.GOMAXPROCS(runtime.NumCPU() + maxReceivers)
}

// quietCalls is how many calls in a row, none from another thread than
// the one before, an extra active receiver answers before it goes back
// to standby.
const quietCalls = 256

// pollFirst makes receivers poll before each receive even where the
// kernel took SYNC_WAKE_UP: the path of kernels before 6.6, for tests on
// the machine at hand.
var pollFirst bool

// listener is one seccomp listener being served.
type listener struct {
	s  *Sentry
	fd int
	// blocking: the kernel took SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, so a
	// blocking receive returns when the listener hangs up; older kernels
	// poll first.
	blocking bool
	// users counts the receivers and queued proxied calls that still use
	// fd; the last to end closes it.
	users atomic.Int32
	// receivers counts the receiver goroutines.
	receivers atomic.Int32
	// mu orders the decisions that take a receiver off the listener
	// (shrink, a proxied call): whoever decides second sees the first.
	mu sync.Mutex
	// active counts the receivers not on standby, proxying the active
	// ones performing a proxied call (blocked, perhaps for minutes): the
	// others are, or are about to be, waiting on the listener.
	active, proxying int32
	// lastTid is the caller of the last notification received.
	lastTid atomic.Uint32
	// standby wakes a receiver on standby (a send succeeds only if one is
	// parked); hungUp is closed once the listener has hung up or failed.
	standby  chan struct{}
	hungUp   chan struct{}
	hangOnce sync.Once
}

// serve starts serving a listener taken from the agent socket. The
// sentry's count of active listeners was raised by the caller; the last
// user of fd lowers it.
func (s *Sentry) serve(fd int) {
	l := &listener{s: s, fd: fd, blocking: setSyncWakeup(fd) && !pollFirst,
		standby: make(chan struct{}), hungUp: make(chan struct{})}
	l.active = 1
	l.receivers.Store(1)
	l.users.Store(1)
	go l.receive()
}

// release drops one user of fd; the last one closes it and tells the
// sentry the listener is done.
func (l *listener) release() {
	if l.users.Add(-1) != 0 {
		return
	}
	unix.Close(l.fd)
	s := l.s
	s.mu.Lock()
	s.active--
	if s.active == 0 {
		s.closing = true
		close(s.allDone)
	}
	s.mu.Unlock()
}

// hangUp ends the standby receivers once the listener is done.
func (l *listener) hangUp() { l.hangOnce.Do(func() { close(l.hungUp) }) }

// addReceiver puts another receiver on the listener: a standby if one is
// parked, else a new one within maxReceivers. It reports whether it did.
// Called only by a receiver, so fd is still open.
func (l *listener) addReceiver() bool {
	select {
	case l.standby <- struct{}{}:
		return true
	default:
	}
	if l.receivers.Add(1) > maxReceivers {
		l.receivers.Add(-1)
		return false
	}
	l.users.Add(1)
	go l.receive()
	return true
}

// grow makes one more receiver active, within maxActive (two calling at
// once may pass it by one; maxReceivers still holds).
func (l *listener) grow() {
	l.mu.Lock()
	full := l.active >= maxActive
	l.mu.Unlock()
	if !full && l.addReceiver() {
		l.mu.Lock()
		l.active++
		l.mu.Unlock()
	}
}

// shrink takes the calling receiver off the listener if another active
// one is not performing a proxied call (which may block for minutes), and
// reports whether it did.
func (l *listener) shrink() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active-l.proxying <= 1 {
		return false
	}
	l.active--
	return true
}

// startProxying reports whether the calling receiver may perform a
// proxied call itself: another active receiver that is not performing
// one is, or soon will be, waiting on the listener (it may not be there
// yet: with synchronous wake-up, its caller runs as soon as it is
// answered, before the receiver gets back to receiving), or one was made
// active for it. Then it counts as proxying until stopProxying.
func (l *listener) startProxying() bool {
	l.mu.Lock()
	ok := l.active-l.proxying >= 2
	if ok {
		l.proxying++
	}
	l.mu.Unlock()
	if ok {
		return true
	}
	if !l.addReceiver() {
		return false
	}
	l.mu.Lock()
	l.active++
	l.proxying++
	l.mu.Unlock()
	return true
}

func (l *listener) stopProxying() {
	l.mu.Lock()
	l.proxying--
	l.mu.Unlock()
}

// park waits on standby until the receiver is made active again (true)
// or the listener is done (false).
func (l *listener) park() bool {
	select {
	case <-l.standby:
		return true
	case <-l.hungUp:
		return false
	}
}

// receive is one receiver: it answers notifications until the listener
// hangs up (every process using its filter has exited).
func (l *listener) receive() {
	// Never unlocked: the thread ends with the goroutine.
	runtime.LockOSThread()
	pidfds := newPidfdCache()
	defer func() {
		pidfds.drop()
		l.receivers.Add(-1)
		l.release()
	}()
	var (
		n     notif
		t     task // reused for every call: no handler keeps it
		quiet int
	)
	for {
		ok, err := l.next(&n)
		if err != nil {
			l.hangUp()
			l.s.lose(err)
			return
		}
		if !ok {
			l.hangUp()
			return
		}
		if prev := l.lastTid.Swap(n.Pid); prev != n.Pid && prev != 0 {
			// Threads of the process take turns: their calls may be
			// waiting at once.
			quiet = 0
			l.grow()
		} else {
			quiet++
		}
		if l.handle(&n, &t, pidfds) {
			quiet = 0 // a proxied call: a second receiver was needed
		} else if quiet > quietCalls {
			// Asked again only after another quietCalls calls: a lone
			// receiver would otherwise take the mutex on every call.
			quiet = 0
			if l.shrink() {
				// Not needed: on standby until needed again.
				if !l.park() {
					return
				}
			}
		}
	}
}

// next waits for the next notification. It reports false when the
// listener has hung up.
func (l *listener) next(n *notif) (bool, error) {
	pfd := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}}
	for {
		if !l.blocking {
			pfd[0].Revents = 0
			if _, err := unix.Poll(pfd, -1); err != nil {
				if err == unix.EINTR {
					continue
				}
				return false, fmt.Errorf("polling a seccomp listener: %w", err)
			}
			if pfd[0].Revents&unix.POLLIN == 0 {
				if pfd[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
					return false, nil
				}
				continue
			}
		}
		err := recv(l.fd, n)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, unix.ENOENT) {
			return false, fmt.Errorf("receiving a notification: %w", err)
		}
		// The caller went away before its notification was read, or (a
		// blocking receive) no process uses the filter any more.
		if l.blocking && hungUp(l.fd) {
			return false, nil
		}
	}
}

// handle answers one notification on the receiver's thread, or, for a
// proxied call it cannot perform itself, hands it to the proxy pool. It
// reports whether the receiver performed a proxied call itself (while
// another receiver waited on the listener).
func (l *listener) handle(n *notif, t *task, pidfds *pidfdCache) bool {
	s := l.s
	var start time.Time
	if s.cfg.Audit != nil {
		start = time.Now()
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.Observe(int(n.Pid), int(n.Data.Nr), n.Data.Args)
	}
	*t = task{fd: l.fd, id: n.ID, pid: int(n.Pid), pidfds: pidfds}
	if foreignABI(n.Data.Arch, n.Data.Nr) {
		// Never decided by the native table: ENOSYS, as for a number
		// the filter does not know.
		s.answer(l.fd, n, t, nil, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}, start)
		return false
	}
	e, out := s.cfg.Policy.Decide(int(n.Data.Nr), n.Data.Args)
	if out.Tier != syscalls.Proxy {
		s.answer(l.fd, n, t, e, out, start)
		return false
	}
	if s.pool.acquire() {
		if l.startProxying() {
			// Someone else receives meanwhile: the call may block.
			// Done with it before answering: the caller may run, and call
			// again, before this thread is back from the answer.
			resp := s.respond(n, t, e, out, start)
			l.stopProxying()
			s.pool.release()
			s.reply(l.fd, n, e, &resp)
			return true
		}
		s.pool.release()
	}
	// To the pool: the call waits for a slot on a goroutine of its own,
	// holding fd open, or is refused when the queue is full.
	nc := *n
	l.users.Add(1)
	if !s.pool.submit(func() {
		defer l.release()
		s.answer(l.fd, &nc, &task{fd: l.fd, id: nc.ID, pid: int(nc.Pid)}, e, out, start)
	}) {
		l.users.Add(-1) // this receiver still holds fd
		s.answer(l.fd, n, t, e, syscalls.Outcome{Tier: syscalls.Deny, Errno: errBusy}, start)
	}
	return false
}
