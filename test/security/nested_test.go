package security

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// listenerAttempts are testdata/listener.c's "R" lines: seccomp(2)
// SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_NEW_LISTENER, alone,
// with another flag, and with garbage in the upper half. Every profile
// refuses them with EPERM in the filter (internal/policy/floor.go); the
// kernel's own refusal of a second listener is EBUSY, and only while the
// sentry's listener exists, so EPERM shows the sandbox refused it.
var listenerAttempts = []string{"seccomp_new_listener", "seccomp_new_listener_tsync_esrch", "seccomp_new_listener_garbage"}

// plainFilters are its "C" lines: filters without a listener, by seccomp
// and by prctl, which must still install.
var plainFilters = []string{"no_new_privs", "seccomp_plain", "seccomp_tsync", "prctl_seccomp"}

func checkListener(t *testing.T, out string) {
	t.Helper()
	got := parseAttempts(t, out, "R")
	for _, l := range listenerAttempts {
		a, ok := got[l]
		switch {
		case !ok:
			t.Errorf("%s: not attempted; output:\n%s", l, out)
		case a.ret >= 0:
			t.Errorf("%s: SUCCEEDED (fd %d): the workload made itself a seccomp listener", l, a.ret)
		case a.errno != unix.EPERM:
			t.Errorf("%s: failed with %s, want EPERM from the filter (EBUSY is the kernel's, while the sentry's listener lives)", l, errnoName(a.errno))
		}
	}
	checkControls(t, out, plainFilters, "a filter without a listener")
}

// ownFilterProfile is a profile file that passes seccomp and uname: it
// notifies nothing, so the container has no sentry listener at all and
// the kernel itself would let a workload make one.
const ownFilterProfile = `{"syscageProfile": 1, "name": "own-filters", "syscalls": [
	{"names": ["seccomp"], "tier": "pass", "why": "the workload installs filters of its own"},
	{"names": ["uname"], "tier": "pass", "why": "nothing notified: no listener"}]}`

// withSeccomp gives the container's config a seccomp section of its own.
func withSeccomp(s *specs.LinuxSeccomp) specOpt {
	return func(sp *specs.Spec) { sp.Linux.Seccomp = s }
}

// TestNoNestedListener: a workload cannot make itself a seccomp agent
// (SECCOMP_FILTER_FLAG_NEW_LISTENER) under any profile — default, strict,
// a learned profile, a profile file that notifies nothing, a config whose
// own seccomp section allows seccomp, and with auditing on (then the
// sentry refuses it and records a deny event) — while filters without a
// listener still install.
func TestNoNestedListener(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "own-filters.json")
	if err := os.WriteFile(file, []byte(ownFilterProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	theirs := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"seccomp", "prctl"}, Action: specs.ActAllow}},
	}
	for _, tc := range []struct {
		name   string
		opts   []specOpt
		global []string
		flags  []string
	}{
		{name: "default"},
		{name: "strict", flags: []string{"--profile", "strict"}},
		{name: "profile file", flags: []string{"--profile", file}},
		{name: "config's own section", opts: []specOpt{withSeccomp(theirs)}},
		{name: "audited", global: []string{"--strace-log", filepath.Join(dir, "audit.jsonl")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t)
			b := newBundle(t, append([]specOpt{withArgs("/t/listener")}, tc.opts...)...)
			res := rt.Container(b, tc.global, tc.flags...)
			if res.Code != 0 {
				t.Fatalf("listener container: %s", res)
			}
			checkListener(t, res.Stdout)
			if tc.global == nil {
				return
			}
			n := 0
			for _, e := range readAudit(t, tc.global[1]) {
				if e.Syscall == "seccomp" && e.Decision == "deny" && e.Errno == "EPERM" {
					n++
				}
			}
			if n < len(listenerAttempts) {
				t.Errorf("audit: %d deny EPERM events for seccomp, want %d", n, len(listenerAttempts))
			}
		})
	}
	t.Run("learned profile", func(t *testing.T) {
		rt := newRuntime(t)
		learned := filepath.Join(t.TempDir(), "learned.json")
		b := newBundle(t, withArgs("/t/listener"))
		res := rt.Container(b, nil, "--profile", "learn", "--learned-profile", learned)
		if res.Code != 0 {
			t.Fatalf("learn run: %s", res)
		}
		checkListener(t, res.Stdout)
		res = rt.Container(b, nil, "--profile", learned)
		if res.Code != 0 {
			t.Fatalf("listener container under the learned profile: %s", res)
		}
		checkListener(t, res.Stdout)
	})
}
