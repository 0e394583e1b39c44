package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/opencontainers/runc/libcontainer/capabilities"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	runcfeatures "github.com/opencontainers/runc/types/features"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli"
)

func init() {
	commands = append(commands, cli.Command{
		Name:  "features",
		Usage: "print the OCI features document (what this build supports) as JSON",
		Action: func(ctx *cli.Context) error {
			if err := argCount(ctx, 0, 0); err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			return enc.Encode(featuresDoc())
		},
	})
}

// featuresDoc describes what this binary supports, independent of the
// host (https://github.com/opencontainers/runtime-spec/blob/main/features.md).
func featuresDoc() *features.Features {
	yes, no := true, false
	f := &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         configs.KnownHookNames(),
		MountOptions:  specconv.KnownMountOptions(),
		Annotations: map[string]string{
			// Checkpoint/restore (CRIU) is not implemented by syscage.
			runcfeatures.AnnotationRuncCheckpointEnabled: "false",
		},
		Linux: &features.Linux{
			Namespaces:   specconv.KnownNamespaces(),
			Capabilities: capabilities.KnownCapabilities(),
			Cgroup: &features.Cgroup{
				V1:      &yes,
				V2:      &yes,
				Systemd: &yes,
				// Rootless with --systemd-cgroup: libcontainer's systemd
				// driver through the user's systemd instance (delegation).
				SystemdUser: &yes,
				Rdma:        &yes,
			},
			Apparmor:        &features.Apparmor{Enabled: &yes},
			Selinux:         &features.Selinux{Enabled: &yes},
			IntelRdt:        &features.IntelRdt{Enabled: &yes},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
		},
		// Annotations that change how the host is touched (the bundle
		// label, systemd unit properties), so a caller may filter them.
		// dev.syscage.* choose the sandbox (profile, audit): a client should
		// let only trusted parties set them.
		PotentiallyUnsafeConfigAnnotations: []string{"bundle", "org.systemd.property.", "dev.syscage."},
	}
	for k, v := range rootlessLimits {
		f.Annotations[k] = v
	}
	// The runc release whose libcontainer we are built on: the runc
	// behaviour a client can expect.
	if v := moduleVersion("github.com/opencontainers/runc"); v != "" {
		f.Annotations[runcfeatures.AnnotationRuncVersion] = v
	}
	if seccomp.Enabled {
		f.Linux.Seccomp = &features.Seccomp{
			Enabled:        &yes,
			Actions:        seccomp.KnownActions(),
			Operators:      seccomp.KnownOperators(),
			Archs:          seccomp.KnownArchs(),
			KnownFlags:     seccomp.KnownFlags(),
			SupportedFlags: seccomp.SupportedFlags(),
		}
		major, minor, patch := seccomp.Version()
		f.Annotations[runcfeatures.AnnotationLibseccompVersion] = fmt.Sprintf("%d.%d.%d", major, minor, patch)
	} else {
		f.Linux.Seccomp = &features.Seccomp{Enabled: &no}
	}
	return f
}

// moduleVersion returns the version (without "v") of a dependency
// compiled into this binary, or "" when unknown.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, m := range bi.Deps {
		if m.Path == path {
			if m.Replace != nil {
				m = m.Replace
			}
			return strings.TrimPrefix(m.Version, "v")
		}
	}
	return ""
}

// rootlessLimits says, as annotations of the features document, what a
// rootless syscage (started without root, or as root of a user namespace
// such as rootless Podman's) cannot offer that a root one does
// (docs/workstation.md, "Rootless").
var rootlessLimits = map[string]string{
	"dev.syscage.rootless.cgroups":         "resource limits only where systemd delegates a cgroup to the user (--systemd-cgroup in a systemd user session); otherwise none are applied (run warns, do refuses --memory and --cpus)",
	"dev.syscage.rootless.kernel-identity": "for a user (euid not 0): /proc/version and /proc/sys/kernel/{osrelease,version} are masked (read empty) instead of showing the sandbox's release; uname is still answered by the sentry",
	"dev.syscage.rootless.sentry":          "the sentry and its watchdog run as the user, with no capabilities to drop, and keep the ordinary OOM score",
	"dev.syscage.rootless.namespaces":      "a user needs a user namespace in the config (syscage spec --rootless); ids beyond the user's own need /etc/subuid, /etc/subgid and newuidmap",
}
