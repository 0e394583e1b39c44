package policy

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// ContainerFilter is the seccomp section a container runs under: the
// profile compiled for the container's agent socket, merged with the
// seccomp section the container's config already has (theirs, may be nil).
//
// With audit on, the profile's own denials are notified instead of being
// answered in the filter, so the sentry sees and records each one (it
// answers with the same errno: the profile's decision does not change,
// only who delivers it). Their denials stay in the filter: Merge ranks a
// deny above a notify. For a file profile that denies what it does not
// list, the argument values its conditional entries leave out get deny
// rules of their own for this (complement.go).
func ContainerFilter(p *Profile, theirs *specs.LinuxSeccomp, listenerPath string, audit bool) (*specs.LinuxSeccomp, error) {
	ours, err := compile(p, listenerPath, audit)
	if err != nil {
		return nil, err
	}
	if audit {
		notifyDenials(ours, listenerPath)
	}
	merged, err := Merge(ours, theirs)
	if err != nil {
		return nil, fmt.Errorf("combining profile %s with the container's seccomp section: %w", p.Name, err)
	}
	return merged, nil
}

// notifyDenials makes every ERRNO rule a notification: the sentry decides
// it the same way (Profile.Decide) and writes an audit event. The default
// action stays an errno (libcontainer refuses a notifying default): a
// number outside the table, and a call whose arguments match none of its
// entry's cases when complement could not spell them out, are refused
// without an event.
func notifyDenials(s *specs.LinuxSeccomp, listenerPath string) {
	for i := range s.Syscalls {
		if s.Syscalls[i].Action == specs.ActErrno {
			s.Syscalls[i].Action = specs.ActNotify
			s.Syscalls[i].ErrnoRet = nil
		}
	}
	s.ListenerPath = listenerPath
}
