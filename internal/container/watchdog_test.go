package container

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestWatchdogConfirm: a hand-off is confirmed only from the sentry's own
// "took PID" line, once, and an ended sentry answers every waiter at once
// with its reason.
func TestWatchdogConfirm(t *testing.T) {
	tests := []struct {
		name    string
		lines   string // what the sentry writes on its status pipe
		end     bool   // the sentry ends after writing
		pid     int
		want    bool
		wantMsg string
	}{
		{name: "took", lines: "took 42\n", pid: 42, want: true},
		{name: "other pid", lines: "took 41\n", pid: 42, wantMsg: "did not report taking it"},
		{name: "garbage", lines: "took x\nok 42\n\n", pid: 42, wantMsg: "did not report taking it"},
		{name: "lost", lines: "lost taking a seccomp listener: agent message is larger\n", end: true, pid: 42, wantMsg: "agent message is larger"},
		{name: "ended", end: true, pid: 42, wantMsg: "the sentry has ended: killed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &watchdog{took: map[int]bool{}, changed: make(chan struct{})}
			r, wr, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := wr.WriteString(tt.lines); err != nil {
				t.Fatal(err)
			}
			wr.Close()
			w.readStatus(r) // reads to EOF
			if tt.end {
				w.update(func() { w.ended = "killed by signal 9 (SIGKILL)" })
			}
			ok, msg := w.confirm(tt.pid, 50*time.Millisecond)
			if ok != tt.want || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("confirm(%d) = %v, %q; want %v, %q", tt.pid, ok, msg, tt.want, tt.wantMsg)
			}
			if ok {
				// Consumed: a recycled pid is not confirmed by an old line.
				if again, _ := w.confirm(tt.pid, 10*time.Millisecond); again {
					t.Errorf("pid %d confirmed twice from one line", tt.pid)
				}
			}
		})
	}
}

// TestWatchdogConfirmWaits: a confirmation asked before the sentry's line
// arrives waits for it.
func TestWatchdogConfirmWaits(t *testing.T) {
	w := &watchdog{took: map[int]bool{}, changed: make(chan struct{})}
	done := make(chan bool)
	go func() {
		ok, _ := w.confirm(7, time.Minute)
		done <- ok
	}()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { _, _ = wr.WriteString("took 7\n"); wr.Close() }()
	w.readStatus(r)
	if !<-done {
		t.Errorf("confirmation waiting for pid 7 was not answered ok")
	}
}
