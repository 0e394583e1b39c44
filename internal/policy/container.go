package policy

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// ContainerFilter is the seccomp section a container runs under: the named
// profile compiled for the container's agent socket, merged with the
// seccomp section the container's config already has (theirs, may be nil).
//
// With audit on, the profile's own denials are notified instead of being
// answered in the filter, so the sentry sees and records each one (it
// answers with the same errno: the profile's decision does not change,
// only who delivers it). Their denials stay in the filter: Merge ranks a
// deny above a notify.
func ContainerFilter(name string, theirs *specs.LinuxSeccomp, listenerPath string, audit bool) (*specs.LinuxSeccomp, error) {
	p, err := Builtin(name)
	if err != nil {
		return nil, err
	}
	ours, err := Compile(p, listenerPath)
	if err != nil {
		return nil, err
	}
	if audit {
		notifyDenials(ours, listenerPath)
	}
	merged, err := Merge(ours, theirs)
	if err != nil {
		return nil, fmt.Errorf("combining profile %s with the container's seccomp section: %w", name, err)
	}
	return merged, nil
}

// notifyDenials turns the errno rules of a compiled profile into notify
// rules. The default action (numbers the table does not have) stays in
// the filter.
func notifyDenials(s *specs.LinuxSeccomp, listenerPath string) {
	for i := range s.Syscalls {
		if s.Syscalls[i].Action == specs.ActErrno {
			s.Syscalls[i].Action = specs.ActNotify
			s.Syscalls[i].ErrnoRet = nil
		}
	}
	s.ListenerPath = listenerPath
}
