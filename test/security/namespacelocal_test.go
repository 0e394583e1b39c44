package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// withCapability adds one capability to the process's sets.
func withCapability(c string) specOpt {
	return func(s *specs.Spec) {
		caps := s.Process.Capabilities
		caps.Bounding = append(caps.Bounding, c)
		caps.Effective = append(caps.Effective, c)
		caps.Permitted = append(caps.Permitted, c)
	}
}

// withoutUTSNamespace makes the container share the host's UTS namespace.
func withoutUTSNamespace(s *specs.Spec) {
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != specs.UTSNamespace {
			ns = append(ns, n)
		}
	}
	s.Linux.Namespaces = ns
	s.Hostname = ""
}

// TestNamespaceLocalCalls: what Docker's default profile allows and is
// harmless stays open — the container's own host and domain name with
// CAP_SYS_ADMIN (and uname, which syscage emulates, follows them),
// adjtimex queries — while setting the host's name from a container that
// shares the host's UTS namespace, and setting the clock, stay refused.
func TestNamespaceLocalCalls(t *testing.T) {
	hostname, _ := os.Hostname()
	for _, tc := range []struct {
		name   string
		opts   []specOpt
		script string
		want   []string // lines of the output, in order
	}{
		{"own UTS namespace with CAP_SYS_ADMIN", []specOpt{withCapability("CAP_SYS_ADMIN")},
			`hostname renamed && hostname && uname -n; cat /proc/sys/kernel/hostname`,
			[]string{"renamed", "renamed", "renamed"}},
		{"own UTS namespace without CAP_SYS_ADMIN", nil,
			`hostname renamed 2>&1; hostname`,
			[]string{"hostname: sethostname: Operation not permitted", "sandbox"}},
		{"the host's UTS namespace, CAP_SYS_ADMIN", []specOpt{withCapability("CAP_SYS_ADMIN"), withoutUTSNamespace},
			`hostname renamed-host 2>&1; hostname`,
			[]string{"hostname: sethostname: Operation not permitted", hostname}},
		{"adjtimex query and set", nil,
			`adjtimex >/dev/null && echo query-ok; adjtimex -o 1 2>&1 | head -1`,
			[]string{"query-ok", "adjtimex: (null): Operation not permitted"}}, // busybox's wording
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := newRuntime(t)
			b := newBundle(t, append([]specOpt{withArgs("sh", "-c", tc.script)}, tc.opts...)...)
			res := rt.Container(b, nil)
			got := strings.Split(strings.TrimRight(res.Stdout, "\n"), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got %q, want %q\n%s", got, tc.want, res)
			}
		})
	}
	if now, _ := os.Hostname(); now != hostname {
		t.Errorf("the host's name changed: %q, was %q", now, hostname)
	}
}

// TestNoEINTRWhereTheKernelHasNone: kill and getpid, which the kernel
// never interrupts, made 50,000 times each under a 10 kHz signal whose
// handler lacks SA_RESTART, under default, strict and learn. A call the
// sandbox notified would fail with EINTR whenever the signal came while it
// waited for the sentry (strict checked kill; learn notified getpid, which
// then "returned" -4: CPython's test_signal signalled pid -4).
func TestNoEINTRWhereTheKernelHasNone(t *testing.T) {
	for _, profile := range []string{"default", "strict", "learn"} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			rt := newRuntime(t)
			b := newBundle(t, withArgs("/t/eintr"))
			extra := []string{"--profile", profile}
			if profile == "learn" {
				extra = append(extra, "--learned-profile", filepath.Join(t.TempDir(), "learned.json"))
			}
			res := rt.Container(b, nil, extra...)
			if res.Code != 0 {
				t.Fatalf("%s", res)
			}
			out := strings.TrimSpace(res.Stdout)
			if !strings.HasPrefix(out, "kill_eintr=0 getpid_bad=0 rounds=50000 ") {
				t.Errorf("under %s: %s", profile, out)
			}
			if strings.HasSuffix(out, " ticks=0") {
				t.Errorf("no signal arrived during the run: %s", out)
			}
		})
	}
}
