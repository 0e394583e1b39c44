package sentry

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// helperThreadsEnv and helperCallsEnv set how many threads of the
// notify-threads helper make how many notified calls each.
const (
	helperThreadsEnv = "SYSCAGE_SENTRY_TEST_THREADS"
	helperCallsEnv   = "SYSCAGE_SENTRY_TEST_CALLS"
)

// helperNotifyThreads ("notify-threads") installs on every thread of the
// process (TSYNC) a filter that notifies getppid, prints the listener
// fd, then has THREADS threads call getppid CALLS times each at once,
// expecting each call to return the calling thread's id; it prints a line
// for each call that did not, then "done", and waits for its stdin to
// close.
func helperNotifyThreads() {
	threads, _ := strconv.Atoi(os.Getenv(helperThreadsEnv))
	calls, _ := strconv.Atoi(os.Getenv(helperCallsEnv))
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		helperDie("no_new_privs: %v", err)
	}
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_GETPPID},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_USER_NOTIF},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	lfd, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_NEW_LISTENER|unix.SECCOMP_FILTER_FLAG_TSYNC|unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
		uintptr(unsafe.Pointer(&prog)))
	if e != 0 {
		helperDie("seccomp: %v", e)
	}
	fmt.Printf("listener=%d\n", lfd)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		bad []string
	)
	start := make(chan struct{})
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			tid := unix.Gettid()
			<-start
			for c := 0; c < calls; c++ {
				r, _, e := unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
				if int(r) != tid || e != 0 {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("tid=%d call=%d ret=%d errno=%d", tid, c, int64(r), int(e)))
					mu.Unlock()
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, b := range bad {
		fmt.Println(b)
	}
	fmt.Println("done")
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// callerPolicy answers every call with the tier given, by a handler that
// returns the calling thread's id.
type callerPolicy struct{ tier syscalls.Tier }

func (p callerPolicy) Decide(nr int, _ [6]uint64) (*syscalls.Entry, syscalls.Outcome) {
	e := &syscalls.Entry{Nr: nr, Name: "getppid", Handler: func(t syscalls.Task, _ [6]uint64, _ *syscalls.Env) syscalls.Result {
		return syscalls.Result{Val: int64(t.Pid())}
	}}
	return e, syscalls.Outcome{Tier: p.tier}
}

// TestServe runs the serving loop on a real listener: every call, from
// one thread or several at once, emulated or proxied (performed by a
// receiver beside another), is answered for its own caller, and once the
// process has exited the listener's receivers end, its fd is closed and
// the sentry is told the listener is done.
func TestServe(t *testing.T) {
	requireRoot(t, "a seccomp filter in a helper and pidfd_getfd of its listener")
	for _, tc := range []struct {
		name      string
		tier      syscalls.Tier
		threads   int
		pollFirst bool
	}{
		{"emulated, one thread", syscalls.Emulate, 1, false},
		{"emulated, four threads at once", syscalls.Emulate, 4, false},
		{"proxied, one thread", syscalls.Proxy, 1, false},
		{"proxied, four threads at once", syscalls.Proxy, 4, false},
		{"emulated, four threads, poll first (kernels before 6.6)", syscalls.Emulate, 4, true},
		{"proxied, four threads, poll first (kernels before 6.6)", syscalls.Proxy, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pollFirst = tc.pollFirst
			defer func() { pollFirst = false }()
			const calls = 2000
			h := startHelper(t, "notify-threads", []string{
				helperThreadsEnv + "=" + strconv.Itoa(tc.threads),
				helperCallsEnv + "=" + strconv.Itoa(calls),
			}, nil)
			var childListener int
			if _, err := fmt.Sscanf(h.line(t), "listener=%d", &childListener); err != nil {
				t.Fatalf("helper said: %v (stderr: %q)", err, h.stderr.String())
			}
			pidfd, err := unix.PidfdOpen(h.cmd.Process.Pid, 0)
			if err != nil {
				t.Fatalf("pidfd_open: %v", err)
			}
			defer unix.Close(pidfd)
			listener, err := unix.PidfdGetfd(pidfd, childListener, 0)
			if err != nil {
				t.Fatalf("taking the listener from the helper: %v", err)
			}
			var st fstatKey
			st.of(t, listener)

			s := &Sentry{cfg: Config{Policy: callerPolicy{tc.tier}}, allDone: make(chan struct{}),
				lost: make(chan error, 1), pool: newProxyPool(MaxProxying, MaxProxyQueue)}
			s.active = 1
			s.serve(listener) // closes listener once done

			var bad []string
			for {
				l := h.line(t)
				if l == "done" {
					break
				}
				bad = append(bad, l)
			}
			if len(bad) > 0 {
				t.Fatalf("%d calls not answered for their own thread, first: %s", len(bad), bad[0])
			}
			h.stdin.Close()
			select {
			case <-s.allDone:
			case err := <-s.lost:
				t.Fatalf("the sentry lost the listener: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("the listener's receivers did not end within 10 s of its process's exit")
			}
			if st.stillOpen(listener) {
				t.Errorf("fd %d still refers to the listener after the last receiver ended", listener)
			}
		})
	}
}

// fstatKey identifies an open file, to tell whether an fd number still
// refers to it.
type fstatKey struct{ dev, ino uint64 }

func (k *fstatKey) of(t *testing.T, fd int) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatalf("fstat %d: %v", fd, err)
	}
	k.dev, k.ino = st.Dev, st.Ino
}

func (k *fstatKey) stillOpen(fd int) bool {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false
	}
	return st.Dev == k.dev && st.Ino == k.ino
}

// blockFirstPolicy proxies the first call it decides with a handler that
// waits for release, and emulates every later one; each answer is the
// caller's thread id. reached is closed once the later calls answered
// number want.
type blockFirstPolicy struct {
	decided atomic.Int64
	release chan struct{}
	want    int64
	reached chan struct{}
	once    sync.Once
}

func (p *blockFirstPolicy) Decide(nr int, _ [6]uint64) (*syscalls.Entry, syscalls.Outcome) {
	first := p.decided.Add(1) == 1
	e := &syscalls.Entry{Nr: nr, Name: "getppid", Handler: func(t syscalls.Task, _ [6]uint64, _ *syscalls.Env) syscalls.Result {
		if first {
			<-p.release
		} else if p.decided.Load() > p.want {
			p.once.Do(func() { close(p.reached) })
		}
		return syscalls.Result{Val: int64(t.Pid())}
	}}
	if first {
		return e, syscalls.Outcome{Tier: syscalls.Proxy}
	}
	return e, syscalls.Outcome{Tier: syscalls.Emulate}
}

// TestServeBesideBlockedProxy: while one thread's proxied call blocks in
// its handler, another thread's calls go on being answered, well past the
// quietCalls after which an extra receiver would go back to standby: the
// receiver left must not be the one blocked.
func TestServeBesideBlockedProxy(t *testing.T) {
	requireRoot(t, "a seccomp filter in a helper and pidfd_getfd of its listener")
	const calls = 4 * quietCalls
	h := startHelper(t, "notify-threads", []string{helperThreadsEnv + "=2", helperCallsEnv + "=" + strconv.Itoa(calls)}, nil)
	var childListener int
	if _, err := fmt.Sscanf(h.line(t), "listener=%d", &childListener); err != nil {
		t.Fatalf("helper said: %v (stderr: %q)", err, h.stderr.String())
	}
	pidfd, err := unix.PidfdOpen(h.cmd.Process.Pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open: %v", err)
	}
	defer unix.Close(pidfd)
	listener, err := unix.PidfdGetfd(pidfd, childListener, 0)
	if err != nil {
		t.Fatalf("taking the listener from the helper: %v", err)
	}
	p := &blockFirstPolicy{release: make(chan struct{}), want: 2 * quietCalls, reached: make(chan struct{})}
	s := &Sentry{cfg: Config{Policy: p}, allDone: make(chan struct{}),
		lost: make(chan error, 1), pool: newProxyPool(MaxProxying, MaxProxyQueue)}
	s.active = 1
	s.serve(listener)
	select {
	case <-p.reached:
	case <-time.After(10 * time.Second):
		close(p.release)
		t.Fatalf("only %d calls answered in 10 s while one proxied call was blocked; want more than %d", p.decided.Load()-1, p.want)
	}
	close(p.release)
	for {
		l := h.line(t)
		if l == "done" {
			break
		}
		t.Errorf("call not answered for its own thread: %s", l)
	}
	h.stdin.Close()
	select {
	case <-s.allDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener's receivers did not end within 10 s of its process's exit")
	}
}
