package sentry

import (
	"os"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// lockedTids returns the thread ids of n goroutines each locked to its own
// thread, all held at once so the threads are distinct; at most one of
// them can be the main thread. The threads are released when the test
// ends.
func lockedTids(t *testing.T, n int) []int {
	t.Helper()
	release := make(chan struct{})
	var wg sync.WaitGroup
	tids := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tids <- unix.Gettid()
			<-release
		}()
	}
	out := make([]int, 0, n)
	for range n {
		out = append(out, <-tids)
	}
	t.Cleanup(func() { close(release); wg.Wait() })
	return out
}

func TestTgid(t *testing.T) {
	pid := os.Getpid()
	missing := unusedPid(t)
	tids := lockedTids(t, 3)
	others := 0
	for _, tid := range tids {
		if tid != pid {
			others++
		}
	}
	if others < 2 {
		t.Fatalf("locked threads %v: want at least two that are not the main thread %d", tids, pid)
	}

	type tc struct {
		name     string
		tid      int
		want     int
		wantSelf bool // want is tid itself
	}
	cases := []tc{
		{name: "the process itself", tid: pid, want: pid},
		// Documented: the thread id itself if the status cannot be read.
		{name: "a missing thread", tid: missing, wantSelf: true},
		{name: "a negative id", tid: -1, wantSelf: true},
		{name: "id 0", tid: 0, wantSelf: true},
	}
	for i, tid := range tids {
		cases = append(cases, tc{name: "locked thread " + string(rune('a'+i)), tid: tid, want: pid})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if c.wantSelf {
				want = c.tid
			}
			if got := tgid(c.tid); got != want {
				t.Errorf("tgid(%d) = %d, want %d", c.tid, got, want)
			}
		})
	}
}
