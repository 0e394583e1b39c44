package policy

import (
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
	"github.com/syscage/syscage/test/internal/sandboxtest"
)

// olderProfile is a container's own seccomp section written before
// memfd_create existed: it allows every call up to getrandom (318, Linux
// 3.17) and denies the rest with EPERM, as Docker's profile does for what
// it does not list.
func olderProfile() *specs.LinuxSeccomp {
	var names []string
	for _, e := range syscalls.All() {
		if e.Nr <= unix.SYS_GETRANDOM {
			names = append(names, e.Name)
		}
	}
	eperm := uint(unix.EPERM)
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &eperm,
		Architectures:   []specs.Arch{specs.ArchX86_64},
		Syscalls:        []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}},
	}
}

func withSeccomp(s *specs.LinuxSeccomp) specOpt {
	return func(sp *specs.Spec) { sp.Linux.Seccomp = s }
}

func withNoNewPrivileges(v bool) specOpt {
	return func(sp *specs.Spec) { sp.Process.NoNewPrivileges = v }
}

// TestMergeOlderProfile: a container whose own seccomp profile names no
// call above getrandom (318) gets ENOSYS for the newer calls, as under
// runc (its ENOSYS stub), though syscage's default passes them; the call
// it names and statx — which libcontainer's init needs after loading the
// filter (internal/policy, initAfterFilter) — work. Both ways the init
// loads the filter: early (noNewPrivileges false: before it sets up the
// user and the working directory) and late (true: just before exec). That
// the container starts at all under such a profile is the test of the
// exception list.
func TestMergeOlderProfile(t *testing.T) {
	r := newRuntime(t)
	for _, nnp := range []bool{true, false} {
		t.Run("noNewPrivileges="+strconv.FormatBool(nnp), func(t *testing.T) {
			b := newBundle(t, withArgs("/t/newcalls"), withSeccomp(olderProfile()), withNoNewPrivileges(nnp))
			res := r.Container(b, nil)
			if res.Code != 0 || !strings.Contains(res.Stdout, "DONE\n") {
				t.Fatalf("container under a profile older than statx: %s", res)
			}
			denied, allowed := 0, 0
			for _, l := range sandboxtest.Lines(res.Stdout, "") {
				f := strings.Fields(l)
				if len(f) != 5 || (f[0] != "R" && f[0] != "C") {
					continue
				}
				ret, _ := strconv.ParseInt(f[3], 10, 64)
				e, _ := strconv.Atoi(f[4])
				switch {
				case f[0] == "C" && ret < 0:
					t.Errorf("%s: failed with %s, want success", f[1], unix.ErrnoName(unix.Errno(e)))
				case f[0] == "C":
					allowed++
				case ret >= 0:
					t.Errorf("%s: SUCCEEDED (returned %d): a call newer than the container's profile, want ENOSYS as under runc", f[1], ret)
				case unix.Errno(e) != unix.ENOSYS:
					t.Errorf("%s: failed with %s, want ENOSYS (another errno means the kernel ran it)", f[1], unix.ErrnoName(unix.Errno(e)))
				default:
					denied++
				}
			}
			if denied != 14 || allowed != 2 {
				t.Errorf("%d newer calls refused, %d allowed; want 14 and 2:\n%s", denied, allowed, res.Stdout)
			}
		})
	}
}
