package syscalls

import "golang.org/x/sys/unix"

// Mounts: what a privileged container may do with its own mount tree.
//
// Under the built-in profiles mount and umount2 are denied, except in a
// privileged container (one whose configuration grants CAP_SYS_ADMIN;
// policy.Privileged), where they are checked: MountCheck lets the kernel
// go on only for a caller in a mount namespace of its own. The kernel
// then applies its own rules, which keep every change inside the
// caller's mount namespace: it wants CAP_SYS_ADMIN over the user
// namespace that owns that mount namespace, and refuses (EINVAL) a
// target, a bind source or a moved mount that lies in another mount
// namespace (reached through /proc/<pid>/root, say). What could still
// leave the namespace is propagation: a container mount in a peer group
// shared with the host's. The runtime prevents that at create (shared
// and rshared become slave and rslave: internal/container), so nothing a
// container mounts reaches the host.

// MountCheck runs for the checked mount and umount2 before the kernel
// goes on with them. It decides on a value-free fact about the caller —
// which mount namespace it is in — never on the call's paths, flags or
// data, which stay in the caller's memory and which the kernel reads
// after the check: so the decision cannot be undone by rewriting memory,
// and letting the kernel continue is sound (the one rule, design.md, is
// about decisions that depend on memory). A caller that shares the host's
// mount namespace gets EPERM: its mounts would be the host's.
func MountCheck(t Task, args [6]uint64, env *Env) Result {
	own, err := t.OwnMountNS()
	if err != nil {
		return Result{Errno: unix.ESRCH}
	}
	if !own {
		return Result{Errno: unix.EPERM}
	}
	return Result{}
}
