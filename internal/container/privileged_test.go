package container

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestIsPrivileged(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps *specs.LinuxCapabilities
		want bool
	}{
		{"no capabilities section (libcontainer leaves them all)", nil, true},
		{"no capabilities", &specs.LinuxCapabilities{}, false},
		{"docker's defaults", &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_NET_RAW"}, Effective: []string{"CAP_CHOWN"}}, false},
		{"bounding", &specs.LinuxCapabilities{Bounding: []string{"CAP_SYS_ADMIN"}}, true},
		{"effective only", &specs.LinuxCapabilities{Effective: []string{"CAP_SYS_ADMIN"}}, true},
		{"ambient only", &specs.LinuxCapabilities{Ambient: []string{"CAP_SYS_ADMIN"}}, true},
		{"inheritable only", &specs.LinuxCapabilities{Inheritable: []string{"CAP_SYS_ADMIN"}}, true},
	} {
		spec := &specs.Spec{Process: &specs.Process{Capabilities: tc.caps}}
		if got := isPrivileged(spec); got != tc.want {
			t.Errorf("%s: isPrivileged = %v, want %v", tc.name, got, tc.want)
		}
	}
	if isPrivileged(&specs.Spec{}) {
		t.Error("a spec without a process is privileged")
	}
}

// TestResolveSandboxPrivileged: the node's setting alone decides; a
// privileged container in a user namespace of its own gets the built-in
// profile opened for its mounts, one over the host's user namespace keeps
// mount refused, or create fails naming the setting; an annotation
// changes none of it.
func TestResolveSandboxPrivileged(t *testing.T) {
	privIn := func(userns bool, ann map[string]string) *specs.Spec {
		all := []string{"CAP_SYS_ADMIN", "CAP_CHOWN"}
		s := &specs.Spec{
			Annotations: ann,
			Process:     &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: all, Effective: all, Permitted: all}},
			Linux:       &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}},
		}
		if userns {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}
		return s
	}
	priv := func(ann map[string]string) *specs.Spec { return privIn(true, ann) }
	hostUserns := &specs.Spec{Process: privIn(false, nil).Process, Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
		{Type: specs.MountNamespace}, {Type: specs.UserNamespace, Path: "/proc/self/ns/user"}}}}
	state := filepath.Join(t.TempDir(), "c1")
	hostile := map[string]string{"dev.syscage.privileged": "sandboxed", "dev.syscage.profile": "default", "io.kubernetes.cri.privileged": "true"}
	for _, tc := range []struct {
		name       string
		setting    string
		spec       *specs.Spec
		profile    string
		privileged bool
		err        string
	}{
		{"default setting", "", priv(nil), "default", true, ""},
		{"sandboxed", PrivilegedSandboxed, priv(nil), "default", true, ""},
		{"sandboxed, strict", PrivilegedSandboxed, priv(map[string]string{AnnotationProfile: "strict"}), "strict", true, ""},
		{"sandboxed, the host's user namespace", PrivilegedSandboxed, privIn(false, nil), "default", false, ""},
		{"sandboxed, joins the host's user namespace by path", PrivilegedSandboxed, hostUserns, "default", false, ""},
		{"refuse", PrivilegedRefuse, priv(nil), "", false, `privileged container refused: its config grants CAP_SYS_ADMIN, and this node refuses privileged containers ("privileged": "refuse" in /x/config.json`},
		{"refuse, hostile annotations", PrivilegedRefuse, priv(hostile), "", false, `"privileged": "refuse" in /x/config.json`},
		{"refuse, not privileged", PrivilegedRefuse, &specs.Spec{Annotations: hostile, Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}}, "default", false, ""},
		{"refuse, no capabilities section", PrivilegedRefuse, &specs.Spec{Process: &specs.Process{}}, "", false, `"privileged": "refuse"`},
		{"sandboxed, not privileged", PrivilegedSandboxed, &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}}, "default", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := SandboxOptions{Config: Config{Path: "/x/config.json", Privileged: tc.setting}}
			sb, err := resolveSandbox(o, tc.spec, state)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sb.Profile.Name != tc.profile || sb.Profile.Privileged != tc.privileged {
				t.Errorf("profile %s privileged=%v, want %s privileged=%v", sb.Profile.Name, sb.Profile.Privileged, tc.profile, tc.privileged)
			}
		})
	}
}

// TestKeepMountsHome: shared propagation becomes slave, the root's and
// each mount's; every other option is left as it is.
func TestKeepMountsHome(t *testing.T) {
	spec := &specs.Spec{
		Linux: &specs.Linux{RootfsPropagation: "rshared"},
		Mounts: []specs.Mount{
			{Destination: "/a", Type: "bind", Source: "/srv/a", Options: []string{"rbind", "rshared", "rw"}},
			{Destination: "/b", Type: "bind", Source: "/srv/b", Options: []string{"bind", "shared"}},
			{Destination: "/c", Type: "bind", Source: "/srv/c", Options: []string{"rbind", "rslave"}},
			{Destination: "/d", Type: "bind", Source: "/srv/d", Options: []string{"rbind", "rprivate", "ro"}},
		},
	}
	keepMountsHome(spec)
	if spec.Linux.RootfsPropagation != "rslave" {
		t.Errorf("rootfsPropagation %q, want rslave", spec.Linux.RootfsPropagation)
	}
	want := [][]string{{"rbind", "rslave", "rw"}, {"bind", "slave"}, {"rbind", "rslave"}, {"rbind", "rprivate", "ro"}}
	for i, m := range spec.Mounts {
		if !slices.Equal(m.Options, want[i]) {
			t.Errorf("mount %s: options %q, want %q", m.Destination, m.Options, want[i])
		}
	}
	for _, p := range []string{"", "rslave", "private", "slave"} {
		s := &specs.Spec{Linux: &specs.Linux{RootfsPropagation: p}}
		keepMountsHome(s)
		if s.Linux.RootfsPropagation != p {
			t.Errorf("rootfsPropagation %q became %q", p, s.Linux.RootfsPropagation)
		}
	}
}
