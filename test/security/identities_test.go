package security

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// workloadIdentity is one row of the identity matrix: who the workload
// runs as, and the program path it runs (a setuid copy for the
// setuid-exec row).
type workloadIdentity struct {
	sandboxtest.Identity
	setuid bool // run a setuid-root copy of the program (uid 1000, no_new_privs off)
}

// matrixIdentities are the harness's identities plus a process that
// became root by executing a setuid program: non-dumpable, its /proc
// files owned by root whatever its real uid.
func matrixIdentities() []workloadIdentity {
	var ids []workloadIdentity
	for _, id := range sandboxtest.Identities {
		ids = append(ids, workloadIdentity{Identity: id})
	}
	return append(ids, workloadIdentity{
		Identity: sandboxtest.Identity{Name: "setuid-exec", Opt: func(s *specs.Spec) {
			sandboxtest.WithUser(1000, 1000)(s)
			s.Process.NoNewPrivileges = false
		}, UID: 0},
		setuid: true,
	})
}

// identBundle makes a bundle running /t/ident (re-executing itself once,
// so the calls are made across an exec) as id.
func identBundle(t *testing.T, id workloadIdentity) string {
	t.Helper()
	prog := "/t/ident"
	opts := []specOpt{id.Opt, withArgs(prog, "exec")}
	if id.setuid {
		prog = "/t/ident-setuid"
		opts = append(opts, withArgs(prog, "exec"))
	}
	b := newBundle(t, opts...)
	if id.setuid {
		// A copy, not the template's hard link: the mode is the copy's,
		// set after the write (a write clears setuid).
		dst := filepath.Join(b, "rootfs", prog)
		if err := sandboxtest.CopyFile(filepath.Join(b, "rootfs/t/ident"), dst, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dst, os.ModeSetuid|0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// parseK reads the "K key value" lines of a probe's output.
func parseK(out string) map[string]string {
	m := map[string]string{}
	for _, l := range lines(out, "K ") {
		k, v, _ := strings.Cut(l, " ")
		m[k] = v
	}
	return m
}

// runcIdent runs the bundle under runc, the baseline: what Linux itself
// answers this identity.
func runcIdent(t *testing.T, bundle string) map[string]string {
	t.Helper()
	root := filepath.Join(sandboxtest.ShortTempDir(t, "rcr"), "r")
	id := newID(t)
	out, err := exec.Command("runc", "--root", root, "run", "--bundle", bundle, id).CombinedOutput()
	if err != nil {
		_ = exec.Command("runc", "--root", root, "delete", "--force", id).Run()
		t.Fatalf("runc run: %v\n%s", err, out)
	}
	return parseK(string(out))
}

// TestIdentityMatrix: every call the sentry answers (uname, and glibc's
// gethostname on it) or performs (connect under strict) works for each
// identity a production workload has — host root, uid 1000, root in a
// user namespace mapped to host uid 100000, and a setuid-exec'd process —
// after an exec, and answers exactly as Linux does under runc on the same
// bundle, except for the release (the sandbox's) and, under strict, unix
// connects (refused: the sentry would connect with its own credentials).
// Memory the caller cannot write or read gives EFAULT, as from the kernel.
func TestIdentityMatrix(t *testing.T) {
	if _, err := exec.LookPath("runc"); err != nil {
		t.Fatalf("runc, the baseline, is not installed (scripts/setup.sh installs it): %v", err)
	}
	for _, id := range matrixIdentities() {
		t.Run(id.Name, func(t *testing.T) {
			t.Parallel()
			bundle := identBundle(t, id)
			want := runcIdent(t, bundle)
			wantIDs := fmt.Sprintf("%d/%d/%d", 1000, 0, 0)
			if !id.setuid {
				wantIDs = fmt.Sprintf("%d/%d/%d", id.UID, id.UID, id.UID)
			}
			if !strings.HasPrefix(want["ids"], wantIDs) {
				t.Fatalf("under runc the workload runs as %q, want %s: the matrix is not testing %s", want["ids"], wantIDs, id.Name)
			}
			if id.setuid && want["ids"] != wantIDs+" dumpable=0" {
				t.Fatalf("under runc the setuid program is %q, want non-dumpable", want["ids"])
			}
			for _, profile := range []string{"default", "strict"} {
				t.Run(profile, func(t *testing.T) {
					rt := newRuntime(t)
					res := rt.Container(bundle, nil, "--profile", profile)
					if res.Code != 0 {
						t.Fatalf("%s", res)
					}
					got := parseK(res.Stdout)
					expect := maps.Clone(want)
					expect["uname.release"] = defaultRelease
					if profile == "strict" {
						// Refused: the sentry would connect with its own
						// credentials and capabilities.
						expect["connect.unix"] = "ret=-1 errno=" + strconv.Itoa(13) // EACCES
						delete(expect, "connect.unix.peer")
						expect["connect.netlink"] = "ret=-1 errno=" + strconv.Itoa(13)
					}
					for _, k := range slices.Sorted(maps.Keys(expect)) {
						if got[k] != expect[k] {
							t.Errorf("%s: syscage %s gives %q, want %q (runc: %q)", k, profile, got[k], expect[k], want[k])
						}
					}
					for k := range got {
						if _, ok := expect[k]; !ok {
							t.Errorf("%s: syscage %s gives %q where runc gave nothing", k, profile, got[k])
						}
					}
					// The baseline itself says what Linux does with the
					// bad buffers; make sure it is what the test claims.
					for _, k := range []string{"uname.prot_none", "uname.readonly", "uname.unmapped", "connect.prot_none"} {
						if want[k] != "ret=-1 errno=14" {
							t.Errorf("baseline %s = %q, want EFAULT", k, want[k])
						}
					}
					if got["uname.nodename"] != "sandbox" || got["gethostname"] != "sandbox" {
						t.Errorf("host name: uname %q, gethostname %q; want the container's, sandbox", got["uname.nodename"], got["gethostname"])
					}
				})
			}
		})
	}
}

// TestStrictConnectGroupPidfd: strict's proxied connect with the sentry
// forced onto the fallback of kernels before 6.9 (a pidfd for the
// caller's thread group, not its thread), as root and as uid 1000: the
// same answers as with thread pidfds, and the sentry says it took the
// fallback.
func TestStrictConnectGroupPidfd(t *testing.T) {
	for _, ident := range sandboxtest.Identities {
		t.Run(ident.Name, func(t *testing.T) {
			t.Parallel()
			rt := newRuntime(t)
			b := identBundle(t, workloadIdentity{Identity: ident})
			id := newID(t)
			c := rt.Command(nil, "run", "--keep", "--profile", "strict", "--bundle", b, id)
			c.Cmd.Env = append(os.Environ(), "SYSCAGE_SENTRY_PIDFD=group")
			c.Start()
			res := c.Wait()
			if res.Code != 0 {
				t.Fatalf("%s", res)
			}
			got := parseK(res.Stdout)
			for k, want := range map[string]string{
				"connect.inet":      "ret=0 errno=0",
				"connect.prot_none": "ret=-1 errno=14",
				"connect.unix":      "ret=-1 errno=13",
			} {
				if got[k] != want {
					t.Errorf("%s: %q, want %q", k, got[k], want)
				}
			}
			log, err := os.ReadFile(filepath.Join(rt.Root, id, "sentry.log"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(log), "thread-group pidfds") {
				t.Errorf("the sentry did not take the fallback; its log:\n%s", log)
			}
			if res := rt.Run(nil, "delete", id); res.Code != 0 {
				t.Errorf("%s", res)
			}
		})
	}
}
