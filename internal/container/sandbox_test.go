package container

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestLearnedPath(t *testing.T) {
	t.Cleanup(func() {
		for _, ns := range []string{"team-a", "team-b"} {
			os.Remove(filepath.Join(LearnedDir, ns)) // made by the cases below; empty
		}
	})
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	for _, tc := range []struct {
		flag, ann, cri, ns string
		want, err          string
	}{
		{flag: filepath.Join(dir, "a.json"), ann: "x.json", want: filepath.Join(dir, "a.json")},
		{flag: filepath.Join(dir, "missing", "a.json"), err: "does not exist"},
		{want: filepath.Join(state, learnedInState)},
		{ann: "/etc/cron.d/x", err: "must be a file name in " + LearnedDir},
		{ann: "../x.json", err: "must be a file name in " + LearnedDir},
		{ann: "sub/x.json", err: "must be a file name in " + LearnedDir},
		{ann: ".hidden.json", err: "must be a file name in " + LearnedDir},
		{ann: "web\x00.json", err: "must be a file name in " + LearnedDir},
		{ann: LearnedDir, err: "must be a file name in " + LearnedDir},
		{ann: "/var/lib/syscage/learned/../x.json", err: "must be a file name in " + LearnedDir},
		{ann: "web.json", want: filepath.Join(LearnedDir, "web.json")},
		{ann: LearnedDir + "/web.json", cri: "app", want: filepath.Join(LearnedDir, "web.app.json")},
		{ann: "web.json", cri: "sandbox", want: filepath.Join(LearnedDir, "web.sandbox.json")},
		// Each Kubernetes namespace (tenant) learns into a directory of its own.
		{ann: "web.json", cri: "app", ns: "team-a", want: filepath.Join(LearnedDir, "team-a", "web.app.json")},
		{ann: "web.json", cri: "app", ns: "team-b", want: filepath.Join(LearnedDir, "team-b", "web.app.json")},
		{ann: "web.json", cri: "app", ns: "../etc", err: "not a Kubernetes namespace name"},
		{ann: "web.json", cri: "app", ns: "A", err: "not a Kubernetes namespace name"},
	} {
		if tc.want != "" && strings.HasPrefix(tc.want, LearnedDir) && os.Geteuid() != 0 {
			continue // would create LearnedDir
		}
		got, err := learnedPath(tc.flag, tc.ann, tc.cri, tc.ns, state)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("learnedPath(%q, %q, %q) = %q, %v; want error %q", tc.flag, tc.ann, tc.cri, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("learnedPath(%q, %q, %q) = %q, %v; want %q", tc.flag, tc.ann, tc.cri, got, err, tc.want)
		}
	}
	if got := criContainer(map[string]string{"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.container-name": "x"}); got != "sandbox" {
		t.Errorf("criContainer(sandbox) = %q", got)
	}
}

func TestPrivateCgroupNamespace(t *testing.T) {
	mnt := specs.LinuxNamespace{Type: specs.MountNamespace}
	cg := specs.LinuxNamespace{Type: specs.CgroupNamespace}
	hostCg := specs.LinuxNamespace{Type: specs.CgroupNamespace, Path: "/proc/1/ns/cgroup"}
	joinedMnt := specs.LinuxNamespace{Type: specs.MountNamespace, Path: "/proc/42/ns/mnt"}
	pid := specs.LinuxNamespace{Type: specs.PIDNamespace}
	for _, tc := range []struct {
		name string
		in   []specs.LinuxNamespace
		want []specs.LinuxNamespace
	}{
		{"own mount namespace gets a cgroup namespace", []specs.LinuxNamespace{pid, mnt}, []specs.LinuxNamespace{pid, mnt, cg}},
		{"a listed cgroup namespace stays", []specs.LinuxNamespace{cg, mnt}, []specs.LinuxNamespace{cg, mnt}},
		{"a joined cgroup namespace stays", []specs.LinuxNamespace{mnt, hostCg}, []specs.LinuxNamespace{mnt, hostCg}},
		{"shared mount namespace: inherited", []specs.LinuxNamespace{pid}, []specs.LinuxNamespace{pid}},
		{"joined mount namespace: inherited", []specs.LinuxNamespace{joinedMnt}, []specs.LinuxNamespace{joinedMnt}},
		{"no namespaces at all", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &specs.Spec{Linux: &specs.Linux{Namespaces: slices.Clone(tc.in)}}
			privateCgroupNamespace(spec)
			if !slices.Equal(spec.Linux.Namespaces, tc.want) {
				t.Errorf("namespaces %v became %v, want %v", tc.in, spec.Linux.Namespaces, tc.want)
			}
		})
	}
}

// TestResolveSandboxAnnotations: annotations choose only among what the
// administrator's configuration allows, never a path; flags and the
// configured default may name any file.
func TestResolveSandboxAnnotations(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "profiles")
	outside := filepath.Join(root, "outside.json")
	web := `{"syscageProfile": 1, "name": "web", "kernelRelease": "5.0-web", "syscalls": []}`
	for _, f := range []string{filepath.Join(dir, "web.json"), filepath.Join(dir, "other.json"), outside} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(web), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	audited := filepath.Join(root, "audited.json")
	if err := os.WriteFile(audited, []byte(`{"syscageProfile": 1, "name": "audited", "audit": true, "syscalls": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(root, "state", "c1")
	cfg := Config{Path: "/x/config.json", ProfileDir: dir, AnnotationProfiles: []string{"default", "strict", "web", "link", "missing"}}
	learnCfg := cfg
	learnCfg.AnnotationProfiles = []string{"learn"}
	auditCfg := cfg
	auditCfg.AuditDir = filepath.Join(root, "audit")
	if err := os.Mkdir(auditCfg.AuditDir, 0o755); err != nil {
		t.Fatal(err)
	}
	noAuditDir := cfg
	noAuditDir.AuditDir = filepath.Join(root, "none")
	for _, tc := range []struct {
		name    string
		o       SandboxOptions
		ann     map[string]string
		profile string // the resolved profile's name
		audit   string
		err     string
	}{
		{name: "no annotation", o: SandboxOptions{Config: cfg}, profile: "default"},
		{name: "built-in", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: "strict"}, profile: "strict"},
		{name: "file by name", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: "web"}, profile: "web"},
		{name: "file by name.json", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: "web.json"}, profile: "web"},
		{name: "absolute path", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: outside}, err: "never a path"},
		{name: "path in the dir", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: filepath.Join(dir, "web.json")}, err: "never a path"},
		{name: "traversal", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: "../outside"}, err: "never a path"},
		{name: "symlink out", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: "link"}, err: "symbolic link"},
		{name: "missing file", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: "missing"}, err: "no such profile file"},
		{name: "not allowed", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: "other"}, err: `the administrator does not let annotations choose this profile (annotationProfiles in /x/config.json: ["default" "strict" "web" "link" "missing"])`},
		{name: "learn not allowed by default", ann: map[string]string{AnnotationProfile: "learn"}, err: "does not let annotations choose this learn mode"},
		{name: "learn not allowed", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationProfile: "learn"}, err: "learn mode"},
		{name: "learn allowed", o: SandboxOptions{Config: learnCfg}, ann: map[string]string{AnnotationProfile: "learn"}, profile: "learn"},
		{name: "strict not allowed", o: SandboxOptions{Config: learnCfg}, ann: map[string]string{AnnotationProfile: "strict"}, err: "does not let annotations"},
		{name: "file not allowed by default", ann: map[string]string{AnnotationProfile: "web"}, err: "does not let annotations"},
		{name: "flag names any file", o: SandboxOptions{Profile: outside, Config: cfg}, ann: map[string]string{AnnotationProfile: "other"}, profile: "web"},
		{name: "configured default names any file", o: SandboxOptions{DefaultProfile: outside, Config: cfg}, profile: "web"},
		{name: "strace on", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationStrace: "true"}, profile: "default", audit: filepath.Join(state, "audit.jsonl")},
		{name: "strace on, audit dir", o: SandboxOptions{Config: auditCfg}, ann: map[string]string{AnnotationStrace: "1"}, profile: "default", audit: filepath.Join(root, "audit", "c1.jsonl")},
		{name: "strace on, missing audit dir", o: SandboxOptions{Config: noAuditDir}, ann: map[string]string{AnnotationStrace: "true"}, err: "auditing into auditDir " + noAuditDir.AuditDir + " (/x/config.json): not a directory"},
		{name: "strace off", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationStrace: "false"}, profile: "default"},
		{name: "strace path", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationStrace: "/etc/evil"}, err: `annotation dev.syscage.strace="/etc/evil": must be true or false`},
		{name: "strace path under the flag", o: SandboxOptions{Audit: true, Config: cfg}, ann: map[string]string{AnnotationStrace: "/etc/evil"}, profile: "default", audit: filepath.Join(state, "audit.jsonl")},
		{name: "strace-log names any file", o: SandboxOptions{Audit: true, AuditPath: "/srv/a.jsonl", Config: noAuditDir}, profile: "default", audit: "/srv/a.jsonl"},
		{name: "kernel release", o: SandboxOptions{Config: cfg}, ann: map[string]string{AnnotationKernelRelease: "1.2\n3"}, err: "must be one line"},
		// Without a list, an annotation never goes below the runtime's default.
		{name: "default below a strict default", o: SandboxOptions{DefaultProfile: "strict"}, ann: map[string]string{AnnotationProfile: "default"}, err: `does not let annotations choose this profile (annotationProfiles in /etc/syscage/config.json (absent: the defaults): ["strict"])`},
		{name: "strict with a strict default", o: SandboxOptions{DefaultProfile: "strict"}, ann: map[string]string{AnnotationProfile: "strict"}, profile: "strict"},
		{name: "nothing with a file default", o: SandboxOptions{DefaultProfile: outside}, ann: map[string]string{AnnotationProfile: "strict"}, err: "does not let annotations"},
		{name: "an explicit list stands", o: SandboxOptions{DefaultProfile: "strict", Config: cfg}, ann: map[string]string{AnnotationProfile: "default"}, profile: "default"},
		// The annotation cannot turn off the audit a profile asks for.
		{name: "strace off under an audited profile", o: SandboxOptions{DefaultProfile: audited, Config: cfg}, ann: map[string]string{AnnotationStrace: "false"}, profile: "audited", audit: filepath.Join(state, "audit.jsonl")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb, err := resolveSandbox(tc.o, &specs.Spec{Annotations: tc.ann}, state)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sb.Profile.Name != tc.profile || sb.AuditPath != tc.audit {
				t.Errorf("profile %q audit %q, want %q and %q", sb.Profile.Name, sb.AuditPath, tc.profile, tc.audit)
			}
		})
	}
}

// TestReleaseRule: the host's feature level, never its build.
func TestReleaseRule(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"6.18.44-fc-v1272", "6.18.0-syscage"},
		{"6.1.0-28-amd64", "6.1.0-syscage"},
		{"5.14.0-503.11.1.el9_5.x86_64", "5.14.0-syscage"},
		{"5.15.0-1071-azure", "5.15.0-syscage"},
		{"6.8.0", "6.8.0-syscage"},
		{"weird", fallbackKernelRelease},
		{"", fallbackKernelRelease},
	} {
		if got := releaseRule(tc.host); got != tc.want {
			t.Errorf("releaseRule(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}
