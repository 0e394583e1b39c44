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
// merged filter is refused with an error, or it is never more permissive
// than syscage's profile, nor than theirs for every call their profile
// knows (Merge's contract; TestMergeNeverMorePermissive checks it for one
// Docker-like section).
//
//	go test -run '^$' -fuzz FuzzMerge -fuzztime 2m ./internal/policy/
func FuzzMerge(f *testing.F) {
	seed, err := json.Marshal(dockerLike())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"defaultAction": "SCMP_ACT_ALLOW"}`))
	f.Add([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["getpid", "uname"], "action": "SCMP_ACT_ALLOW"}, {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}]}`))
	f.Add([]byte(`{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_TRACE", "args": [{"index": 1, "value": 21522, "valueTwo": 0, "op": "SCMP_CMP_NE"}]}]}`))
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
		newest := newestNamed(theirs.Syscalls)
		// The calls their section names, and a few it may not: for any
		// other call both sides decide by their default and their newest
		// name, as for these.
		check := map[string]bool{"getpid": true, "uname": true, "mount": true, "bpf": true,
			"clone": true, "clone3": true, "socket": true, "ioctl": true, "personality": true, "futex_wake": true}
		for _, sc := range theirs.Syscalls {
			for _, n := range sc.Names {
				check[n] = true
			}
		}
		for _, e := range syscalls.All() {
			if !check[e.Name] {
				continue
			}
			for _, args := range sampleArgs(e.Name, ours, &theirs) {
				got := evalSpec(m, e.Name, args)
				if w := evalSpec(ours, e.Name, args); stricter(w, got) {
					t.Fatalf("%s(%#x, %#x): merged %v is more permissive than ours %v\ntheirs: %s", e.Name, args[0], args[1], got, w, data)
				}
				if e.Nr > newest {
					continue
				}
				if w := evalSpec(&theirs, e.Name, args); stricter(w, got) {
					t.Fatalf("%s(%#x, %#x): merged %v is more permissive than theirs %v\ntheirs: %s", e.Name, args[0], args[1], got, w, data)
				}
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
