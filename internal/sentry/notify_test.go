package sentry

import (
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNotifyAtEveryStackDepth receives and answers notifications from a
// goroutine whose stack is at a different depth each time, so that some
// of the calls into recv, send and idValid have to grow (move) the
// goroutine's stack on the way to the ioctl. The kernel must still write
// each notification into the struct we read, and read each answer from
// the struct we filled: a pointer turned into an integer before the stack
// moved would point into the old stack (a notification read as all zeros,
// an answer never delivered — the caller then waits forever).
func TestNotifyAtEveryStackDepth(t *testing.T) {
	requireRoot(t, "a seccomp filter in a helper and pidfd_getfd of its listener")
	h := startHelper(t, "notify-loop", nil, nil)
	var childListener, tid int
	if _, err := fmt.Sscanf(h.line(t), "listener=%d tid=%d", &childListener, &tid); err != nil {
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
	defer unix.Close(listener)

	// A collector running all along shrinks (moves) the stack of the
	// answering goroutine whenever it uses little of it: the answers
	// alternate between a deep stack and a shallow one.
	stopGC := make(chan struct{})
	defer close(stopGC)
	go func() {
		for {
			select {
			case <-stopGC:
				return
			default:
				runtime.GC()
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < notifyLoopCalls; i++ {
			depth := (i % 7) * 24
			if i%2 == 0 {
				depth = 64<<10 + i*24
			}
			if err := atDepth(depth, func() error { return answerOne(listener, tid, int64(1000+i)) }); err != nil {
				done <- fmt.Errorf("call %d: %w", i, err)
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := h.line(t); got != "done" {
		t.Fatalf("helper: %q, want every call answered with its own value, then done", got)
	}
}

// answerOne waits for one notification on listener, checks it is tid's
// getppid and still valid, and answers it with val.
func answerOne(listener, tid int, val int64) error {
	pfd := []unix.PollFd{{Fd: int32(listener), Events: unix.POLLIN}}
	_, err := unix.Poll(pfd, 10000)
	for err == unix.EINTR { // the runtime's preemption signals
		_, err = unix.Poll(pfd, 10000)
	}
	if err != nil || pfd[0].Revents&unix.POLLIN == 0 {
		return fmt.Errorf("no notification within 10s (poll: %v, revents %#x)", err, pfd[0].Revents)
	}
	var n notif
	if err := recv(listener, &n); err != nil {
		return fmt.Errorf("recv: %w", err)
	}
	if n.Data.Nr != unix.SYS_GETPPID || int(n.Pid) != tid || n.ID == 0 {
		return fmt.Errorf("received nr %d pid %d id %d, want getppid (%d) from %d with an id", n.Data.Nr, n.Pid, n.ID, unix.SYS_GETPPID, tid)
	}
	if !idValid(listener, n.ID) {
		return fmt.Errorf("notification %d reported invalid while its caller waits", n.ID)
	}
	if err := send(listener, &notifResp{ID: n.ID, Val: val}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// atDepth calls f with about n more bytes of stack in use.
//
//go:noinline
func atDepth(n int, f func() error) error {
	var pad [16]byte
	pad[0] = byte(n)
	if n <= 0 {
		return f()
	}
	err := atDepth(n-len(pad)-8, f)
	_ = pad[0]
	return err
}
