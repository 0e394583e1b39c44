// Package version holds syscage's version, set at build time.
package version

import (
	"fmt"
	"runtime"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/seccomp/libseccomp-golang"
)

// Version is syscage's release; the Makefile overrides it with -ldflags.
var Version = "0.1.0-dev"

// Commit is the git commit the binary was built from, if known.
var Commit = ""

// String renders the multi-line text printed by `syscage --version`, in the
// layout containerd and other runc clients parse (version, commit, spec).
func String() string {
	major, minor, micro := seccomp.GetLibraryVersion()
	s := fmt.Sprintf("syscage version %s\n", Version)
	if Commit != "" {
		s += fmt.Sprintf("commit: %s\n", Commit)
	}
	s += fmt.Sprintf("spec: %s\ngo: %s\nlibseccomp: %d.%d.%d", specs.Version, runtime.Version(), major, minor, micro)
	return s
}
