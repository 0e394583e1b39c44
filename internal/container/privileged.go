package container

import (
	"fmt"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// What the node's Config.Privileged may say.
const (
	// PrivilegedSandboxed runs a privileged container within the
	// sandbox's bounds (the default).
	PrivilegedSandboxed = "sandboxed"
	// PrivilegedRefuse fails the create of a privileged container.
	PrivilegedRefuse = "refuse"
)

// privilegedCapability is the capability that makes a container
// privileged for syscage: it is what mount(2) and the rest of the
// kernel's administration want, what Kubernetes' privileged: true and
// Docker's --privileged grant, and what Docker's own seccomp profile
// opens the mount family for.
const privilegedCapability = "CAP_SYS_ADMIN"

// isPrivileged reports whether the container's configuration grants
// CAP_SYS_ADMIN in any of its process's capability sets (the union, so
// no spelling of the grant escapes the node's setting). Whether the
// process is root, or root in a user namespace, does not matter: the
// capability is over whatever namespaces the container owns.
func isPrivileged(spec *specs.Spec) bool {
	if spec.Process == nil {
		return false
	}
	if spec.Process.Capabilities == nil {
		return true // libcontainer leaves the process every capability
	}
	c := spec.Process.Capabilities
	for _, set := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
		if slices.Contains(set, privilegedCapability) {
			return true
		}
	}
	return false
}

// ownUserNamespace reports whether the container runs in a user namespace
// other than the runtime's: a new one, or one it joins by path that is not
// ours. Only there is a privileged container's CAP_SYS_ADMIN over its own
// namespaces rather than the host's, and only there may it mount: with
// CAP_SYS_ADMIN over the host's user namespace, mount(2) makes new
// instances of kernel-wide file systems (proc with writable sysctls,
// devtmpfs, sysfs) and lifts the runtime's masks, which is the host's root
// whatever mount namespace it happens in.
func ownUserNamespace(spec *specs.Spec) bool {
	if spec.Linux == nil {
		return false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type != specs.UserNamespace {
			continue
		}
		if ns.Path == "" {
			return true
		}
		var theirs, ours unix.Stat_t
		if unix.Stat(ns.Path, &theirs) != nil || unix.Stat("/proc/self/ns/user", &ours) != nil {
			return false
		}
		return theirs.Dev != ours.Dev || theirs.Ino != ours.Ino
	}
	return false
}

// admitPrivileged is the node's decision on a privileged container: nil
// to run it within the sandbox's bounds, or the error create fails with,
// naming the setting that would allow it. It reads the administrator's
// configuration only; nothing in the bundle or its annotations changes it.
func (c Config) admitPrivileged() error {
	if c.Privileged != PrivilegedRefuse {
		return nil
	}
	return fmt.Errorf("privileged container refused: its config grants %s, and this node refuses privileged containers (\"privileged\": %q in %s; %q runs them within the sandbox's bounds: docs/profiles.md, \"Privileged containers\")",
		privilegedCapability, PrivilegedRefuse, c.source(), PrivilegedSandboxed)
}

// slaveOf is the propagation a container gets instead of a shared one.
var slaveOf = map[string]string{"shared": "slave", "rshared": "rslave"}

// keepMountsHome makes every shared propagation in the spec a slave one:
// the root's (linux.rootfsPropagation) and each mount's option. A shared
// mount in the container would sit in a peer group with the host's, and
// what the container mounts under it would appear on the host (Kubernetes'
// Bidirectional mount propagation). As a slave it still receives what the
// host mounts there (HostToContainer), and nothing goes back. Each change
// is logged as a warning; docs/profiles.md states the rule.
func keepMountsHome(spec *specs.Spec) {
	if spec.Linux != nil {
		if s, ok := slaveOf[spec.Linux.RootfsPropagation]; ok {
			logrus.Warnf("linux.rootfsPropagation %s: %s instead (nothing a container mounts propagates to the host)", spec.Linux.RootfsPropagation, s)
			spec.Linux.RootfsPropagation = s
		}
	}
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		for j, o := range m.Options {
			if s, ok := slaveOf[o]; ok {
				logrus.Warnf("mount %s: propagation %s: %s instead (nothing a container mounts propagates to the host)", m.Destination, o, s)
				m.Options[j] = s
			}
		}
	}
}
