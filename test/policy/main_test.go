// Package policy holds the integration tests of syscage's policy engine
// (issue 4): profile files, their selection by flag, annotation and the
// runtime's default, and learn mode. Each test runs the real binary on
// real bundles: it learns a workload's profile, enforces it on the same
// workload (which must behave the same), and checks that anything else is
// denied with EPERM and audited; malformed profiles must fail create with
// an error naming the file, the field and the problem, leaving nothing
// behind.
//
// Run them as root: `go test -tags seccomp ./test/policy/`. TestMain
// builds the binary and the static C workload in testdata/ (through
// test/internal/sandboxtest); it fails (it never skips) without root or
// when something does not build.
package policy

import (
	"fmt"
	"os"
	"testing"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// env is the binary, template rootfs and base spec TestMain built.
var env *sandboxtest.Env

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "FAIL: syscage policy tests must run as root (they create containers)")
		return 1
	}
	dir, err := os.MkdirTemp("", "syscage-pol-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	env, err = sandboxtest.Setup(dir, sandboxtest.Options{
		ModuleRoot: "../..",
		Programs:   []string{"app", "newcalls"},
		Marker:     "SYSCAGE_POLICY_BUNDLE",
		IDPrefix:   "pol",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: policy test setup:", err)
		return 1
	}
	return m.Run()
}

// The harness, under the names these tests use.
type (
	specOpt = sandboxtest.SpecOpt
	runtime = sandboxtest.Runtime
	result  = sandboxtest.Result
)

var (
	withArgs        = sandboxtest.WithArgs
	withWritableTmp = sandboxtest.WithWritableTmp
	withAnnotation  = sandboxtest.WithAnnotation
	readAudit       = sandboxtest.ReadAudit
	agentSocket     = sandboxtest.AgentSocket
	cgroupLeftovers = sandboxtest.CgroupLeftovers
	waitFor         = sandboxtest.WaitFor
)

func newBundle(t *testing.T, opts ...specOpt) string { return env.NewBundle(t, opts...) }
func newRuntime(t *testing.T) *runtime               { return env.NewRuntime(t) }
func newID(t *testing.T) string                      { return env.NewID(t) }
func markedProcesses(bundle string) []string         { return env.MarkedProcesses(bundle) }
