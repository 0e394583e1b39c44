// Package policy turns the syscall table into what the kernel enforces:
// profiles assign every entry of the table (internal/sentry/syscalls) a
// rule, Compile turns a profile into the OCI seccomp section libcontainer
// loads, and Merge combines it with a seccomp section the container's
// config already carries, the stricter decision winning for each call.
//
// The built-in profiles are "default" and "strict"; their rules are the
// table's Default and Strict columns. Profiles from files and the learn
// mode (issue 4) will be built with New.
package policy

import (
	"fmt"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// Profile assigns each table entry a rule.
type Profile struct {
	Name string
	rule func(e *syscalls.Entry) syscalls.Rule
}

// New makes a profile from a function that gives each entry its rule. It is
// the seam for profiles that do not come from the table's columns.
func New(name string, rule func(e *syscalls.Entry) syscalls.Rule) *Profile {
	return &Profile{Name: name, rule: rule}
}

// Rule returns the entry's rule under the profile.
func (p *Profile) Rule(e *syscalls.Entry) syscalls.Rule { return p.rule(e) }

// Decide is the profile's decision for a call, from its number and value
// arguments: the entry (nil for a number the architecture does not have)
// and the outcome, exactly as the compiled filter decides it. The sentry
// calls it for notified calls; the handler is e.Handler.
func (p *Profile) Decide(nr int, args [6]uint64) (*syscalls.Entry, syscalls.Outcome) {
	e, ok := syscalls.ByNr(nr)
	if !ok {
		return nil, syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}
	}
	return e, p.rule(e).Eval(args)
}

var builtins = map[string]*Profile{
	"default": New("default", func(e *syscalls.Entry) syscalls.Rule { return e.Default }),
	"strict":  New("strict", func(e *syscalls.Entry) syscalls.Rule { return e.Strict }),
}

// DefaultName is the profile a container gets when none is chosen.
const DefaultName = "default"

// Builtin returns a built-in profile by name.
func Builtin(name string) (*Profile, error) {
	if p, ok := builtins[name]; ok {
		return p, nil
	}
	return nil, &UnknownProfileError{Name: name}
}

// Names lists the built-in profiles.
func Names() []string {
	var n []string
	for k := range builtins {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// UnknownProfileError is returned for a profile name that is not known.
type UnknownProfileError struct{ Name string }

func (e *UnknownProfileError) Error() string {
	return fmt.Sprintf("unknown profile %q (known: %v)", e.Name, Names())
}
