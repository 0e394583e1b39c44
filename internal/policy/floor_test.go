package policy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

const (
	setModeFilter = 1 // SECCOMP_SET_MODE_FILTER
	newListener   = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
)

// learnedWithSeccomp is a learned profile whose run installed a plain
// filter (seccomp observed with flags 0).
func learnedWithSeccomp(t *testing.T) *Profile {
	t.Helper()
	base, _ := Builtin("default")
	rec := NewRecorder(base, "test")
	rec.Observe(1, unix.SYS_SECCOMP, [6]uint64{setModeFilter, unix.SECCOMP_FILTER_FLAG_TSYNC})
	rec.Observe(1, unix.SYS_GETPID, [6]uint64{})
	data, err := json.Marshal(rec.Profile("learned"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseFile("learned.json", data)
	if err != nil {
		t.Fatalf("learned profile does not load: %v\n%s", err, data)
	}
	return p
}

func fileProfile(t *testing.T, entries string) *Profile {
	t.Helper()
	p, err := ParseFile("p.json", []byte(`{"syscageProfile": 1, "name": "p", "syscalls": [`+entries+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNoNestedListener: under every kind of profile, alone, merged with a
// container's own seccomp section and with auditing on, seccomp(2) with
// SECCOMP_FILTER_FLAG_NEW_LISTENER (any other flags beside it, garbage in
// the upper half) is refused with EPERM, and a filter without the flag is
// not refused by the profile.
func TestNoNestedListener(t *testing.T) {
	learn := func(t *testing.T) *Profile { b, _ := Builtin("default"); return LearnProfile(b) }
	builtin := func(name string) func(t *testing.T) *Profile {
		return func(t *testing.T) *Profile { p, _ := Builtin(name); return p }
	}
	file := func(entries string) func(t *testing.T) *Profile {
		return func(t *testing.T) *Profile { return fileProfile(t, entries) }
	}
	allowAll := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	allowSeccomp := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: errno(unix.EPERM),
		Syscalls: []specs.LinuxSyscall{{Names: []string{"seccomp", "getpid", "statx", "membarrier"}, Action: specs.ActAllow}}}
	// Every profile below lets these flags install a filter; "narrow"
	// ones name only flags 0 (and may answer other values with their own
	// deny or the default ENOSYS rather than the floor's EPERM).
	plain := []uint64{0, unix.SECCOMP_FILTER_FLAG_TSYNC, unix.SECCOMP_FILTER_FLAG_LOG, unix.SECCOMP_FILTER_FLAG_TSYNC | 0xdead_0000_0000_0000}
	for _, tc := range []struct {
		name    string
		profile func(t *testing.T) *Profile
	}{
		{"default", builtin("default")},
		{"strict", builtin("strict")},
		{"learn mode", learn},
		{"learned profile", learnedWithSeccomp},
		{"file: seccomp pass", file(`{"names": ["seccomp"], "tier": "pass"}`)},
		{"file: seccomp check", file(`{"names": ["seccomp"], "tier": "check"}`)},
		{"file: unlisted deny, seccomp pass", func(t *testing.T) *Profile {
			p, err := ParseFile("p.json", []byte(`{"syscageProfile": 1, "name": "p", "unlisted": "deny", "syscalls": [{"names": ["seccomp"], "tier": "pass"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"file: seccomp by operation", file(`{"names": ["seccomp"], "tier": "pass", "when": [{"arg": 0, "op": "masked-eq", "mask": 4294967295, "value": 1}]},
			{"names": ["seccomp"], "tier": "deny", "errno": "EINVAL", "when": [{"arg": 0, "op": "masked-eq", "mask": 4294967295, "value": 0}]}`)},
		{"file: seccomp flags any", file(`{"names": ["seccomp"], "tier": "pass", "when": [{"arg": 1, "op": "masked-eq", "mask": 1, "value": 0}]},
			{"names": ["seccomp"], "tier": "pass", "when": [{"arg": 1, "op": "masked-eq", "mask": 1, "value": 1}]}`)},
		{"narrow file: seccomp flags eq NEW_LISTENER or 0", file(`{"names": ["seccomp"], "tier": "pass", "when": [{"arg": 1, "op": "eq", "value": 8}]},
			{"names": ["seccomp"], "tier": "pass", "when": [{"arg": 1, "op": "eq", "value": 0}]}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.profile(t)
			narrow := strings.HasPrefix(tc.name, "narrow ")
			for _, flags := range []uint64{newListener, newListener | unix.SECCOMP_FILTER_FLAG_TSYNC, newListener | 0xdead_0000_0000_0000, 0xffffffff} {
				// SET_MODE_FILTER is what makes a listener: EPERM, the
				// floor's. Other operations with the flag are refused too
				// (by the floor, or by the profile's own deny).
				for _, op := range []uint64{setModeFilter, 0, 2} {
					args := [6]uint64{op, flags}
					_, o := p.Decide(unix.SYS_SECCOMP, args)
					exact := op == setModeFilter && !narrow
					if o.Tier != syscalls.Deny || (exact && o.Errno != unix.EPERM) {
						t.Errorf("Decide(seccomp(%d, %#x)): %v, want deny EPERM", op, flags, o)
					}
					for _, audit := range []bool{false, true} {
						for side, theirs := range map[string]*specs.LinuxSeccomp{"alone": nil, "allow-all config": allowAll, "config allowing seccomp": allowSeccomp} {
							s, err := ContainerFilter(p, theirs, "/run/x.sock", audit)
							if err != nil {
								t.Fatal(err)
							}
							got := evalSpec(s, "seccomp", args)
							delete(evalCache, s)
							switch {
							case audit && got.act == specs.ActNotify: // the sentry answers with Decide's deny
							case exact && !got.same(action{specs.ActErrno, errno(unix.EPERM)}) && !stricter(got, action{specs.ActErrno, errno(unix.EPERM)}):
								t.Errorf("%s, audit %v: seccomp(%d, %#x): filter %v, want ERRNO(EPERM)", side, audit, op, flags, got)
							case !isDeny(got):
								t.Errorf("%s, audit %v: seccomp(%d, %#x): filter %v, want a deny", side, audit, op, flags, got)
							}
						}
					}
				}
			}
			// Without the flag the floor changes nothing: every one of
			// these profiles lets the filter be installed.
			runs := plain
			if narrow {
				runs = []uint64{0}
			}
			for _, flags := range runs {
				args := [6]uint64{setModeFilter, flags}
				if _, o := p.Decide(unix.SYS_SECCOMP, args); o.Tier == syscalls.Deny {
					t.Errorf("seccomp(SET_MODE_FILTER, %#x): %v, want the filter installed", flags, o)
				}
				for side, theirs := range map[string]*specs.LinuxSeccomp{"alone": nil, "allow-all config": allowAll, "config allowing seccomp": allowSeccomp} {
					s, err := ContainerFilter(p, theirs, "/run/x.sock", false)
					if err != nil {
						t.Fatal(err)
					}
					if got := evalSpec(s, "seccomp", args); isDeny(got) {
						t.Errorf("%s: seccomp(SET_MODE_FILTER, %#x): filter %v, want it to run", side, flags, got)
					}
					delete(evalCache, s)
				}
			}
		})
	}
}

// TestFloorKeepsCases: the floor splits a rule's cases exactly, keeping
// what does not touch the listener bit (table-driven on the rule).
func TestFloorKeepsCases(t *testing.T) {
	e, _ := syscalls.ByName("seccomp")
	pass := syscalls.Outcome{Tier: syscalls.Pass}
	check := syscalls.Outcome{Tier: syscalls.Check}
	einval := syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EINVAL}
	eperm := syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}
	enosys := syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}
	on := func(i uint, mask, value uint64) syscalls.Cond {
		return syscalls.Cond{Index: i, Op: syscalls.OpMaskedEq, Mask: mask, Value: value}
	}
	for _, tc := range []struct {
		name string
		rule syscalls.Rule
		args [6]uint64
		want syscalls.Outcome
	}{
		{"pass, plain", syscalls.Rule{Tier: syscalls.Pass}, [6]uint64{1, 0}, pass},
		{"pass, listener", syscalls.Rule{Tier: syscalls.Pass}, [6]uint64{1, 8}, eperm},
		{"check, listener|tsync", syscalls.Rule{Tier: syscalls.Check}, [6]uint64{1, 9}, eperm},
		{"deny stays", syscalls.Rule{Tier: syscalls.Deny, Errno: unix.EINVAL}, [6]uint64{1, 8}, einval},
		{"case on op, plain", syscalls.Rule{Tier: syscalls.Pass, Cases: []syscalls.Case{{When: []syscalls.Cond{on(0, 0xffffffff, 1)}, Outcome: check}}}, [6]uint64{1, 0}, check},
		{"case on op, listener", syscalls.Rule{Tier: syscalls.Pass, Cases: []syscalls.Case{{When: []syscalls.Cond{on(0, 0xffffffff, 1)}, Outcome: check}}}, [6]uint64{1, 8}, eperm},
		{"case on op, other op", syscalls.Rule{Tier: syscalls.Pass, Cases: []syscalls.Case{{When: []syscalls.Cond{on(0, 0xffffffff, 1)}, Outcome: check}}}, [6]uint64{2, 8}, enosys},
		{"case on flags low bit", syscalls.Rule{Tier: syscalls.Pass, Cases: []syscalls.Case{{When: []syscalls.Cond{on(1, 1, 1)}, Outcome: pass}}}, [6]uint64{1, 9}, eperm},
		{"case on flags low bit, plain", syscalls.Rule{Tier: syscalls.Pass, Cases: []syscalls.Case{{When: []syscalls.Cond{on(1, 1, 1)}, Outcome: pass}}}, [6]uint64{1, 1}, pass},
		{"case needs the listener", syscalls.Rule{Tier: syscalls.Pass, Cases: []syscalls.Case{{When: []syscalls.Cond{{Index: 1, Op: syscalls.OpEq, Value: 8}}, Outcome: pass}}}, [6]uint64{1, 8}, eperm},
		{"range on flags", syscalls.Rule{Tier: syscalls.Pass, Cases: []syscalls.Case{{When: []syscalls.Cond{{Index: 1, Op: syscalls.OpLt, Value: 4}}, Outcome: pass}}}, [6]uint64{1, 0}, eperm},
	} {
		r := floor(e, tc.rule)
		if got := r.Eval(tc.args); got != tc.want {
			t.Errorf("%s: seccomp(%#x, %#x): %v, want %v", tc.name, tc.args[0], tc.args[1], got, tc.want)
		}
		for _, c := range r.Cases {
			seen := map[uint]bool{}
			for _, w := range c.When {
				if seen[w.Index] {
					t.Errorf("%s: two conditions on arg%d in one case: %v", tc.name, w.Index, c.When)
				}
				seen[w.Index] = true
			}
		}
		if again := floor(e, r); again.Summary != r.Summary || len(again.Cases) != len(r.Cases) {
			t.Errorf("%s: the floor is not idempotent: %v then %v", tc.name, r.Cases, again.Cases)
		}
	}
	other, _ := syscalls.ByName("getpid")
	if r := floor(other, syscalls.Rule{Tier: syscalls.Pass}); r.Conditional() {
		t.Errorf("floor touched getpid: %+v", r)
	}
}

// TestFloorFileConditions: a profile file cannot write a seccomp entry the
// floor could only honour by denying it whole.
func TestFloorFileConditions(t *testing.T) {
	_, err := ParseFile("p.json", []byte(`{"syscageProfile": 1, "name": "p", "syscalls": [
		{"names": ["seccomp"], "tier": "pass", "when": [{"arg": 1, "op": "lt", "value": 8}]}]}`))
	if err == nil || !strings.Contains(err.Error(), "syscalls[0].names[0]: seccomp: a condition on arg 1 (flags) must be eq or masked-eq") {
		t.Errorf("got %v", err)
	}
	// A deny may say what it likes (as the argument's width allows).
	if _, err := ParseFile("p.json", []byte(`{"syscageProfile": 1, "name": "p", "syscalls": [
		{"names": ["seccomp"], "tier": "deny", "when": [{"arg": 1, "op": "masked-eq", "mask": 4, "value": 4}]}]}`)); err != nil {
		t.Errorf("deny entry: %v", err)
	}
}
