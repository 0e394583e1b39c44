package container

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// TestContainerCaps: the profile's capability set is the union of the
// process's sets; unknown names and names libcontainer would not take
// (lower case) are left out; a missing section is every capability, as
// libcontainer then leaves the process all of them.
func TestContainerCaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *specs.Process
		want syscalls.Caps
	}{
		{"no process", nil, 0},
		{"no capabilities section", &specs.Process{}, allCaps()},
		{"lower case, as libcontainer ignores it", &specs.Process{Capabilities: &specs.LinuxCapabilities{
			Bounding: []string{"cap_sys_nice", "Cap_Net_Admin", "CAP_KILL"},
		}}, 1 << unix.CAP_KILL},
		{"bounding only", &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_NET_ADMIN"}}},
			1 << unix.CAP_NET_ADMIN},
		{"union of the sets", &specs.Process{Capabilities: &specs.LinuxCapabilities{
			Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_SYS_NICE"}, Ambient: []string{"CAP_NET_ADMIN"},
		}}, 1<<unix.CAP_KILL | 1<<unix.CAP_SYS_NICE | 1<<unix.CAP_NET_ADMIN},
		{"unknown name ignored", &specs.Process{Capabilities: &specs.LinuxCapabilities{
			Bounding: []string{"CAP_FUTURE_THING", "CAP_SYS_ADMIN"},
		}}, 1 << unix.CAP_SYS_ADMIN},
	} {
		if got := containerCaps(tc.p); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got.Names(), tc.want.Names())
		}
	}
}
