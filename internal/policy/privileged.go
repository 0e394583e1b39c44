package policy

import (
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// A privileged container is one whose configuration grants CAP_SYS_ADMIN
// (Kubernetes' privileged: true, Docker's --privileged, or the capability
// added alone): the administrator's node setting decides whether it runs
// (internal/container). When it runs, its profile is the built-in one
// with the mount family opened as far as the container's own mount
// namespace goes, and no further:
//
//   - mount and umount2 are checked: the sentry lets the kernel go on
//     only for a caller in a mount namespace of its own (MountCheck in
//     internal/sentry/syscalls), never the host's. The kernel keeps what
//     they change inside that namespace; the runtime keeps propagation
//     from carrying it to the host;
//   - the new mount API (fsopen, fsconfig, fsmount, fspick, open_tree,
//     open_tree_attr, move_mount, mount_setattr) answers ENOSYS, as on a
//     kernel before 5.2, so mount(8) and libmount fall back to mount(2):
//     one checked door instead of eight, and fsconfig's parser (the
//     CVE-2022-0185 overflow) stays out of reach;
//   - everything else is the profile's: namespaces, pivot_root, modules,
//     bpf, ... stay refused.
var privilegedRules = map[string]syscalls.Rule{
	"mount":          {Tier: syscalls.Check},
	"umount2":        {Tier: syscalls.Check},
	"fsopen":         {Tier: syscalls.Deny, Errno: unix.ENOSYS},
	"fsconfig":       {Tier: syscalls.Deny, Errno: unix.ENOSYS},
	"fsmount":        {Tier: syscalls.Deny, Errno: unix.ENOSYS},
	"fspick":         {Tier: syscalls.Deny, Errno: unix.ENOSYS},
	"open_tree":      {Tier: syscalls.Deny, Errno: unix.ENOSYS},
	"open_tree_attr": {Tier: syscalls.Deny, Errno: unix.ENOSYS},
	"move_mount":     {Tier: syscalls.Deny, Errno: unix.ENOSYS},
	"mount_setattr":  {Tier: syscalls.Deny, Errno: unix.ENOSYS},
}

// privilegedNote is the note `syscage syscalls --privileged` shows for
// the calls privilegedRules changes.
var privilegedNote = map[syscalls.Tier]string{
	syscalls.Check: "privileged: checked; the kernel goes on only for a caller in its own mount namespace (never the host's)",
	syscalls.Deny:  "privileged: ENOSYS, as before Linux 5.2, so mount(8) falls back to mount(2)",
}

// Privileged is p as a privileged container gets it: for the built-in
// profiles default and strict, privilegedRules replace their rules for
// the mount family. A profile file (its own rules decide: it may check
// mount and umount2, and the sentry runs the same hook), learn mode and
// an already privileged profile are returned as they are.
func Privileged(p *Profile) *Profile {
	if p.Source != "" || p.Learning || p.Privileged || !IsBuiltin(p.Name) {
		return p
	}
	q := *p
	base := p.ruleFor
	q.ruleFor = func(e *syscalls.Entry, c syscalls.Caps) syscalls.Rule {
		if r, ok := privilegedRules[e.Name]; ok {
			return r
		}
		return base(e, c)
	}
	q.Privileged = true
	return &q
}

// PrivilegedNote is the note of a call whose rule Privileged changed,
// "" for every other call or profile.
func (p *Profile) PrivilegedNote(e *syscalls.Entry) string {
	if !p.Privileged {
		return ""
	}
	r, ok := privilegedRules[e.Name]
	if !ok {
		return ""
	}
	return privilegedNote[r.Tier]
}
