package policy

import "github.com/syscage/syscage/internal/sentry/syscalls"

// resourceViewCalls are the calls the sentry emulates to show a container
// its own resources (internal/resview) rather than the host's.
var resourceViewCalls = map[string]bool{"sysinfo": true, "sched_getaffinity": true}

// ViewsOn reports whether the profile shows the container its own
// resources (the file's "resourceViews"; on unless it says false).
func (p *Profile) ViewsOn() bool { return p.ResourceViews == nil || *p.ResourceViews }

// WithoutResourceViews returns a copy of p under which the resource-view
// calls p emulates go to the kernel (they report the host's totals):
// what a container with its resource views turned off gets. Under learn
// mode they are checked instead (recorded, then let go on), as every call
// learn mode lets through. Both the filter and the sentry must use it:
// the sentry decides a notified call by its own copy of the profile.
func (p *Profile) WithoutResourceViews() *Profile {
	q := *p
	rule := p.ruleFor
	tier := syscalls.Pass
	if p.Learning {
		tier = syscalls.Check
	}
	q.ruleFor = func(e *syscalls.Entry, c syscalls.Caps) syscalls.Rule {
		r := rule(e, c)
		if resourceViewCalls[e.Name] && onlyEmulatesOrPasses(r) {
			return syscalls.Rule{Tier: tier}
		}
		return r
	}
	return &q
}

// onlyEmulatesOrPasses reports whether every outcome of r is emulate or
// pass, with one emulate at least: only such a rule is turned to pass (a
// profile's denial of a view call stands).
func onlyEmulatesOrPasses(r syscalls.Rule) bool {
	if !r.Conditional() {
		return r.Tier == syscalls.Emulate
	}
	emulates := false
	for _, c := range r.Cases {
		switch c.Tier {
		case syscalls.Emulate:
			emulates = true
		case syscalls.Pass:
		default:
			return false
		}
	}
	return emulates
}
