package policy

import (
	"errors"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

func errno(e unix.Errno) *uint { u := uint(e); return &u }

// dockerLike is a small profile in the shape of Docker's default: deny by
// default with EPERM, an allow list, conditional rules for clone, socket
// and personality, clone3 answered ENOSYS, and 32-bit architectures.
func dockerLike() *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: errno(unix.EPERM),
		Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Flags:           []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "openat", "close", "uname", "ptrace", "getpid", "ioctl", "mount", "socketcall"}, Action: specs.ActAllow},
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: errno(unix.ENOSYS)},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x0, Op: specs.OpEqualTo}}},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x8, Op: specs.OpEqualTo}}},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo}}},
			{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x7e020000, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
			{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: unix.AF_VSOCK, Op: specs.OpNotEqual}}},
			// Two conditions on one argument: runc ORs them.
			{Names: []string{"sendfile"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
				{Index: 3, Value: 5, Op: specs.OpGreaterThan}, {Index: 3, Value: 1000, Op: specs.OpLessThan}}},
			{Names: []string{"kill"}, Action: specs.ActKillProcess},
			{Names: []string{"fchmod"}, Action: specs.ActErrno, ErrnoRet: errno(unix.EACCES), Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0o4000, ValueTwo: 0o4000, Op: specs.OpMaskedEqual}}},
			{Names: []string{"fchmod"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0o4000, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
		},
	}
}

// TestMergeNeverMorePermissive: for every syscall and many argument
// values, the merged filter's worst case is at least as strict as each
// side's — as strict as ours always, and as theirs for every call their
// profile knows (numbered at or below the newest call it names; newer
// calls are ours alone, see Merge).
func TestMergeNeverMorePermissive(t *testing.T) {
	for _, name := range Names() {
		ours := mustCompile(t, name)
		theirs := dockerLike()
		newest := newestNamed(theirs.Syscalls)
		m, err := Merge(ours, theirs)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range syscalls.All() {
			for _, args := range sampleArgs(e.Name, ours, theirs, m) {
				got := evalSpec(m, e.Name, args)
				for side, s := range map[string]*specs.LinuxSeccomp{"ours": ours, "theirs": theirs} {
					if side == "theirs" && e.Nr > newest {
						if w := evalSpec(ours, e.Name, args); w != got && !w.same(got) {
							t.Fatalf("%s: %s is newer than their profile: merged %v, want ours %v", name, e.Name, got, w)
						}
						continue
					}
					if w := evalSpec(s, e.Name, args); stricter(w, got) {
						t.Fatalf("%s: %s(%#x, %#x, %#x): merged %v is more permissive than %s %v",
							name, e.Name, args[0], args[1], args[2], got, side, w)
					}
				}
			}
		}
	}
}

func TestMergeDecisions(t *testing.T) {
	m, err := Merge(mustCompile(t, "default"), dockerLike())
	if err != nil {
		t.Fatal(err)
	}
	allow := action{act: specs.ActAllow}
	notify := action{act: specs.ActNotify}
	eperm := action{specs.ActErrno, errno(unix.EPERM)}
	enosys := action{specs.ActErrno, errno(unix.ENOSYS)}
	eafnosupport := action{specs.ActErrno, errno(unix.EAFNOSUPPORT)}
	for _, tc := range []struct {
		name string
		args [6]uint64
		want action
	}{
		{"read", [6]uint64{}, allow},
		{"uname", [6]uint64{}, notify},                           // their allow, our emulate
		{"ptrace", [6]uint64{}, eperm},                           // our deny beats their allow
		{"mount", [6]uint64{}, eperm},                            // our deny beats their allow
		{"getpid", [6]uint64{}, allow},                           // both allow
		{"gettid", [6]uint64{}, eperm},                           // their default deny beats our allow
		{"clone3", [6]uint64{}, enosys},                          // both deny
		{"kill", [6]uint64{}, action{act: specs.ActKillProcess}}, // their kill beats our allow
		{"clone", [6]uint64{uint64(unix.SIGCHLD)}, allow},
		{"clone", [6]uint64{unix.CLONE_NEWUSER}, eperm},
		{"personality", [6]uint64{0xffffffff}, allow},
		{"personality", [6]uint64{0x20000}, enosys}, // ours allows, theirs does not: deny (default)
		{"personality", [6]uint64{0x40000}, eperm},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM}, allow},
		{"socket", [6]uint64{unix.AF_VSOCK, unix.SOCK_STREAM}, eafnosupport}, // our closed family, as strict as their default
		{"socket", [6]uint64{unix.AF_PACKET, unix.SOCK_DGRAM}, eafnosupport},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_RAW}, eperm},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_PACKET}, action{specs.ActErrno, errno(unix.ESOCKTNOSUPPORT)}},
		{"ioctl", [6]uint64{0, unix.TIOCSTI}, eperm},
		{"ioctl", [6]uint64{0, unix.TCGETS}, allow},
		{"sendfile", [6]uint64{0, 0, 0, 3}, allow}, // their split rule: arg3 < 1000
		{"fchmod", [6]uint64{3, 0o4755}, action{specs.ActErrno, errno(unix.EACCES)}},
		{"fchmod", [6]uint64{3, 0o755}, allow},
	} {
		if got := evalSpec(m, tc.name, tc.args); !got.same(tc.want) {
			t.Errorf("%s(%#x, %#x): %v, want %v", tc.name, tc.args[0], tc.args[1], got, tc.want)
		}
	}
	if len(m.Architectures) != 1 || m.ListenerPath == "" || len(m.Flags) != 1 {
		t.Errorf("architectures %v, listener %q, flags %v", m.Architectures, m.ListenerPath, m.Flags)
	}
	for _, r := range m.Syscalls {
		for _, n := range r.Names {
			if n == "socketcall" {
				t.Error("a name our table does not have was kept")
			}
		}
	}
}

func TestMergeEdges(t *testing.T) {
	ours := mustCompile(t, "default")
	if m, err := Merge(ours, nil); err != nil || m != ours {
		t.Errorf("Merge(ours, nil) = %p, %v", m, err)
	}
	n := dockerLike()
	n.Syscalls = append(n.Syscalls, specs.LinuxSyscall{Names: []string{"openat"}, Action: specs.ActNotify})
	if _, err := Merge(ours, n); !errors.Is(err, ErrForeignNotify) {
		t.Errorf("their notify: %v", err)
	}
	// A deny-list profile (default allow): their deny wins, the rest is ours.
	denyList := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: errno(unix.EACCES)}}}
	m, err := Merge(ours, denyList)
	if err != nil {
		t.Fatal(err)
	}
	if got := evalSpec(m, "getpid", [6]uint64{}); !got.same(action{specs.ActErrno, errno(unix.EACCES)}) {
		t.Errorf("getpid: %v", got)
	}
	if got := evalSpec(m, "uname", [6]uint64{}); got.act != specs.ActNotify {
		t.Errorf("uname: %v", got)
	}
	if got := evalSpec(m, "clone", [6]uint64{unix.CLONE_NEWNET}); !got.same(action{specs.ActErrno, errno(unix.EPERM)}) {
		t.Errorf("clone(NEWNET): %v", got)
	}
	if *m.DefaultErrnoRet != uint(unix.ENOSYS) {
		t.Errorf("default errno %d", *m.DefaultErrnoRet)
	}
}

func TestCutOut(t *testing.T) {
	// [32, 63] in the low 32 bits, without 40.
	got := cutOut(0, 0xffffffe0, 32, 40)
	for v := uint64(0); v < 128; v++ {
		n := 0
		for _, a := range got {
			if matches([]specs.LinuxSeccompArg{a}, [6]uint64{v | 0x5_0000_0000}) {
				n++
			}
		}
		want := v >= 32 && v <= 63 && v != 40
		if (n == 1) != want || n > 1 {
			t.Errorf("value %d matched %d, want %v", v, n, want)
		}
	}
}
