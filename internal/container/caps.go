package container

import (
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// containerCaps is the capability set the container's profile is
// compiled for: the union of its process's sets (bounding, effective,
// permitted, inheritable, ambient), every capability it holds or could
// gain by exec. Docker's profile looks at the bounding set alone; the
// union is never smaller. Names this runtime does not know, or spelled
// otherwise than libcontainer takes them (it ignores "cap_sys_nice"), are
// left out, as libcontainer leaves them out; a process with no
// capabilities object keeps them all (libcontainer changes nothing), and
// so does its profile.
//
// `syscage exec --cap` cannot widen it: an exec'd process gets the
// container's filter, compiled at create.
func containerCaps(p *specs.Process) syscalls.Caps {
	var c syscalls.Caps
	if p == nil {
		return 0
	}
	if p.Capabilities == nil {
		return allCaps() // libcontainer leaves the process every capability
	}
	pc := p.Capabilities
	for _, set := range [][]string{pc.Bounding, pc.Effective, pc.Permitted, pc.Inheritable, pc.Ambient} {
		for _, n := range set {
			// Spelled exactly as libcontainer takes it: it ignores
			// "cap_sys_nice", and so must the doors it would open.
			if n != strings.ToUpper(n) || !strings.HasPrefix(n, "CAP_") {
				continue
			}
			if b, err := syscalls.CapsOf(n); err == nil {
				c |= b
			}
		}
	}
	return c
}

// allCaps is every capability the kernel has.
func allCaps() syscalls.Caps {
	var c syscalls.Caps
	for i := 0; i <= int(unix.CAP_LAST_CAP) && i < 64; i++ {
		c |= syscalls.Caps(1) << uint(i)
	}
	return c
}
