package container

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Annotations that configure the sandbox from an OCI config, so a
// Kubernetes pod or a RuntimeClass can choose without runtime flags.
const (
	AnnotationProfile       = "dev.syscage.profile"
	AnnotationKernelRelease = "dev.syscage.kernel-release"
	AnnotationStrace        = "dev.syscage.strace"
)

// Defaults for the kernel identity a container sees: Debian 12's release
// line, never the host's own build.
const (
	DefaultProfile       = "default"
	DefaultKernelRelease = "6.1.0-syscage"
	DefaultKernelVersion = "#1 SMP PREEMPT_DYNAMIC syscage"
)

// SandboxOptions are the command-line settings of a container's sandbox;
// empty fields fall back to the OCI annotations, then to the defaults.
type SandboxOptions struct {
	Profile       string // --profile
	KernelRelease string // --kernel-release
	Audit         bool   // --strace
	AuditPath     string // --strace-log
}

// sandbox is the resolved configuration of a container's sentry.
type sandbox struct {
	Profile       string
	KernelRelease string
	KernelVersion string
	AuditPath     string // empty: auditing off
}

// resolveSandbox applies flag > annotation > default for each setting.
func resolveSandbox(o SandboxOptions, spec *specs.Spec, stateDir string) (sandbox, error) {
	ann := spec.Annotations
	sb := sandbox{
		Profile:       first(o.Profile, ann[AnnotationProfile], DefaultProfile),
		KernelRelease: first(o.KernelRelease, ann[AnnotationKernelRelease], DefaultKernelRelease),
		KernelVersion: DefaultKernelVersion,
	}
	if strings.ContainsAny(sb.KernelRelease, "\n\x00") || len(sb.KernelRelease) > 64 {
		return sb, fmt.Errorf("kernel release %q: must be one line of at most 64 bytes", sb.KernelRelease)
	}
	switch {
	case o.AuditPath != "":
		sb.AuditPath = o.AuditPath
	case o.Audit:
		sb.AuditPath = filepath.Join(stateDir, "audit.jsonl")
	default:
		switch v := ann[AnnotationStrace]; v {
		case "", "false", "0":
		case "true", "1":
			sb.AuditPath = filepath.Join(stateDir, "audit.jsonl")
		default:
			if !filepath.IsAbs(v) {
				return sb, fmt.Errorf("annotation %s=%q: must be true, false or an absolute path", AnnotationStrace, v)
			}
			sb.AuditPath = v
		}
	}
	if sb.AuditPath != "" && !filepath.IsAbs(sb.AuditPath) {
		abs, err := filepath.Abs(sb.AuditPath)
		if err != nil {
			return sb, err
		}
		sb.AuditPath = abs
	}
	return sb, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// sandboxMaskedPaths are host facts no container needs, masked (bound to
// /dev/null by libcontainer) in addition to what the config masks:
// the kernel image's build id and version notes, the host-wide key quota
// table (it counts every container's keyrings), the kernel log (readable
// with CAP_SYSLOG even though syslog(2) is denied) and the host's boot
// command line.
var sandboxMaskedPaths = []string{
	"/sys/kernel/notes",
	"/proc/key-users",
	"/proc/kmsg",
	"/proc/cmdline",
}

// maskHostFacts adds sandboxMaskedPaths to the spec's masked paths, for a
// container with a mount namespace of its own (masking in a shared one
// would hide the files from everyone in it; libcontainer refuses that).
func maskHostFacts(spec *specs.Spec) {
	if !newNamespace(spec, specs.MountNamespace) {
		return
	}
	for _, p := range sandboxMaskedPaths {
		if !slices.Contains(spec.Linux.MaskedPaths, p) {
			spec.Linux.MaskedPaths = append(spec.Linux.MaskedPaths, p)
		}
	}
}
