package policy

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

func mustCompile(t *testing.T, name string) *specs.LinuxSeccomp {
	t.Helper()
	p, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(p, "/run/syscage/x/sentry.sock")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCompileShape(t *testing.T) {
	for _, name := range Names() {
		s := mustCompile(t, name)
		if s.DefaultAction != specs.ActErrno || s.DefaultErrnoRet == nil || *s.DefaultErrnoRet != uint(unix.ENOSYS) {
			t.Errorf("%s: default %s %v", name, s.DefaultAction, s.DefaultErrnoRet)
		}
		if len(s.Architectures) != 1 || s.Architectures[0] != specs.ArchX86_64 {
			t.Errorf("%s: architectures %v", name, s.Architectures)
		}
		if s.ListenerPath == "" {
			t.Errorf("%s: no listener path", name)
		}
		names := map[string]int{}
		for _, r := range s.Syscalls {
			for _, n := range r.Names {
				names[n]++
			}
			if (r.Action == specs.ActErrno) != (r.ErrnoRet != nil) {
				t.Errorf("%s: rule %v %v: errnoRet only with ERRNO", name, r.Names, r.Action)
			}
		}
		all := syscalls.All()
		for _, e := range all {
			if names[e.Name] == 0 {
				t.Errorf("%s: %s has no rule", name, e.Name)
			}
		}
		// Calls with the same unconditional outcome share one rule (the
		// argument rules are one rule per case, so only these count).
		uncond := 0
		for _, r := range s.Syscalls {
			if len(r.Args) == 0 {
				uncond++
			}
		}
		if uncond > 8 {
			t.Errorf("%s: %d unconditional rules: not grouped by outcome", name, uncond)
		}
	}
	if _, err := Compile(builtins()["default"], ""); err == nil {
		t.Error("notify rules without a listener path: no error")
	}
	if _, err := Builtin("nope"); err == nil {
		t.Error("Builtin(nope): no error")
	}
}

// TestCompileMatchesTable: the compiled filter decides every call as the
// table says (the sentry's Decide and the kernel agree).
func TestCompileMatchesTable(t *testing.T) {
	for _, name := range Names() {
		p, _ := Builtin(name)
		s := mustCompile(t, name)
		for _, e := range syscalls.All() {
			for _, args := range sampleArgs(e.Name, s) {
				_, o := p.Decide(e.Nr, args)
				got := evalSpec(s, e.Name, args)
				want := toAction(o)
				if !got.same(want) {
					t.Fatalf("%s: %s(%#x, %#x): filter %v, table %v", name, e.Name, args[0], args[1], got, want)
				}
			}
		}
	}
}

func toAction(o syscalls.Outcome) action {
	switch o.Tier {
	case syscalls.Pass:
		return action{act: specs.ActAllow}
	case syscalls.Deny:
		e := uint(o.Errno)
		return action{specs.ActErrno, &e}
	}
	return action{act: specs.ActNotify}
}

func TestDecide(t *testing.T) {
	p, _ := Builtin("default")
	for _, tc := range []struct {
		nr   int
		args [6]uint64
		want syscalls.Outcome
	}{
		{unix.SYS_GETPID, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_UNAME, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Emulate}},
		{unix.SYS_CLONE3, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}},
		{unix.SYS_BPF, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{400, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}},
	} {
		if _, got := p.Decide(tc.nr, tc.args); got != tc.want {
			t.Errorf("Decide(%d) = %v, want %v", tc.nr, got, tc.want)
		}
	}
	e, _ := p.Decide(unix.SYS_UNAME, [6]uint64{})
	if e == nil || e.Handler == nil {
		t.Error("uname has no handler")
	}
}
