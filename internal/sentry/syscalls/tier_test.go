package syscalls

import "testing"

func TestTierNames(t *testing.T) {
	for _, tc := range []struct {
		tier Tier
		name string
	}{{Pass, "pass"}, {Deny, "deny"}, {Emulate, "emulate"}, {Proxy, "proxy"}, {Check, "check"}} {
		if got := tc.tier.String(); got != tc.name {
			t.Errorf("%d.String() = %q, want %q", tc.tier, got, tc.name)
		}
		got, err := ParseTier(tc.name)
		if err != nil || got != tc.tier {
			t.Errorf("ParseTier(%q) = %v, %v", tc.name, got, err)
		}
	}
	if _, err := ParseTier("allow"); err == nil {
		t.Error("ParseTier(allow): no error")
	}
	if s := Tier(0).String(); s != "tier(0)" {
		t.Errorf("Tier(0).String() = %q", s)
	}
}
