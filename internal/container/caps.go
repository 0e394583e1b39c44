package container

import (
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// containerCaps is the capability set the container's profile is
// compiled for: the union of its process's sets (bounding, effective,
// permitted, inheritable, ambient), every capability it holds or could
// gain by exec. Docker's profile looks at the bounding set alone; the
// union is never smaller. Names this runtime does not know are left out
// (libcontainer ignores them too, and no rule depends on them).
//
// `syscage exec --cap` cannot widen it: an exec'd process gets the
// container's filter, compiled at create.
func containerCaps(p *specs.Process) syscalls.Caps {
	var c syscalls.Caps
	if p == nil || p.Capabilities == nil {
		return 0
	}
	pc := p.Capabilities
	for _, set := range [][]string{pc.Bounding, pc.Effective, pc.Permitted, pc.Inheritable, pc.Ambient} {
		for _, n := range set {
			if b, err := syscalls.CapsOf(n); err == nil {
				c |= b
			}
		}
	}
	return c
}
