package policy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// FuzzParseFile: whatever a profile file holds, loading it either fails
// with an error that names the file, or gives a profile that compiles —
// alone and for an audited container — into a filter that decides every
// call in the table the way the sentry's Decide does. A profile that
// validates but cannot be enforced, or that the kernel and the sentry
// read differently, is a bug either way.
//
//	go test -run '^$' -fuzz FuzzParseFile -fuzztime 2m ./internal/policy/
func FuzzParseFile(f *testing.F) {
	for _, seed := range []string{
		goodProfile,
		goodProfileWith("kill"),
		goodProfileWith("base"),
		`{"syscageProfile": 1, "name": "x", "syscalls": []}`,
		`{"syscageProfile": 1, "name": "s", "base": "strict", "syscalls": [{"names": ["personality"], "tier": "pass", "when": [{"arg": 0, "op": "masked-eq", "mask": 255, "value": 8}]}]}`,
		`{"syscageProfile": 1, "name": "c", "base": "default", "unlisted": "deny", "syscalls": [{"names": ["clone"], "tier": "pass", "when": [{"arg": 0, "op": "masked-eq", "mask": 2114060288, "value": 0}]}, {"names": ["kill"], "tier": "deny", "errno": "EACCES"}]}`,
		`{"syscageProfile": 1, "name": "g", "syscalls": [{"names": ["getpid"], "tier": "deny", "when": [{"arg": 0, "op": "gt", "value": 1}, {"arg": 1, "op": "le", "value": 5}]}]}`,
		`{"syscageProfile": 2}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseFile("fuzz.json", data)
		if err != nil {
			if p != nil {
				t.Fatalf("ParseFile returned a profile and an error: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "profile file fuzz.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, audit := range []bool{false, true} {
			if _, err := ContainerFilter(p, nil, "/run/x.sock", audit); err != nil {
				t.Fatalf("a validated profile does not compile (audit %v): %v\n%s", audit, err, data)
			}
		}
		s, err := Compile(p, "/run/x.sock")
		if err != nil {
			t.Fatalf("a validated profile does not compile: %v\n%s", err, data)
		}
		defer delete(evalCache, s) // one filter per input: keep the cache from growing
		unlistedKill := s.DefaultAction == specs.ActKillProcess
		for _, e := range syscalls.All() {
			for _, args := range sampleArgs(e.Name, s) {
				want := filterAction(p, &e, args, unlistedKill)
				if got := evalSpec(s, e.Name, args); !got.same(want) {
					t.Fatalf("%s(%#x, %#x): filter %v, Decide %v\nprofile: %s", e.Name, args[0], args[1], got, want, data)
				}
			}
		}
	})
}

// FuzzMerge: whatever seccomp section a container's config carries, the
// merged filter is refused with an error, or it is monotone both ways:
// never more permissive than syscage's profile, nor than theirs as runc
// loads it — their rules and default, behind runc's ENOSYS stub for calls
// newer than every call they name — except initAfterFilter's calls when
// theirs is older than them, which must then be decided exactly as ours
// decides them (Merge's contract; TestMergeNeverMorePermissive and
// TestMergeNewerCalls check it for chosen sections).
//
//	go test -run '^$' -fuzz FuzzMerge -fuzztime 2m ./internal/policy/
func FuzzMerge(f *testing.F) {
	seed, err := json.Marshal(dockerLike())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, def := range []action{{act: specs.ActAllow}, {specs.ActErrno, errno(1)}, {act: specs.ActKillProcess}, enosysStub} {
		old, err := json.Marshal(upTo(318, def))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(old)
	}
	f.Add([]byte(`{"defaultAction": "SCMP_ACT_ALLOW"}`))
	f.Add([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["getpid", "uname"], "action": "SCMP_ACT_ALLOW"}, {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}`))
	f.Add([]byte(`{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_TRACE", "args": [{"index": 1, "value": 21522, "valueTwo": 0, "op": "SCMP_CMP_NE"}]}]}`))
	f.Add([]byte(`{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [{"names": ["seccomp"], "action": "SCMP_ACT_ALLOW"}, {"names": ["read", "getrandom"], "action": "SCMP_ACT_ALLOW"}]}`))
	ours, err := Compile(mustBuiltin(f, "default"), "/run/x.sock")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var theirs specs.LinuxSeccomp
		if json.Unmarshal(data, &theirs) != nil {
			return
		}
		m, err := Merge(ours, &theirs)
		if err != nil {
			return
		}
		defer delete(evalCache, m)
		defer delete(evalCache, &theirs)
		defer delete(newestCache, &theirs)
		// The calls their section names, a few it may not, and the new
		// calls around the newest one it names: for any other call both
		// sides decide by their default and their newest name, as for
		// these.
		fixed := map[string]bool{"getpid": true, "uname": true, "mount": true, "bpf": true, "seccomp": true,
			"clone": true, "clone3": true, "socket": true, "ioctl": true, "personality": true, "futex_wake": true,
			"memfd_create": true, "execveat": true, "statx": true, "openat2": true, "pidfd_open": true, "close_range": true}
		named := map[string]bool{}
		for _, sc := range theirs.Syscalls {
			for _, n := range sc.Names {
				named[n] = true
			}
		}
		for _, e := range syscalls.All() {
			if !fixed[e.Name] && !named[e.Name] {
				continue
			}
			samples := sampleArgs(e.Name, ours, &theirs)
			if !fixed[e.Name] && len(named) > 32 {
				samples = samples[:48] // a long section: fewer values for each of its calls
			}
			for _, args := range samples {
				checkMonotone(t, "fuzz", ours, &theirs, m, &e, args)
			}
		}
	})
}

func mustBuiltin(f *testing.F, name string) *Profile {
	p, err := Builtin(name)
	if err != nil {
		f.Fatal(err)
	}
	return p
}
