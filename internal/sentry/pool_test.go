package sentry

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestProxyPool: at most the pool's slots run at once, at most slots+queue
// are accepted, the rest are refused at once, and every accepted call runs.
func TestProxyPool(t *testing.T) {
	for _, tc := range []struct {
		name         string
		slots, queue int
		calls        int
		wantRefused  int
	}{
		{"all fit in the slots", 4, 4, 4, 0},
		{"some wait", 4, 4, 8, 0},
		{"past the queue", 4, 4, 20, 12},
		{"the sentry's bounds, flooded", MaxProxying, MaxProxyQueue, 10_000, 10_000 - MaxProxying - MaxProxyQueue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxyPool(tc.slots, tc.queue)
			release := make(chan struct{})
			var running, maxRunning, ran atomic.Int64
			started := make(chan struct{}, tc.calls)
			var done sync.WaitGroup
			refused := 0
			for i := 0; i < tc.calls; i++ {
				done.Add(1)
				ok := p.submit(func() {
					defer done.Done()
					n := running.Add(1)
					for {
						m := maxRunning.Load()
						if n <= m || maxRunning.CompareAndSwap(m, n) {
							break
						}
					}
					started <- struct{}{}
					<-release
					running.Add(-1)
					ran.Add(1)
				})
				if !ok {
					refused++
					done.Done()
				}
			}
			for i := 0; i < min(tc.slots, tc.calls); i++ {
				<-started // every slot is busy, blocked on release
			}
			if refused != tc.wantRefused {
				t.Errorf("refused %d of %d calls, want %d", refused, tc.calls, tc.wantRefused)
			}
			close(release)
			done.Wait()
			if got := maxRunning.Load(); got > int64(tc.slots) {
				t.Errorf("%d calls ran at once, the pool has %d slots", got, tc.slots)
			}
			if got, want := ran.Load(), int64(tc.calls-refused); got != want {
				t.Errorf("%d calls ran, want every accepted one (%d)", got, want)
			}
		})
	}
}
