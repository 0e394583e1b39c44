package policy

import (
	"testing"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

func TestWithoutResourceViews(t *testing.T) {
	for _, name := range []string{"default", "strict"} {
		p, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if !p.ViewsOn() {
			t.Errorf("%s: views off by default", name)
		}
		sysinfo, _ := syscalls.ByName("sysinfo")
		uname, _ := syscalls.ByName("uname")
		if got := p.Rule(sysinfo).Tier; got != syscalls.Emulate {
			t.Errorf("%s: sysinfo is %v, want emulate", name, got)
		}
		off := p.WithoutResourceViews()
		if got := off.Rule(sysinfo).Tier; got != syscalls.Pass {
			t.Errorf("%s without views: sysinfo is %v, want pass", name, got)
		}
		if got := off.Rule(uname).Tier; got != syscalls.Emulate {
			t.Errorf("%s without views: uname is %v, want emulate (untouched)", name, got)
		}
		aff, _ := syscalls.ByName("sched_getaffinity")
		if got := p.Rule(aff).Eval([6]uint64{0}).Tier; got != syscalls.Emulate {
			t.Errorf("%s: sched_getaffinity(0) is %v, want emulate", name, got)
		}
		if got := p.Rule(aff).Eval([6]uint64{1234}).Tier; got != syscalls.Emulate {
			t.Errorf("%s: sched_getaffinity(1234) is %v, want emulate", name, got)
		}
		if got := off.Rule(aff); got.Tier != syscalls.Pass || got.Conditional() {
			t.Errorf("%s without views: sched_getaffinity is %+v, want pass", name, got)
		}
		if off.Name != p.Name || p.Rule(sysinfo).Tier != syscalls.Emulate {
			t.Errorf("%s: the copy changed the original or lost its name", name)
		}
	}
	f := []byte(`{"syscageProfile": 1, "name": "noviews", "resourceViews": false, "syscalls": []}`)
	p, err := ParseFile("noviews.json", f)
	if err != nil {
		t.Fatal(err)
	}
	if p.ViewsOn() {
		t.Error(`"resourceViews": false left views on`)
	}

	// Learn mode: checked (recorded, then the kernel's), not passed unseen.
	learn, err := Resolve(Learn)
	if err != nil {
		t.Fatal(err)
	}
	sysinfo, _ := syscalls.ByName("sysinfo")
	if got := learn.WithoutResourceViews().Rule(sysinfo).Tier; got != syscalls.Check {
		t.Errorf("learn without views: sysinfo is %v, want check", got)
	}
}
