package policy

import "github.com/syscage/syscage/internal/sentry/syscalls"

// resourceViewCalls are the calls the sentry emulates to show a container
// its own resources (internal/resview) rather than the host's.
var resourceViewCalls = map[string]bool{"sysinfo": true}

// ViewsOn reports whether the profile shows the container its own
// resources (the file's "resourceViews"; on unless it says false).
func (p *Profile) ViewsOn() bool { return p.ResourceViews == nil || *p.ResourceViews }

// WithoutResourceViews returns a copy of p under which the resource-view
// calls p emulates go to the kernel (they report the host's totals):
// what a container with its resource views turned off gets.
func (p *Profile) WithoutResourceViews() *Profile {
	q := *p
	rule := p.rule
	q.rule = func(e *syscalls.Entry) syscalls.Rule {
		r := rule(e)
		if resourceViewCalls[e.Name] && r.Tier == syscalls.Emulate && !r.Conditional() {
			return syscalls.Rule{Tier: syscalls.Pass}
		}
		return r
	}
	return &q
}
