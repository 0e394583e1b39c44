package security

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// floodThreads is how many concurrent proxied connects the flood asks for.
const floodThreads = 10_000

// floodPids is the container's own pids limit: what must stop the flood.
const floodPids = 1500

// sentryPoolBound is the most OS threads a sentry may run while flooded:
// its proxied-call pool (internal/sentry.MaxProxying, 64) plus the Go
// runtime's own (the scheduler, the network poller, the serving loops).
const sentryPoolBound = 64 + 40

// procStatus reads fields (Threads, VmRSS) of /proc/<pid>/status.
func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatalf("sentry status: %v", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return ""
}

// TestProxyFlood floods a strict container's sentry with 10,000
// concurrent proxied connects to an address that never answers (a
// loopback listener whose accept queue is full). The container's own
// pids limit is what stops the flood; the sentry's threads stay within
// its pool's bound; the sentry still answers the flooding container; and
// another container's calls are answered meanwhile. The figures (sentry
// threads and RSS before and after, the other container's uname time) are
// logged.
func TestProxyFlood(t *testing.T) {
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/flood", strconv.Itoa(floodThreads)), func(s *specs.Spec) {
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: floodPids}
	})
	id := newID(t)
	c := rt.Command(nil, "run", "--profile", "strict", "--bundle", b, id)
	stdin, err := c.Cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	defer func() {
		stdin.Close()
		rt.Run(nil, "kill", id, "KILL")
		c.Wait()
	}()
	pidFile := filepath.Join(rt.Root, id, "sentry.pid")
	var sentry int
	if !waitFor(30*time.Second, func() bool {
		data, err := os.ReadFile(pidFile)
		sentry, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil && sentry > 0
	}) {
		t.Fatalf("no sentry pid in %s; output %q", pidFile, c.Stdout())
	}
	threadsBefore, rssBefore := procStatus(t, sentry, "Threads"), procStatus(t, sentry, "VmRSS")

	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(60*time.Second, func() bool { return strings.Contains(c.Stdout(), "ready\n") }) {
		t.Fatalf("the flood did not get going: %q", c.Stdout())
	}
	started := lines(c.Stdout(), "started ")
	if len(started) != 1 {
		t.Fatalf("flood output %q", c.Stdout())
	}
	var n int
	var why string
	fmt.Sscanf(started[0], "%d %s", &n, &why)
	if n >= floodThreads || why != "EAGAIN" {
		t.Errorf("the flood started %d threads (%s): the container's pids limit (%d) should have stopped it with EAGAIN", n, why, floodPids)
	}
	// A connect returns only when the sentry's pool and its queue are full
	// (EAGAIN, at once); the rest hang in the kernel's SYN retries.
	busy := 0
	for _, r := range lines(c.Stdout(), "connect ") {
		if r != "EAGAIN" {
			t.Errorf("a connect to a full accept queue returned %s", r)
		}
		busy++
	}

	// Another container, under the same runtime, is answered meanwhile.
	other := newBundle(t, withArgs("uname", "-r"))
	t0 := time.Now()
	res := rt.Container(other, nil)
	otherTime := time.Since(t0)
	if res.Code != 0 || strings.TrimSpace(res.Stdout) != defaultRelease {
		t.Errorf("another container during the flood: %s", res)
	}
	// The flooded container's own sentry still answers it.
	before := len(lines(c.Stdout(), "uname "))
	t1 := time.Now()
	if _, err := io.WriteString(stdin, "uname\n"); err != nil {
		t.Fatal(err)
	}
	if !waitFor(30*time.Second, func() bool { return len(lines(c.Stdout(), "uname ")) > before }) {
		t.Fatalf("the flooded container's uname got no answer")
	}
	ownTime := time.Since(t1)
	if got := lines(c.Stdout(), "uname ")[before]; got != "0 "+defaultRelease {
		t.Errorf("the flooded container's uname: %q, want %q", got, "0 "+defaultRelease)
	}
	threadsAfter, rssAfter := procStatus(t, sentry, "Threads"), procStatus(t, sentry, "VmRSS")
	if th, _ := strconv.Atoi(threadsAfter); th > sentryPoolBound {
		t.Errorf("the flooded sentry runs %d threads, bound %d", th, sentryPoolBound)
	}
	t.Logf("flood: %d workload threads started (stopped by %s at pids limit %d), %d connects answered EAGAIN so far (pool full); "+
		"sentry threads %s -> %s, RSS %s -> %s; another container's run of uname -r took %v; the flooded container's own uname took %v",
		n, why, floodPids, busy, threadsBefore, threadsAfter, rssBefore, rssAfter, otherTime.Round(time.Millisecond), ownTime.Round(time.Microsecond))
}
