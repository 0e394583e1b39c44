package container

import (
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// normalizeSpec smooths over two places where libcontainer is stricter
// than the runtime spec and than earlier runc releases, without changing
// what the container gets:
//
//   - a FIFO device ("p") has no device numbers; the spec does not require
//     them and the kernel ignores them, so any given are dropped;
//   - a bind mount takes no file-system data options (the kernel ignores
//     the data of MS_BIND), so key=value options (mode=755, size=1k) are
//     dropped from bind mounts, with a warning naming them. Bare words
//     (flags, propagation, idmap) are left to libcontainer.
func normalizeSpec(spec *specs.Spec) {
	if spec.Linux != nil {
		for i := range spec.Linux.Devices {
			if d := &spec.Linux.Devices[i]; d.Type == "p" {
				d.Major, d.Minor = 0, 0
			}
		}
	}
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		if m.Type != "bind" && !slices.Contains(m.Options, "bind") && !slices.Contains(m.Options, "rbind") {
			continue
		}
		var kept, dropped []string
		for _, o := range m.Options {
			if strings.Contains(o, "=") {
				dropped = append(dropped, o)
			} else {
				kept = append(kept, o)
			}
		}
		if len(dropped) > 0 {
			logrus.Warnf("mount %s: bind mounts take no file-system options; ignoring %v", m.Destination, dropped)
			m.Options = kept
		}
	}
}
