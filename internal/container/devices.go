package container

// The cgroup managers apply device rules only when the devices controller
// package is linked in; without it every container with device rules (all
// of them) fails to start.
import _ "github.com/opencontainers/cgroups/devices"
