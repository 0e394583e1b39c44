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

// theirsAsLoaded decides a call under their section as runc loads it:
// their rules and default, behind runc's ENOSYS stub for calls newer than
// every call the section names (when their default is not permissive).
func theirsAsLoaded(theirs *specs.LinuxSeccomp, e *syscalls.Entry, args [6]uint64) action {
	if newerThan(theirs, e) {
		return enosysStub
	}
	return evalSpec(theirs, e.Name, args)
}

var newestCache = map[*specs.LinuxSeccomp]int{}

// newerThan reports whether e is newer than every call their section names
// and their default denies: runc's ENOSYS stub answers it.
func newerThan(theirs *specs.LinuxSeccomp, e *syscalls.Entry) bool {
	newest, ok := newestCache[theirs]
	if !ok {
		newest = newestNamed(theirs.Syscalls)
		newestCache[theirs] = newest
	}
	return newest >= 0 && e.Nr > newest && !permissive(action{theirs.DefaultAction, theirs.DefaultErrnoRet})
}

// checkMonotone fails unless the merged filter m is, for the call, at
// least as strict as ours and as theirs as runc loads it — except for the
// calls of initAfterFilter that their section is older than, which must
// be decided exactly as ours decides them.
func checkMonotone(t *testing.T, what string, ours, theirs, m *specs.LinuxSeccomp, e *syscalls.Entry, args [6]uint64) {
	t.Helper()
	got := evalSpec(m, e.Name, args)
	w := evalSpec(ours, e.Name, args)
	if stricter(w, got) {
		t.Fatalf("%s: %s(%#x, %#x, %#x): merged %v is more permissive than ours %v", what, e.Name, args[0], args[1], args[2], got, w)
	}
	if theirs.DefaultAction == "" && len(theirs.Syscalls) == 0 {
		return // an empty section: runc loads none (Merge returns ours)
	}
	tw := theirsAsLoaded(theirs, e, args)
	if _, ok := initAfterFilter[e.Name]; ok && newerThan(theirs, e) {
		if !got.same(w) {
			t.Fatalf("%s: %s is libcontainer's and newer than their section: merged %v, want ours %v", what, e.Name, got, w)
		}
		return
	}
	if stricter(tw, got) {
		t.Fatalf("%s: %s(%#x, %#x, %#x): merged %v is more permissive than theirs (as runc loads it) %v", what, e.Name, args[0], args[1], args[2], got, tw)
	}
}

// TestMergeNeverMorePermissive: for every syscall and many argument
// values, the merged filter is at least as strict as ours and as theirs
// as runc loads it (with its ENOSYS stub for calls newer than their
// section), but for initAfterFilter.
func TestMergeNeverMorePermissive(t *testing.T) {
	for _, name := range Names() {
		ours := mustCompile(t, name)
		theirs := dockerLike()
		m, err := Merge(ours, theirs)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range syscalls.All() {
			for _, args := range sampleArgs(e.Name, ours, theirs, m) {
				checkMonotone(t, name, ours, theirs, m, &e, args)
			}
		}
	}
}

// upTo is a section that allows every call of our table numbered up to
// newest and answers def otherwise: a profile written before the next
// call existed.
func upTo(newest int, def action) *specs.LinuxSeccomp {
	s := &specs.LinuxSeccomp{DefaultAction: def.act, DefaultErrnoRet: def.errno}
	var names []string
	for _, e := range syscalls.All() {
		if e.Nr <= newest {
			names = append(names, e.Name)
		}
	}
	s.Syscalls = []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}}
	return s
}

// TestMergeNewerCalls: a section that names no call above getrandom (318)
// gets what runc gives it for the newer calls — ENOSYS unless its default
// allows or already answers ENOSYS — except statx, which libcontainer's
// init needs after the filter is loaded; ours still wins where it is
// stricter (clone3 stays ENOSYS, userfaultfd and io_uring EPERM).
func TestMergeNewerCalls(t *testing.T) {
	ours := mustCompile(t, "default")
	allow, enosys := action{act: specs.ActAllow}, enosysStub
	eperm := action{specs.ActErrno, errno(unix.EPERM)}
	kill := action{act: specs.ActKillProcess}
	trace := action{act: specs.ActTrace}
	merged := map[string]*specs.LinuxSeccomp{}
	for _, def := range []action{eperm, kill, allow, enosys, trace} {
		theirs := upTo(318, def)
		m, err := Merge(ours, theirs)
		if err != nil {
			t.Fatal(err)
		}
		merged[def.String()] = m
		for _, e := range syscalls.All() {
			for _, args := range sampleArgs(e.Name, m)[:64] {
				checkMonotone(t, def.String(), ours, theirs, m, &e, args)
			}
		}
	}
	for _, tc := range []struct {
		def  action
		name string
		want action
	}{
		{eperm, "getrandom", allow}, // named
		{eperm, "memfd_create", enosys},
		{eperm, "execveat", enosys},
		{eperm, "copy_file_range", enosys},
		{eperm, "pidfd_open", enosys},
		{eperm, "pidfd_send_signal", enosys},
		{eperm, "openat2", enosys},
		{eperm, "close_range", enosys},
		{eperm, "faccessat2", enosys},
		{eperm, "rseq", enosys},
		{eperm, "statx", allow}, // initAfterFilter: our table's pass
		{eperm, "userfaultfd", eperm},
		{eperm, "io_uring_setup", eperm},
		{eperm, "clone3", enosys},
		{eperm, "uname", action{act: specs.ActNotify}},
		{kill, "memfd_create", enosys},
		{kill, "statx", allow},
		{kill, "getpid", allow},
		{allow, "memfd_create", allow}, // their default allows: no stub under runc either
		{allow, "io_uring_setup", eperm},
		{enosys, "memfd_create", enosys},
		{enosys, "statx", allow},
		{trace, "memfd_create", trace},
	} {
		if got := evalSpec(merged[tc.def.String()], tc.name, [6]uint64{}); !got.same(tc.want) {
			t.Errorf("default %v: %s: %v, want %v", tc.def, tc.name, got, tc.want)
		}
	}
	// A section that names no call our table knows decides by its default
	// alone, as under runc (no stub: nothing to be newer than).
	m, err := Merge(ours, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"socketcall"}, Action: specs.ActAllow}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := evalSpec(m, "statx", [6]uint64{}); !isDeny(got) || got.same(enosysStub) {
		t.Errorf("statx under a section naming nothing known: %v, want its default", got)
	}
}

// TestInitAfterFilterList: the exceptions stay few, are in the table, and
// are calls our default passes outright (an exception can never let
// through what our table refuses).
func TestInitAfterFilterList(t *testing.T) {
	if len(initAfterFilter) > 3 {
		t.Errorf("%d exceptions: keep the list short", len(initAfterFilter))
	}
	p, _ := Builtin("default")
	for name := range initAfterFilter {
		e, ok := syscalls.ByName(name)
		if !ok {
			t.Errorf("%s: not in the table", name)
			continue
		}
		if r := p.Rule(e); r.Tier != syscalls.Pass || r.Conditional() {
			t.Errorf("%s: default gives %v", name, r)
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
			if argsHold([]specs.LinuxSeccompArg{a}, [6]uint64{v | 0x5_0000_0000}) {
				n++
			}
		}
		want := v >= 32 && v <= 63 && v != 40
		if (n == 1) != want || n > 1 {
			t.Errorf("value %d matched %d, want %v", v, n, want)
		}
	}
}
