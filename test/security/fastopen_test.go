package security

import (
	"strings"
	"testing"
)

// TestFastOpenAroundConnect: under strict, MSG_FASTOPEN on sendto/sendmsg
// (a TCP connection to an address in memory, without connect) is refused
// with EPERM, so it cannot reach the cloud-metadata address connect's proxy
// refuses. Under default the same calls reach the kernel, which shows the
// test would see a difference.
func TestFastOpenAroundConnect(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	b := newBundle(t, withArgs("/t/fastopen"))
	for _, tc := range []struct {
		profile string
		eperm   bool
	}{{"strict", true}, {"default", false}} {
		res := rt.Container(b, nil, "--profile", tc.profile)
		if res.Code != 0 {
			t.Fatalf("%s: %s", tc.profile, res)
		}
		for _, call := range []string{"sendto", "sendmsg"} {
			var got string
			for _, l := range lines(res.Stdout, call+" ") {
				got = l
			}
			if got == "" {
				t.Fatalf("%s: no %s line in %q", tc.profile, call, res.Stdout)
			}
			isEperm := strings.HasSuffix(got, " EPERM")
			if isEperm != tc.eperm {
				t.Errorf("%s: %s with MSG_FASTOPEN to 169.254.169.254: %q (want EPERM: %v)", tc.profile, call, got, tc.eperm)
			}
		}
	}
}
