package container

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/kernelcheck"
	"github.com/syscage/syscage/internal/policy"
	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// Annotations that configure the sandbox from an OCI config, so a
// Kubernetes pod or a RuntimeClass can choose without runtime flags. They
// are the pod author's, not trusted (docs/security.md, "Threat model"):
// none of them names a path on the node.
const (
	// AnnotationProfile names a profile the administrator's Config lets
	// annotations choose: a built-in, learn, or a file of the profile
	// directory by name (annotationProfile).
	AnnotationProfile = "dev.syscage.profile"
	// AnnotationKernelRelease is the release the container sees (one
	// line, at most 64 bytes).
	AnnotationKernelRelease = "dev.syscage.kernel-release"
	// AnnotationStrace turns auditing on or off: true, false, 1 or 0.
	AnnotationStrace = "dev.syscage.strace"
	// AnnotationLearnedProfile says where learn mode writes the profile:
	// a file name, or an absolute path, inside LearnedDir (a pod must not
	// choose where on the host a root process writes).
	AnnotationLearnedProfile = "dev.syscage.learned-profile"
	// AnnotationResourceViews turns the container's resource views off
	// (false or 0): it then sees the host's memory, CPUs, uptime and
	// load. It cannot turn on what the profile turned off (true or 1
	// leaves the profile's choice).
	AnnotationResourceViews = "dev.syscage.resource-views"
)

// ConfigFile is the administrator's configuration file (Config).
const ConfigFile = "/etc/syscage/config.json"

// LearnedDir is where learned profiles named by the annotation go.
const LearnedDir = "/var/lib/syscage/learned"

// Files in a container's state dir.
const (
	// profileCopy is the validated copy of a file profile the sentry loads,
	// so a later edit of the original cannot make the two disagree.
	profileCopy = "profile.json"
	// learnedInState is where learn mode writes without a path given.
	learnedInState = "learned-profile.json"
	// sandboxRecord records the resolved sandbox for `state`.
	sandboxRecord = "sandbox.json"
)

// Defaults for the kernel identity a container sees.
const (
	DefaultProfile       = "default"
	DefaultKernelVersion = "#1 SMP PREEMPT_DYNAMIC syscage"
	// DefaultReleaseRule says what DefaultKernelRelease reports, for
	// help texts.
	DefaultReleaseRule = "the host's MAJOR.MINOR.0-syscage"
)

// DefaultKernelRelease is the release a container sees unless a flag, an
// annotation or its profile pins one: the host's major and minor version
// — the feature level, which software uses to decide what the kernel
// can do (mseal, guard pages, F_CREATED_QUERY ...) — with the patch
// level, build number and local version replaced: "6.18.44-fc-v1272"
// reads "6.18.0-syscage". The build is what identifies a host (and its
// unpatched bugs); the feature level is visible anyway (the vDSO's note,
// which calls exist).
var DefaultKernelRelease = sync.OnceValue(func() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fallbackKernelRelease
	}
	return releaseRule(unix.ByteSliceToString(u.Release[:]))
})

// fallbackKernelRelease is reported if the host's release cannot be read
// or parsed: Debian 12's line.
const fallbackKernelRelease = "6.1.0-syscage"

// releaseRule maps a host release to the one a container sees.
func releaseRule(host string) string {
	major, minor, err := kernelcheck.ParseRelease(host)
	if err != nil {
		return fallbackKernelRelease
	}
	return fmt.Sprintf("%d.%d.0-syscage", major, minor)
}

// SandboxOptions are the command-line settings of a container's sandbox;
// empty fields fall back to the OCI annotations, then to the defaults.
type SandboxOptions struct {
	Profile        string // --profile: a built-in name, learn, or a file
	DefaultProfile string // the runtime's configured default (--default-profile, config file)
	LearnedProfile string // --learned-profile
	KernelRelease  string // --kernel-release
	Audit          bool   // --strace
	AuditPath      string // --strace-log
	// Config is the administrator's configuration: what annotations may
	// choose, and where files they cause to be read or written live.
	Config Config
}

// sandbox is the resolved configuration of a container's sentry.
type sandbox struct {
	Profile       *policy.Profile
	ProfileRef    string // what was chosen: a name or a file path
	LearnedPath   string // learn mode: where the learned profile goes
	KernelRelease string
	KernelVersion string
	AuditPath     string // empty: auditing off
	// Caps is the container's capability set the profile is for
	// (containerCaps); the sentry gets it too.
	Caps syscalls.Caps
	// SentryIDs is the range the sentry's id is taken from, and SentryID
	// that id once create has allocated it (allocateSentryID).
	SentryIDs IDRange
	SentryID  uint32
	// Privileged: the config grants CAP_SYS_ADMIN (isPrivileged); its
	// mounts are open only in a user namespace of its own
	// (Profile.Privileged).
	Privileged bool
	// Views: the container is shown its own resources (sysinfo emulated,
	// the views server's files over /proc). Off, Profile passes sysinfo.
	Views bool
}

// resolveSandbox applies flag > annotation > configured default > built-in
// default for the profile, and flag > annotation > profile file > default
// for the kernel release and audit. A profile file is loaded and validated
// here, before anything is created.
//
// Flags and the configured default are trusted (the operator's command
// line, the administrator's configuration) and may name any file. The
// annotations are not (in Kubernetes, the pod's author writes them): the
// profile annotation names one of the profiles o.Config lets annotations
// choose, a file only inside the profile directory (annotationProfile);
// the strace annotation is a switch, the file it turns on is the
// runtime's choice.
func resolveSandbox(o SandboxOptions, spec *specs.Spec, stateDir string) (sandbox, error) {
	ann := spec.Annotations
	sb := sandbox{KernelVersion: DefaultKernelVersion, SentryIDs: o.Config.sentryIDs()}
	privileged := isPrivileged(spec)
	if privileged {
		if err := o.Config.admitPrivileged(); err != nil {
			return sb, err
		}
	}
	var (
		p   *policy.Profile
		err error
	)
	if v := ann[AnnotationProfile]; o.Profile == "" && v != "" {
		sb.ProfileRef = v
		p, err = annotationProfile(v, o.Config, o.DefaultProfile)
	} else {
		sb.ProfileRef = first(o.Profile, o.DefaultProfile, DefaultProfile)
		p, err = policy.Resolve(sb.ProfileRef)
	}
	if err != nil {
		return sb, err
	}
	sb.Privileged = privileged
	if privileged {
		if ownUserNamespace(spec) {
			p = policy.Privileged(p)
		} else {
			logrus.Warnf("privileged container without a user namespace of its own: mount and umount2 stay refused (CAP_SYS_ADMIN over the host's user namespace would make a mount a change to the host: docs/profiles.md, \"Privileged containers\")")
		}
	}
	sb.Profile = p
	sb.KernelRelease = first(o.KernelRelease, ann[AnnotationKernelRelease], p.KernelRelease, DefaultKernelRelease())
	if p.Learning {
		if sb.LearnedPath, err = learnedPath(o.LearnedProfile, ann[AnnotationLearnedProfile], criContainer(ann), criNamespace(ann), stateDir); err != nil {
			return sb, err
		}
	} else if o.LearnedProfile != "" {
		return sb, fmt.Errorf("--learned-profile %s: only with --profile %s (the profile is %s)", o.LearnedProfile, policy.Learn, sb.ProfileRef)
	}
	if strings.ContainsAny(sb.KernelRelease, "\n\x00") || len(sb.KernelRelease) > 64 {
		return sb, fmt.Errorf("kernel release %q: must be one line of at most 64 bytes", sb.KernelRelease)
	}
	if sb.Views, err = resourceViews(p, ann[AnnotationResourceViews]); err != nil {
		return sb, err
	}
	if !sb.Views {
		sb.Profile = p.WithoutResourceViews()
	}
	audit := o.Audit
	if !audit {
		switch v := ann[AnnotationStrace]; v {
		case "":
			audit = p.Audit != nil && *p.Audit
		case "false", "0":
			// Off only as far as the annotation goes: a profile's
			// "audit": true (the administrator's or operator's) stands.
			audit = p.Audit != nil && *p.Audit
		case "true", "1":
			audit = true
		default:
			return sb, fmt.Errorf("annotation %s=%q: must be true or false (1 or 0); it turns auditing on, and where the audit stream goes is the runtime's choice, never a path the annotation gives", AnnotationStrace, v)
		}
	}
	switch {
	case o.AuditPath != "":
		if sb.AuditPath, err = filepath.Abs(o.AuditPath); err != nil {
			return sb, fmt.Errorf("--strace-log %s: %w", o.AuditPath, err)
		}
	case audit && o.Config.AuditDir != "":
		if fi, err := os.Stat(o.Config.AuditDir); err != nil || !fi.IsDir() {
			return sb, fmt.Errorf("auditing into auditDir %s (%s): not a directory", o.Config.AuditDir, o.Config.source())
		}
		sb.AuditPath = filepath.Join(o.Config.AuditDir, filepath.Base(stateDir)+".jsonl")
	case audit:
		sb.AuditPath = filepath.Join(stateDir, "audit.jsonl")
	}
	return sb, nil
}

// resourceViews decides whether a container is shown its own resources:
// on unless its profile's "resourceViews" or the annotation turns them
// off. The annotation may only turn them off: that shows the workload the
// host's totals and load, which are not secrets the views keep (procfs
// and sysfs have them elsewhere: /proc/vmstat, /proc/zoneinfo,
// /sys/devices/system/node); the views are for sizing, not hiding.
func resourceViews(p *policy.Profile, annotation string) (bool, error) {
	switch annotation {
	case "", "true", "1":
		return p.ViewsOn(), nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("annotation %s=%q: must be true or false (1 or 0)", AnnotationResourceViews, annotation)
}

// annotationProfile is the profile the annotation dev.syscage.profile
// chooses: a name (never a path) among those the administrator's
// configuration lets annotations choose (Config.AnnotationProfiles); a
// name that is not a built-in or learn is the file <name>.json in the
// profile directory, opened without following symbolic links or leaving
// the directory (policy.LoadFileInDir).
func annotationProfile(v string, c Config, defaultRef string) (*policy.Profile, error) {
	key, file := v, ""
	if v != policy.Learn && !policy.IsBuiltin(v) {
		var err error
		if file, err = policy.DirName(v); err != nil {
			return nil, fmt.Errorf("annotation %s: %w (a pod chooses a profile by name; files are in the administrator's %s)", AnnotationProfile, err, c.profileDir())
		}
		key = strings.TrimSuffix(file, ".json")
	}
	if !c.allowsAnnotation(key, defaultRef) {
		what := "profile"
		if key == policy.Learn {
			what = "learn mode (it lets every call run while it records)"
		}
		return nil, fmt.Errorf("annotation %s=%q: the administrator does not let annotations choose this %s (annotationProfiles in %s: %q)",
			AnnotationProfile, v, what, c.source(), c.annotationProfiles(defaultRef))
	}
	if file == "" {
		return policy.Resolve(v)
	}
	p, err := policy.LoadFileInDir(c.profileDir(), file)
	if err != nil {
		return nil, fmt.Errorf("annotation %s=%q: %w", AnnotationProfile, v, err)
	}
	return p, nil
}

// k8sName is a Kubernetes namespace name (an RFC 1123 label).
var k8sName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// criNamespace is the Kubernetes namespace of a CRI pod's container (set
// by the CRI plugin, not by the pod's author); "" outside CRI.
func criNamespace(ann map[string]string) string {
	return ann["io.kubernetes.cri.sandbox-namespace"]
}

// criContainer names a container of a CRI pod: its container name, or
// "sandbox" for the pod's sandbox (pause) container; "" outside CRI.
// A pod annotation reaches every container of the pod, the sandbox too.
func criContainer(ann map[string]string) string {
	if ann["io.kubernetes.cri.container-type"] == "sandbox" {
		return "sandbox"
	}
	return ann["io.kubernetes.cri.container-name"]
}

// learnedPath is where learn mode writes: the flag (any path; the caller
// is the runtime's user), else the annotation (inside LearnedDir only;
// in a CRI pod, whose containers all get the annotation, the container's
// name is put before the extension: web.json → web.<container>.json),
// else the state dir. The directory must exist.
func learnedPath(flag, annotation, criName, criNamespace, stateDir string) (string, error) {
	switch {
	case flag != "":
		abs, err := filepath.Abs(flag)
		if err != nil {
			return "", err
		}
		if fi, err := os.Stat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("--learned-profile %s: directory %s does not exist", flag, filepath.Dir(abs))
		}
		return abs, nil
	case annotation != "":
		p := annotation
		if !filepath.IsAbs(p) {
			p = filepath.Join(LearnedDir, p)
		}
		p = filepath.Clean(p)
		if filepath.Dir(p) != LearnedDir || strings.HasPrefix(filepath.Base(p), ".") || strings.ContainsRune(p, 0) {
			return "", fmt.Errorf("annotation %s=%q: must be a file name in %s", AnnotationLearnedProfile, annotation, LearnedDir)
		}
		if criName != "" && !strings.ContainsAny(criName, "/\x00") {
			ext := filepath.Ext(p)
			p = strings.TrimSuffix(p, ext) + "." + criName + ext
		}
		// A pod of one Kubernetes namespace (one tenant) must not replace
		// the learned profile of another's that chose the same name: each
		// namespace learns into a directory of its own.
		if criNamespace != "" {
			if !k8sName.MatchString(criNamespace) {
				return "", fmt.Errorf("annotation %s: the pod's namespace %q is not a Kubernetes namespace name", AnnotationLearnedProfile, criNamespace)
			}
			p = filepath.Join(LearnedDir, criNamespace, filepath.Base(p))
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("annotation %s: %w", AnnotationLearnedProfile, err)
		}
		return p, nil
	}
	return filepath.Join(stateDir, learnedInState), nil
}

// sentryProfileArg is the --profile the sentry gets: a built-in name, or
// the copy of the file profile in the state dir (writeProfileCopy).
func (sb sandbox) sentryProfileArg(stateDir string) string {
	if sb.Profile.Source != "" {
		return filepath.Join(stateDir, profileCopy)
	}
	return sb.Profile.Name
}

// SandboxRecord is what `state` reports about a container's sandbox.
type SandboxRecord struct {
	Profile        string `json:"profile"`
	ProfileFile    string `json:"profileFile,omitempty"`
	LearnedProfile string `json:"learnedProfile,omitempty"`
	// Privileged: the container is privileged (its config grants
	// CAP_SYS_ADMIN) and runs within the sandbox's bounds;
	// PrivilegedMounts says whether it may mount (only in a user
	// namespace of its own: policy.Privileged).
	Privileged       bool   `json:"privileged,omitempty"`
	PrivilegedMounts string `json:"privilegedMounts,omitempty"`
	// SentryServesFrom is the pid namespace the sentry serves from: the
	// container's, or the runtime's and why (sentryPlace); empty until the
	// sentry has started.
	SentryServesFrom string `json:"sentryServesFrom,omitempty"`
}

// writeSandboxFiles writes the profile copy and the sandbox record into
// the (new) state dir.
func writeSandboxFiles(stateDir string, sb sandbox) error {
	rec := SandboxRecord{Profile: sb.Profile.Name, ProfileFile: sb.Profile.Source, LearnedProfile: sb.LearnedPath, Privileged: sb.Privileged}
	switch {
	case sb.Privileged && sb.Profile.Privileged:
		rec.PrivilegedMounts = "in its own user and mount namespaces"
	case sb.Privileged:
		rec.PrivilegedMounts = "refused: no user namespace of its own"
	}
	if f := sb.Profile.File(); f != nil {
		data, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(stateDir, profileCopy), data, 0o600); err != nil {
			return fmt.Errorf("copying profile %s: %w", sb.Profile.Source, err)
		}
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(stateDir, sandboxRecord), data, 0o600)
}

// SandboxOf reads a container's sandbox record (nil if it has none).
func (rt *Runtime) SandboxOf(id string) *SandboxRecord {
	data, err := os.ReadFile(filepath.Join(rt.Root, id, sandboxRecord))
	if err != nil {
		return nil
	}
	var rec SandboxRecord
	if json.Unmarshal(data, &rec) != nil {
		return nil
	}
	if place, err := os.ReadFile(filepath.Join(rt.Root, id, sentryPlaceFile)); err == nil {
		rec.SentryServesFrom = string(place)
	}
	return &rec
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// sandboxMaskedPaths are host facts no container needs, masked (a file
// bound to /dev/null, a directory covered by an empty read-only tmpfs, by
// libcontainer; a path the host lacks is skipped) in addition to what the
// config masks:
//
//   - what names the host's exact kernel build, which an exploit needs to
//     pick its offsets and a workload has no use for (uname is emulated):
//     the kernel image's build id and version notes (/sys/kernel/notes),
//     its configuration (/proc/config.gz), its type information, struct
//     layouts included (/sys/kernel/btf: vmlinux and every module), and
//     Ubuntu's package version line (/proc/version_signature);
//   - the host's memory layout: the physical address of the crash-dump
//     note (/sys/kernel/vmcoreinfo) and the boot protocol's parameters,
//     e820 map included (/sys/kernel/boot_params);
//   - the host-wide key quota table (it counts every container's
//     keyrings), the kernel log (readable with CAP_SYSLOG even though
//     syslog(2) is denied) and the host's boot command line.
var sandboxMaskedPaths = []string{
	"/sys/kernel/notes",
	"/proc/config.gz",
	"/sys/kernel/btf",
	"/proc/version_signature",
	"/sys/kernel/vmcoreinfo",
	"/sys/kernel/boot_params",
	"/proc/key-users",
	"/proc/kmsg",
	"/proc/cmdline",
}

// privateCgroupNamespace gives a container with a mount namespace of its
// own a cgroup namespace of its own too, when its config names none.
// Without one, /proc/self/cgroup and the cgroup mounts' root fields in
// /proc/self/mountinfo show the container's cgroup paths in the host's
// hierarchy (e.g. /k8s.io/<pod>/<id>, /docker/<id>), which tell a
// workload how the host is laid out and what else runs on it. In its own
// namespace the container's cgroup is "/" and the cgroup file systems are
// mounted at that root, so it still reads its own limits.
//
// This departs from the runtime spec's rule that a namespace type not
// listed is inherited (docs/compliance.md), as Docker does by default on
// cgroup v2. A config that lists a cgroup namespace, or joins one by path
// (e.g. /proc/1/ns/cgroup for the host's), is left as it is; so is a
// container that shares its mount namespace, which sees the host's mounts
// and cgroup paths anyway (the suite's inheritance test runs one).
func privateCgroupNamespace(spec *specs.Spec) {
	if !newNamespace(spec, specs.MountNamespace) {
		return
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.CgroupNamespace {
			return
		}
	}
	spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
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
