package security

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestProxiedConnectTOCTOU is the time-of-check-to-time-of-use attack on a
// proxied call (design: "a decision that depends on the workload's memory
// is never followed by continue"). Under the strict profile connect(2) is
// to be proxied: the sentry copies the sockaddr, refuses 169.254.0.0/16
// (cloud metadata) with EPERM and connects on the workload's behalf. In a
// container with only loopback, testdata/toctou.c connects 2000 fresh
// sockets to one sockaddr while another thread flips it between
// 127.0.0.1:P (a listening server) and 169.254.169.254:80.
//
// Each connect must end in success — and the server must have accepted
// exactly as many connections — or in EPERM. Any other errno
// (ENETUNREACH, ETIMEDOUT, EINPROGRESS...) means the kernel was asked to
// reach 169.254.169.254: the address checked was not the address used, or
// nothing checked it at all.
func TestProxiedConnectTOCTOU(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/toctou"))
	log := filepath.Join(filepath.Dir(rt.Root), "audit.jsonl")
	res := rt.Container(b, []string{"--strace-log", log}, "--profile", "strict")
	if res.Code != 0 {
		t.Fatalf("toctou container: %s", res)
	}
	// Without the race: loopback connects, the metadata address is refused.
	plain := map[string]string{}
	for _, l := range lines(res.Stdout, "S ") {
		if f := strings.Fields(l); len(f) == 3 {
			plain[f[0]] = f[1] + " " + f[2]
		}
	}
	if plain["loopback"] != "0 0" {
		t.Errorf("a plain connect to 127.0.0.1 gave %q, want success", plain["loopback"])
	}
	if plain["metadata"] != "-1 EPERM" {
		t.Errorf("a plain connect to 169.254.169.254:80 (no race) gave %q, want -1 EPERM: "+
			"connect is not checked under the strict profile at all", plain["metadata"])
	}
	var iter, ok, eperm, accepted int
	found := false
	for _, l := range lines(res.Stdout, "T ") {
		found = true
		for _, kv := range strings.Fields(l) {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("malformed line %q", l)
			}
			switch k {
			case "iterations":
				iter = n
			case "ok":
				ok = n
			case "eperm":
				eperm = n
			case "accepted":
				accepted = n
			}
		}
	}
	if !found || !strings.Contains(res.Stdout, "DONE\n") {
		t.Fatalf("toctou program did not report; output:\n%s\nstderr:\n%s", res.Stdout, res.Stderr)
	}
	t.Logf("%d connects: %d succeeded, %d EPERM, server accepted %d", iter, ok, eperm, accepted)
	for _, l := range lines(res.Stdout, "E ") {
		t.Errorf("connect failed with an errno that shows the kernel tried 169.254.169.254: %s (errno name count)", l)
	}
	if ok+eperm != iter {
		t.Errorf("%d successes + %d EPERM != %d connects", ok, eperm, iter)
	}
	if accepted != ok {
		t.Errorf("the server accepted %d connections but %d connects succeeded", accepted, ok)
	}
	// Both outcomes must occur, or the race was never run.
	if ok == 0 || eperm == 0 {
		t.Errorf("the flipping did not produce both outcomes (ok=%d, EPERM=%d), so the race proves nothing", ok, eperm)
	}
	// The sentry's record must agree: connects it proxied, none it let
	// the kernel continue, and only EPERM as an error.
	var proxied, refused, other int
	for _, e := range readAudit(t, log) {
		if e.Syscall != "connect" {
			continue
		}
		switch {
		case e.Decision == "proxy" && e.Errno == "":
			proxied++
		case (e.Decision == "proxy" || e.Decision == "deny") && e.Errno == "EPERM":
			refused++
		default:
			other++
			if other <= 5 {
				t.Errorf("audit: connect with decision %q errno %q: %+v", e.Decision, e.Errno, e)
			}
		}
	}
	// Plus the two plain connects made before the race: one proxied, one
	// refused.
	if proxied != ok+1 || refused != eperm+1 {
		t.Errorf("audit: %d proxied and %d refused connects, want %d and %d (the race's plus one plain connect each)",
			proxied, refused, ok+1, eperm+1)
	}
}
