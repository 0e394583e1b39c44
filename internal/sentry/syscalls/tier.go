package syscalls

import "fmt"

// Tier is what happens to a system call (see docs/profiles.md and the design
// notes). The zero value is not a valid tier, so a forgotten field fails
// closed in the compiler.
type Tier uint8

const (
	// Pass: the seccomp program lets the kernel run the call (ALLOW).
	Pass Tier = iota + 1
	// Deny: the seccomp program returns an errno; the kernel never runs it.
	Deny
	// Emulate: the sentry is notified and computes the answer itself; no host
	// call is made on the workload's behalf.
	Emulate
	// Proxy: the sentry is notified, copies pointer arguments into its own
	// memory, checks them and makes the call itself.
	Proxy
	// Check: the sentry is notified, looks at value arguments only (saved
	// registers the caller cannot change while it waits) and lets the kernel
	// continue. Never used for a decision that depends on memory.
	Check
)

var tierNames = [...]string{Pass: "pass", Deny: "deny", Emulate: "emulate", Proxy: "proxy", Check: "check"}

// Tiers lists every tier in order.
func Tiers() []Tier { return []Tier{Pass, Deny, Emulate, Proxy, Check} }

func (t Tier) String() string {
	if int(t) < len(tierNames) && tierNames[t] != "" {
		return tierNames[t]
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// Notified reports whether the tier is carried out by the sentry through a
// seccomp user notification.
func (t Tier) Notified() bool { return t == Emulate || t == Proxy || t == Check }

// ParseTier is the inverse of Tier.String.
func ParseTier(s string) (Tier, error) {
	for _, t := range Tiers() {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown tier %q (want pass, deny, emulate, proxy or check)", s)
}

// MarshalText makes tiers print as their names in JSON.
func (t Tier) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses a tier name.
func (t *Tier) UnmarshalText(b []byte) error {
	v, err := ParseTier(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
