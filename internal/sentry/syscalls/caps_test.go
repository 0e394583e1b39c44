package syscalls

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestCapsOf(t *testing.T) {
	c, err := CapsOf("CAP_NET_ADMIN", "cap_sys_nice")
	if err != nil || !c.Has(unix.CAP_NET_ADMIN) || !c.Has(unix.CAP_SYS_NICE) || c.Has(unix.CAP_SYS_ADMIN) {
		t.Errorf("CapsOf: %v, %v", c.Names(), err)
	}
	if _, err := CapsOf("CAP_NOPE"); err == nil {
		t.Error("CapsOf accepted an unknown capability")
	}
	if n := len(capNames); n != unix.CAP_LAST_CAP+1 {
		t.Errorf("%d capability names, the kernel has %d", n, unix.CAP_LAST_CAP+1)
	}
	if got := CapName(unix.CAP_SYS_NICE); got != "CAP_SYS_NICE" {
		t.Errorf("CapName: %s", got)
	}
}

// TestCapRulesOnlyOpen: a capability only ever opens a door: for every
// capability-dependent entry, every argument vector the rule without the
// capability passes, the rule with it passes too.
func TestCapRulesOnlyOpen(t *testing.T) {
	for name, cr := range capRules {
		e, ok := ByName(name)
		if !ok {
			t.Fatalf("capRules names %s, which is not in the table", name)
		}
		for prof, pair := range map[string][2]Rule{"default": {e.col(0), cr.Default}, "strict": {e.col(1), cr.Strict}} {
			for _, a := range append(samples(pair[0]), samples(pair[1])...) {
				if without, with := pair[0].Eval(a), pair[1].Eval(a); without.Tier != Deny && with.Tier == Deny {
					t.Errorf("%s/%s(%#x): %v without %s, %v with it", name, prof, a[:3], without, CapName(cr.Cap), with)
				}
			}
		}
	}
}
