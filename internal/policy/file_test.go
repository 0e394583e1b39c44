package policy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

const goodProfile = `{
  "syscageProfile": 1,
  "name": "web",
  "base": "default",
  "kernelRelease": "5.15.0-web",
  "audit": true,
  "unlisted": "deny",
  "syscalls": [
    {"names": ["read", "write", "close", "exit_group"], "tier": "pass", "why": "basics"},
    {"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "masked-eq", "mask": 4294967295, "value": 2}]},
    {"names": ["socket"], "tier": "deny", "errno": "EAFNOSUPPORT", "when": [{"arg": 0, "op": "eq", "value": 10}]},
    {"names": ["lseek"], "tier": "pass", "when": [{"arg": 1, "op": "lt", "value": 100}]},
    {"names": ["lseek"], "tier": "deny", "when": [{"arg": 1, "op": "ge", "value": 100}, {"arg": 2, "op": "eq", "value": 7}]},
    {"names": ["uname"], "tier": "emulate"},
    {"names": ["connect"], "tier": "proxy"},
    {"names": ["openat"], "tier": "check"},
    {"names": ["mkdir"], "tier": "deny", "errno": "EROFS"}
  ]
}`

// goodProfileWith is goodProfile with "unlisted" set to mode.
func goodProfileWith(mode string) string {
	return strings.Replace(goodProfile, `"unlisted": "deny"`, `"unlisted": "`+mode+`"`, 1)
}

// compileGood loads goodProfileWith(mode) and compiles it.
func compileGood(t *testing.T, mode string) (*Profile, *specs.LinuxSeccomp) {
	t.Helper()
	p, err := ParseFile("p.json", []byte(goodProfileWith(mode)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(p, "/x.sock")
	if err != nil {
		t.Fatal(err)
	}
	return p, s
}

func TestParseFileGood(t *testing.T) {
	p, err := ParseFile("web.json", []byte(goodProfile))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "web" || p.KernelRelease != "5.15.0-web" || p.Audit == nil || !*p.Audit || p.Source != "web.json" {
		t.Errorf("settings: %+v", p)
	}
	for _, tc := range []struct {
		nr   int
		args [6]uint64
		want syscalls.Outcome
	}{
		{unix.SYS_READ, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_SOCKET, [6]uint64{unix.AF_INET | 0xdead_0000_0000}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_SOCKET, [6]uint64{unix.AF_INET6}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EAFNOSUPPORT}},
		// eq on a 32-bit argument compares the low 32 bits, as the kernel
		// reads them: upper bits do not slip past a deny entry.
		{unix.SYS_SOCKET, [6]uint64{unix.AF_INET6 | 0xdead_0000_0000}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EAFNOSUPPORT}},
		{unix.SYS_LSEEK, [6]uint64{0, 5}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_LSEEK, [6]uint64{0, 200, 7}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_SOCKET, [6]uint64{unix.AF_UNIX}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_UNAME, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Emulate}},
		{unix.SYS_CONNECT, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Proxy}},
		{unix.SYS_OPENAT, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Check}},
		{unix.SYS_MKDIR, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EROFS}},
		{unix.SYS_GETPID, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_BPF, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{999, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}},
	} {
		if _, got := p.Decide(tc.nr, tc.args); got != tc.want {
			t.Errorf("Decide(%d, %#x) = %v, want %v", tc.nr, tc.args[0], got, tc.want)
		}
	}
	if n := p.Passes(); n != 9 {
		t.Errorf("Passes() = %d, want 9", n)
	}
}

// TestFileErrors: every way a profile file can be wrong gives an error
// naming the file, the field and the problem.
func TestFileErrors(t *testing.T) {
	wrap := func(entries string) string {
		return `{"syscageProfile": 1, "name": "x", "syscalls": [` + entries + `]}`
	}
	for _, tc := range []struct {
		name, data, field, problem string
	}{
		{"not json", `{"syscageProfile": 1,`, "", "not valid JSON"},
		{"trailing data", `{"syscageProfile": 1, "name": "x", "syscalls": []} {}`, "", "trailing data"},
		{"no version", `{"name": "x", "syscalls": []}`, "syscageProfile", "version 0 is not supported"},
		{"wrong version", `{"syscageProfile": 2, "name": "x", "syscalls": []}`, "syscageProfile", "version 2 is not supported"},
		{"version a string", `{"syscageProfile": "1", "name": "x", "syscalls": []}`, "syscageProfile", "is a JSON string"},
		{"unknown top field", `{"syscageProfile": 1, "name": "x", "syscalls": [], "color": "red"}`, "color", "unknown field"},
		{"unknown entry field", wrap(`{"names": ["read"], "tier": "pass", "action": "allow"}`), "action", "unknown field"},
		{"no name", `{"syscageProfile": 1, "syscalls": []}`, "name", "missing"},
		{"builtin name", `{"syscageProfile": 1, "name": "strict", "syscalls": []}`, "name", "built-in"},
		{"unknown base", `{"syscageProfile": 1, "name": "x", "base": "loose", "syscalls": []}`, "base", `unknown profile "loose"`},
		{"bad unlisted", `{"syscageProfile": 1, "name": "x", "unlisted": "allow", "syscalls": []}`, "unlisted", "want base, deny or kill"},
		{"bad kernel release", `{"syscageProfile": 1, "name": "x", "kernelRelease": "a\nb", "syscalls": []}`, "kernelRelease", "one line"},
		{"no syscalls", `{"syscageProfile": 1, "name": "x"}`, "syscalls", "missing"},
		{"no names", wrap(`{"names": [], "tier": "pass"}`), "syscalls[0].names", "empty"},
		{"unknown syscall", wrap(`{"names": ["read"], "tier": "pass"}, {"names": ["open", "frobnicate"], "tier": "pass"}`), "syscalls[1].names[1]", `unknown syscall "frobnicate"`},
		{"unknown tier", wrap(`{"names": ["read"], "tier": "allow"}`), "syscalls[0].tier", `unknown tier "allow"`},
		{"proxy without handler", wrap(`{"names": ["read"], "tier": "proxy"}`), "syscalls[0].names[0]", "read cannot be proxy: the sentry has no proxy handler"},
		{"emulate without handler", wrap(`{"names": ["getpid", "mmap"], "tier": "emulate"}`), "syscalls[0].names[0]", "no emulate handler"},
		{"emulate a proxy handler", wrap(`{"names": ["connect"], "tier": "emulate"}`), "syscalls[0].names[0]", "no emulate handler"},
		{"check write", wrap(`{"names": ["write"], "tier": "check"}`), "syscalls[0].names[0]", "write cannot be check"},
		{"errno on pass", wrap(`{"names": ["read"], "tier": "pass", "errno": "EPERM"}`), "syscalls[0].errno", "only a deny entry has an errno"},
		{"unknown errno", wrap(`{"names": ["read"], "tier": "deny", "errno": "EWHATEVER"}`), "syscalls[0].errno", `unknown errno "EWHATEVER"`},
		{"arg too big", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 6, "op": "eq", "value": 1}]}`), "syscalls[0].when[0].arg", "arguments 0 to 5"},
		{"arg negative", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": -1, "op": "eq", "value": 1}]}`), "syscalls.when.arg", "is a JSON number"},
		{"arg missing", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"op": "eq", "value": 1}]}`), "syscalls[0].when[0].arg", "missing"},
		{"unknown op", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "like", "value": 1}]}`), "syscalls[0].when[0].op", `unknown operator "like"`},
		{"value missing", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "eq"}]}`), "syscalls[0].when[0].value", "missing"},
		{"masked-eq without mask", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "masked-eq", "value": 1}]}`), "syscalls[0].when[0].mask", "needs a mask"},
		{"mask without masked-eq", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "eq", "value": 1, "mask": 3}]}`), "syscalls[0].when[0].mask", "only masked-eq"},
		{"zero mask", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "masked-eq", "value": 0, "mask": 0}]}`), "syscalls[0].when[0].mask", "zero mask"},
		{"value outside mask", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "masked-eq", "value": 4, "mask": 3}]}`), "syscalls[0].when[0].value", "can never match"},
		{"value above an int argument", wrap(`{"names": ["ioctl"], "tier": "deny", "when": [{"arg": 1, "op": "eq", "value": 4294988818}]}`), "syscalls[0].when[0]", "ioctl: arg 1 (cmd) is a 32-bit uint; eq 0x100005412 compares bits above them"},
		{"mask above an int argument", wrap(`{"names": ["read"], "tier": "pass"}, {"names": ["socket"], "tier": "pass", "when": [{"arg": 1, "op": "eq", "value": 1}, {"arg": 0, "op": "masked-eq", "mask": 18446744073709551615, "value": 2}]}`), "syscalls[1].when[1]", "socket: arg 0 (family) is a 32-bit int"},
		{"argument past the call's", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 3, "op": "eq", "value": 1}]}`), "syscalls[0].when[0]", "socket takes 3 arguments; there is no arg 3"},
		{"unknown capability", wrap(`{"names": ["mbind"], "tier": "pass", "withCaps": ["CAP_FLY"]}`), "syscalls[0].withCaps", `unknown capability "CAP_FLY"`},
		{"with and without one capability", wrap(`{"names": ["mbind"], "tier": "pass", "withCaps": ["CAP_SYS_NICE"], "withoutCaps": ["CAP_SYS_NICE"]}`), "syscalls[0].withoutCaps", "could never apply"},
		{"capability entries that meet", wrap(`{"names": ["mbind"], "tier": "deny"}, {"names": ["mbind"], "tier": "pass", "withCaps": ["CAP_SYS_NICE"]}`), "syscalls[1].names[0]", "already has an entry (for a container holding CAP_SYS_NICE)"},
		{"two conds one arg", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "ge", "value": 1}, {"arg": 0, "op": "le", "value": 3}]}`), "syscalls[0].when[1].arg", "second condition on arg 0"},
		{"unconditional twice", wrap(`{"names": ["read"], "tier": "pass"}, {"names": ["read"], "tier": "deny"}`), "syscalls[1].names[0]", "already has an entry"},
		{"overlapping cases", wrap(`{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "eq", "value": 2}]}, {"names": ["socket"], "tier": "deny", "when": [{"arg": 0, "op": "masked-eq", "mask": 255, "value": 2}]}`), "syscalls[1].names[0]", "can hold together with those of syscalls[0]"},
		{"overlapping ranges", wrap(`{"names": ["lseek"], "tier": "pass", "when": [{"arg": 1, "op": "lt", "value": 100}]}, {"names": ["lseek"], "tier": "deny", "when": [{"arg": 1, "op": "ge", "value": 99}]}`), "syscalls[1].names[0]", "make the entries disjoint"},
		{"range on a 32-bit argument", wrap(`{"names": ["ioctl"], "tier": "pass", "when": [{"arg": 1, "op": "lt", "value": 100}]}`), "syscalls[0].when[0]", "ioctl: arg 1 (cmd) is a 32-bit uint; lt 0x64 would compare the whole 64-bit register"},
		{"ne on a 32-bit argument", wrap(`{"names": ["socket"], "tier": "deny", "when": [{"arg": 0, "op": "ne", "value": 1}]}`), "syscalls[0].when[0]", "use eq or masked-eq"},
		{"conditional after unconditional", wrap(`{"names": ["socket"], "tier": "pass"}, {"names": ["socket"], "tier": "deny", "when": [{"arg": 0, "op": "eq", "value": 1}]}`), "syscalls[1].names[0]", "already has an entry without conditions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("/etc/p.json", []byte(tc.data))
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("%T %v: not a *FileError", err, err)
			}
			msg := err.Error()
			if fe.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", fe.Field, tc.field, msg)
			}
			if !strings.HasPrefix(msg, "profile file /etc/p.json: ") || !strings.Contains(msg, tc.problem) {
				t.Errorf("error %q: want the file and %q", msg, tc.problem)
			}
		})
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile("/nonexistent/p.json")
	var fe *FileError
	if !errors.As(err, &fe) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%v", err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web.json")
	if err := os.WriteFile(path, []byte(goodProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"default": "default", "strict": "strict", "learn": "learn", path: "web"} {
		p, err := Resolve(ref)
		if err != nil || p.Name != want {
			t.Errorf("Resolve(%s) = %v, %v", ref, p, err)
		}
	}
	if _, err := Resolve("nope"); err == nil {
		t.Error("Resolve(nope): no error")
	}
}

// TestFileProfilesCompile: the compiled filter decides every call as
// Decide does, for the deny, kill and base modes.
func TestFileProfilesCompile(t *testing.T) {
	for _, unlisted := range []string{"deny", "kill", "base"} {
		p, s := compileGood(t, unlisted)
		for _, e := range syscalls.All() {
			for _, args := range sampleArgs(e.Name, s) {
				want := filterAction(p, &e, args, unlisted == "kill")
				if got := evalSpec(s, e.Name, args); !got.same(want) {
					t.Fatalf("%s: %s(%#x, %#x): filter %v, Decide %v", unlisted, e.Name, args[0], args[1], got, want)
				}
			}
		}
	}
}

// filterAction is what p's compiled filter must do with e(args): Decide's
// outcome, except that calls p kills, and — when unlisted calls are
// killed — argument values a listed entry's cases leave out, kill.
func filterAction(p *Profile, e *syscalls.Entry, args [6]uint64, unlistedKill bool) action {
	_, o := p.Decide(e.Nr, args)
	if p.Kills(e) || (unlistedKill && o.Tier == syscalls.Deny && o.Errno == unix.EPERM && p.Listed(e) && len(p.Rule(e).Cases) > 0 && !matchesAnyCase(p.Rule(e), args)) {
		return action{act: specs.ActKillProcess}
	}
	return toAction(o)
}

func matchesAnyCase(r syscalls.Rule, args [6]uint64) bool {
	for _, c := range r.Cases {
		if holdsAll(c.When, args) {
			return true
		}
	}
	return false
}

// TestLearnedRoundTrip: a recorder's profile loads, allows what was seen
// (with the values seen) and nothing else, and never more than the base.
func TestLearnedRoundTrip(t *testing.T) {
	base, _ := Builtin(DefaultName)
	r := NewRecorder(base, "c1")
	seen := [][7]uint64{
		{unix.SYS_READ},
		{unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC},
		{unix.SYS_IOCTL, 1, unix.TCGETS},
		{unix.SYS_PRCTL, unix.PR_SET_NAME},
		{unix.SYS_UNAME},
		{unix.SYS_PERSONALITY, 0xffffffff},
		{unix.SYS_BPF}, // denied by the base: not learned
	}
	for i, c := range seen {
		var args [6]uint64
		copy(args[:], c[1:])
		for k := 0; k <= i; k++ {
			r.Observe(os.Getpid(), int(c[0]), args)
		}
	}
	f := r.Profile("learned-c1")
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseFile("learned.json", data)
	if err != nil {
		t.Fatalf("learned profile does not load: %v\n%s", err, data)
	}
	for _, tc := range []struct {
		nr   int
		args [6]uint64
		want syscalls.Outcome
	}{
		{unix.SYS_READ, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_WRITE, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_CLONE, [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_CLONE, [6]uint64{unix.CLONE_NEWNET}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_CLONE3, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}},
		{unix.SYS_SOCKET, [6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_SOCKET, [6]uint64{unix.AF_INET, unix.SOCK_DGRAM}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_SOCKET, [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_IOCTL, [6]uint64{5, unix.TCGETS}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_IOCTL, [6]uint64{1, unix.TIOCSWINSZ}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_PRCTL, [6]uint64{unix.PR_SET_NAME}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_PRCTL, [6]uint64{unix.PR_SET_DUMPABLE}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_PERSONALITY, [6]uint64{0xffffffff}, syscalls.Outcome{Tier: syscalls.Pass}},
		{unix.SYS_PERSONALITY, [6]uint64{0x40000}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_UNAME, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Emulate}},
		{unix.SYS_BPF, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_GETUID, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{unix.SYS_FUTEX, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Pass}}, // the runtime's init may need it
	} {
		if _, got := p.Decide(tc.nr, tc.args); got != tc.want {
			t.Errorf("Decide(%d, %#x, %#x) = %v, want %v", tc.nr, tc.args[0], tc.args[1], got, tc.want)
		}
	}
	// Never more than the base: whatever the learned profile lets run,
	// the base lets run with the same tier.
	for _, e := range syscalls.All() {
		for _, args := range sampleArgs(e.Name) {
			_, lo := p.Decide(e.Nr, args)
			_, bo := base.Decide(e.Nr, args)
			if lo.Tier != syscalls.Deny && lo != bo {
				t.Fatalf("%s(%#x, %#x): learned %v, base %v", e.Name, args[0], args[1], lo, bo)
			}
		}
	}
	for _, ent := range f.Syscalls {
		if ent.Why == "" {
			t.Errorf("%v: no why", ent.Names)
		}
	}
	if !strings.Contains(string(data), "(policy.test); 2 calls") {
		t.Errorf("why does not name the process and count:\n%s", data)
	}
	if _, err := Compile(p, "/x.sock"); err != nil {
		t.Fatal(err)
	}
}

func TestLearnProfileNotifiesWhatBasePasses(t *testing.T) {
	base, _ := Builtin(DefaultName)
	l := LearnProfile(base)
	for _, e := range syscalls.All() {
		for _, args := range sampleArgs(e.Name) {
			_, lo := l.Decide(e.Nr, args)
			_, bo := base.Decide(e.Nr, args)
			want := bo
			if bo.Tier == syscalls.Pass {
				_, unobs := unobserved[e.Name]
				if !unobs && !slices.Contains(runtimeInit, e.Name) {
					want = syscalls.Outcome{Tier: syscalls.Check}
				}
			}
			if lo != want {
				t.Fatalf("%s: learn %v, base %v", e.Name, lo, bo)
			}
		}
	}
	if _, err := Compile(l, "/x.sock"); err != nil {
		t.Fatal(err)
	}
}

// complementFilter is a learned profile with conditional socket, ioctl
// and prctl entries, compiled with auditing on.
func complementFilter(t *testing.T) (*Profile, *specs.LinuxSeccomp) {
	t.Helper()
	base, _ := Builtin(DefaultName)
	r := NewRecorder(base, "c1")
	for _, c := range [][3]uint64{
		{unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC},
		{unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_DGRAM},
		{unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM},
		{unix.SYS_IOCTL, 1, unix.TCGETS},
		{unix.SYS_IOCTL, 1, unix.TIOCGWINSZ},
		{unix.SYS_PRCTL, unix.PR_SET_NAME},
	} {
		r.Observe(os.Getpid(), int(c[0]), [6]uint64{c[1], c[2]})
	}
	data, _ := json.Marshal(r.Profile("learned-c1"))
	p, err := ParseFile("learned.json", data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := compile(p, "/x.sock", true)
	if err != nil {
		t.Fatal(err)
	}
	return p, s
}

// TestComplement: with auditing on, the values a learned profile's
// conditional entries leave out are denied by rules of their own (so they
// are notified and logged), exactly as Decide denies them.
func TestComplement(t *testing.T) {
	p, s := complementFilter(t)
	for _, e := range syscalls.All() {
		for _, args := range sampleArgs(e.Name, s) {
			_, o := p.Decide(e.Nr, args)
			if got, want := evalSpec(s, e.Name, args), toAction(o); !got.same(want) {
				t.Fatalf("%s(%#x, %#x): filter %v, Decide %v", e.Name, args[0], args[1], got, want)
			}
		}
	}
	// Every socket, ioctl and prctl call matches a rule: none falls to
	// the default action.
	for _, name := range []string{"socket", "ioctl", "prctl"} {
		for _, args := range sampleArgs(name, s) {
			hit := false
			for _, rl := range byName(s.Syscalls)[name] {
				if argsHold(rl.args, args) {
					hit = true
				}
			}
			if !hit {
				t.Fatalf("%s(%#x, %#x) falls to the default action", name, args[0], args[1])
			}
		}
	}
}

// TestLearnedValuesBounded: a workload looping over distinct ioctl
// requests makes the recorder keep at most MaxLearnedValues detailed
// records for the call; past that the call collapses into one entry that
// allows what the base allows, and the profile still loads and still
// refuses what the base refuses.
func TestLearnedValuesBounded(t *testing.T) {
	base, _ := Builtin(DefaultName)
	for _, tc := range []struct {
		name     string
		distinct int
		want     int // ioctl entries in the learned profile
	}{
		{"under the bound", MaxLearnedValues - 1, MaxLearnedValues - 1},
		{"at the bound", MaxLearnedValues, MaxLearnedValues},
		{"past the bound", MaxLearnedValues + 1, 1},
		{"a flood", 100_000, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRecorder(base, "c1")
			for i := 0; i < tc.distinct; i++ {
				r.Observe(os.Getpid(), unix.SYS_IOCTL, [6]uint64{1, uint64(0x100000 + i)})
			}
			if n := r.Len(); n > MaxLearnedValues {
				t.Errorf("recorder holds %d records, bound %d", n, MaxLearnedValues)
			}
			f := r.Profile("learned-c1")
			entries := 0
			for _, s := range f.Syscalls {
				if len(s.Names) == 1 && s.Names[0] == "ioctl" && s.Tier != "deny" {
					entries++
				}
			}
			if entries != tc.want {
				t.Errorf("%d ioctl entries in the learned profile, want %d", entries, tc.want)
			}
			data, _ := json.Marshal(f)
			p, err := ParseFile("learned.json", data)
			if err != nil {
				t.Fatalf("learned profile does not load: %v", err)
			}
			e, _ := syscalls.ByName("ioctl")
			// TIOCSTI is refused by the base: never by the learned profile.
			if _, out := p.Decide(e.Nr, [6]uint64{1, unix.TIOCSTI}); out.Tier != syscalls.Deny {
				t.Errorf("ioctl TIOCSTI under the learned profile: %v, want deny", out.Tier)
			}
			_, out := p.Decide(e.Nr, [6]uint64{1, 0x100000})
			if out.Tier == syscalls.Deny {
				t.Errorf("ioctl 0x100000 (seen) refused")
			}
			// A value never seen, in the same base case: allowed only
			// once the detail has collapsed.
			_, out = p.Decide(e.Nr, [6]uint64{1, 0x1fffff})
			if collapsed := tc.want == 1; collapsed == (out.Tier == syscalls.Deny) {
				t.Errorf("ioctl 0x1fffff (never seen) with collapsed=%v: %v", collapsed, out.Tier)
			}
		})
	}
}

// TestFileCapabilityEntries: withCaps/withoutCaps entries apply by the
// container's capability set; a call with no entry in force for a set
// falls to the unlisted rule; "base": "none" gives unlisted calls ENOSYS;
// summary names a conditional rule.
func TestFileCapabilityEntries(t *testing.T) {
	p, err := ParseFile("/etc/caps.json", []byte(`{"syscageProfile": 1, "name": "caps", "base": "none", "syscalls": [
		{"names": ["mbind"], "tier": "deny", "errno": "EPERM", "withoutCaps": ["CAP_SYS_NICE"]},
		{"names": ["mbind"], "tier": "pass", "withCaps": ["CAP_SYS_NICE"]},
		{"names": ["kexec_load"], "tier": "pass", "withCaps": ["CAP_SYS_BOOT", "CAP_SYS_ADMIN"]},
		{"names": ["socket"], "tier": "pass", "summary": "unix only", "when": [{"arg": 0, "op": "masked-eq", "mask": 4294967295, "value": 1}], "withoutCaps": ["CAP_NET_ADMIN"]},
		{"names": ["socket"], "tier": "pass", "when": [{"arg": 0, "op": "masked-eq", "mask": 4294967295, "value": 16}], "withCaps": ["CAP_NET_ADMIN"]}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	byName := func(n string) *syscalls.Entry { e, _ := syscalls.ByName(n); return e }
	nice, boot, admin, net := syscalls.MustCaps("CAP_SYS_NICE"), syscalls.MustCaps("CAP_SYS_BOOT"), syscalls.MustCaps("CAP_SYS_ADMIN"), syscalls.MustCaps("CAP_NET_ADMIN")
	enosys := syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}
	for _, tc := range []struct {
		call string
		caps syscalls.Caps
		args [6]uint64
		want syscalls.Outcome
	}{
		{"mbind", 0, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.EPERM}},
		{"mbind", nice, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Pass}},
		{"kexec_load", boot, [6]uint64{}, enosys},
		{"kexec_load", boot | admin, [6]uint64{}, syscalls.Outcome{Tier: syscalls.Pass}},
		{"socket", 0, [6]uint64{1}, syscalls.Outcome{Tier: syscalls.Pass}},
		{"socket", 0, [6]uint64{16}, enosys},
		{"socket", net, [6]uint64{16}, syscalls.Outcome{Tier: syscalls.Pass}},
		{"socket", net, [6]uint64{1}, enosys},
		{"getpid", 0, [6]uint64{}, enosys},
	} {
		e := byName(tc.call)
		_, got := p.ForCaps(tc.caps).Decide(e.Nr, tc.args)
		if got != tc.want {
			t.Errorf("%s%v with %v: %v, want %v", tc.call, tc.args[:1], tc.caps.Names(), got, tc.want)
		}
	}
	if s := p.Rule(byName("socket")).Summary; s != "unix only" {
		t.Errorf("socket's summary %q, want the entry's", s)
	}
	if p.Base != "" || p.Listed(byName("getpid")) || !p.Listed(byName("mbind")) {
		t.Errorf("base %q, getpid listed %v, mbind listed %v", p.Base, p.Listed(byName("getpid")), p.Listed(byName("mbind")))
	}
}
