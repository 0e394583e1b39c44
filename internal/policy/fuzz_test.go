package policy

import (
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

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
		strings.Replace(goodProfile, `"unlisted": "deny"`, `"unlisted": "kill"`, 1),
		strings.Replace(goodProfile, `"unlisted": "deny"`, `"unlisted": "base"`, 1),
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
				_, o := p.Decide(e.Nr, args)
				want := toAction(o)
				if p.Kills(&e) || (unlistedKill && o.Tier == syscalls.Deny && o.Errno == unix.EPERM && p.Listed(&e) && len(p.Rule(&e).Cases) > 0 && !matchesAnyCase(p.Rule(&e), args)) {
					want = action{act: specs.ActKillProcess}
				}
				if got := evalSpec(s, e.Name, args); !got.same(want) {
					t.Fatalf("%s(%#x, %#x): filter %v, Decide %v\nprofile: %s", e.Name, args[0], args[1], got, want, data)
				}
			}
		}
	})
}
