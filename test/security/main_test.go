// Package security holds syscage's security tests: they take the attacker's
// seat inside a container run by the real syscage binary and try to reach
// the host — every denied syscall category, the host kernel's identity by
// every route we know, the sentry's death, and a time-of-check race on a
// proxied call — and assert that each attempt failed for the right reason
// (the errno the profile promises and, with auditing on, the sentry's audit
// event). A realistic workload is run as well, to show the sandbox does not
// break ordinary programs.
//
// Run them as root: `go test -tags seccomp ./test/security/`. TestMain
// builds the binary and the static C attack programs in testdata/; it fails
// (it never skips) without root or when something does not build.
package security

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

var (
	// env is the binary, template rootfs and base spec TestMain built.
	env *sandboxtest.Env
	// binary is the syscage binary.
	binary string
	// hostRelease and hostVersion are the host's `uname -r` and `uname -v`.
	hostRelease, hostVersion string
	// defaultRelease is the release a container that pins none sees: the
	// host's MAJOR.MINOR.0-syscage.
	defaultRelease string
)

// markerEnv is set in every container process (value: the bundle path) so
// leftover processes can be found on the host.
const markerEnv = "SYSCAGE_SECURITY_BUNDLE"

// Defaults the runtime documents (internal/container/sandbox.go).
const (
	defaultVersion = "#1 SMP PREEMPT_DYNAMIC syscage"
)

// programs are the C sources in testdata/, built static into /t/<name>.
var programs = []string{"attack", "doors", "probe", "workload", "loop", "toctou", "fastopen", "ident", "flood", "eintr", "listener", "leaderexit", "sentryfds", "sentryns"}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "FAIL: syscage security tests must run as root (they create containers)")
		return 1
	}
	dir, err := os.MkdirTemp("", "syscage-sec-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: security test setup:", err)
		return 1
	}
	return m.Run()
}

// setup builds the binary and the attack programs into a rootfs with
// /target (a mount point for mount attempts) and /ctl (bind-mounted from
// the host by some tests), and reads the host's identity.
func setup(dir string) error {
	var err error
	env, err = sandboxtest.Setup(dir, sandboxtest.Options{
		ModuleRoot: "../..",
		Programs:   programs,
		Dirs:       []string{"target", "ctl"},
		Marker:     markerEnv,
		IDPrefix:   "sec",
	})
	if err != nil {
		return err
	}
	binary = env.Binary
	r, err := exec.Command("uname", "-r").Output()
	if err != nil {
		return err
	}
	v, err := exec.Command("uname", "-v").Output()
	if err != nil {
		return err
	}
	hostRelease, hostVersion = strings.TrimSpace(string(r)), strings.TrimSpace(string(v))
	if defaultRelease, err = sandboxtest.SandboxRelease(); err != nil {
		return err
	}
	if hostRelease == defaultRelease {
		return fmt.Errorf("the host's release is syscage's default %q: the identity tests could not tell them apart", hostRelease)
	}
	return nil
}

// The harness, under the names these tests use.
type (
	specOpt    = sandboxtest.SpecOpt
	runtime    = sandboxtest.Runtime
	auditEvent = sandboxtest.AuditEvent
)

var (
	withArgs        = sandboxtest.WithArgs
	withWritableTmp = sandboxtest.WithWritableTmp
	withBind        = sandboxtest.WithBind
	withAnnotation  = sandboxtest.WithAnnotation
	readAudit       = sandboxtest.ReadAudit
	agentSocket     = sandboxtest.AgentSocket
	cgroupLeftovers = sandboxtest.CgroupLeftovers
	lines           = sandboxtest.Lines
	waitFor         = sandboxtest.WaitFor
)

func newBundle(t *testing.T, opts ...specOpt) string { return env.NewBundle(t, opts...) }
func newRuntime(t *testing.T) *runtime               { return env.NewRuntime(t) }
func newID(t *testing.T) string                      { return env.NewID(t) }
func markedProcesses(bundle string) []string         { return env.MarkedProcesses(bundle) }

// allCapabilities is every capability runc knows, in the order of their
// numbers: a container given them all must still find the denied calls
// denied by the sandbox itself.
var allCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// hostCapabilities is allCapabilities less those missing from this
// process's bounding set (a container cannot get what the host lacks; on
// some hosts CAP_SYS_RESOURCE is gone).
func hostCapabilities(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var bnd uint64
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			if bnd, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				t.Fatalf("CapBnd %q: %v", v, err)
			}
		}
	}
	var caps []string
	for i, c := range allCapabilities {
		if bnd&(1<<i) != 0 {
			caps = append(caps, c)
		} else {
			t.Logf("the host lacks %s: the container cannot have it", c)
		}
	}
	return caps
}

func withAllCapabilities(t *testing.T) specOpt {
	c := hostCapabilities(t)
	return func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: c, Effective: c, Permitted: c, Inheritable: nil, Ambient: nil,
		}
	}
}
