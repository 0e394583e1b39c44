package main

import (
	"os"

	"github.com/opencontainers/runc/libcontainer"
	// nsenter's C constructor runs before the Go runtime when this binary
	// is re-executed as "syscage init" inside the new namespaces.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

func init() {
	// libcontainer re-executes /proc/self/exe with the argument "init" to
	// set up the container from the inside; nothing else of syscage runs then.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
}
