package container

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/syscage/syscage/internal/policy"
)

// TestSentryPlace: where a container's sentry serves from, for the specs
// that keep it in the runtime's pid namespace and one that does not.
func TestSentryPlace(t *testing.T) {
	if Unprivileged() {
		t.Skip("a rootless runtime's sentry always serves from its own pid namespace")
	}
	def, err := policy.Resolve("default")
	if err != nil {
		t.Fatal(err)
	}
	learn, err := policy.Resolve(policy.Learn)
	if err != nil {
		t.Fatal(err)
	}
	spec := func(ns []specs.LinuxNamespace, ann map[string]string) *specs.Spec {
		return &specs.Spec{Annotations: ann, Linux: &specs.Linux{Namespaces: ns}}
	}
	own := []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}}
	for _, tc := range []struct {
		name string
		spec *specs.Spec
		sb   sandbox
		want string // "" or a part of the reason
	}{
		{"its own pid namespace", spec(own, nil), sandbox{Profile: def}, ""},
		{"learn mode", spec(own, nil), sandbox{Profile: learn}, "learn mode"},
		{"CAP_SYS_PTRACE", spec(own, nil), sandbox{Profile: def, Caps: ptraceCap}, "CAP_SYS_PTRACE"},
		{"CAP_SYS_PTRACE in a user namespace of its own", spec(append(own, specs.LinuxNamespace{Type: specs.UserNamespace}), nil), sandbox{Profile: def, Caps: ptraceCap}, ""},
		{"joins a pid namespace", spec([]specs.LinuxNamespace{{Type: specs.PIDNamespace, Path: "/proc/1/ns/pid"}}, nil), sandbox{Profile: def}, "joins another's"},
		{"a containerd pod sandbox", spec(own, map[string]string{"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": "c1"}), sandbox{Profile: def}, "sandbox container"},
		{"a CRI-O pod sandbox", spec(own, map[string]string{"io.kubernetes.cri-o.ContainerType": "sandbox", "io.kubernetes.cri-o.SandboxID": "c1"}), sandbox{Profile: def}, "sandbox container"},
		{"a sandbox mark on another container (a pod annotation)", spec(own, map[string]string{"io.kubernetes.cri-o.ContainerType": "sandbox", "io.kubernetes.cri.sandbox-id": "pod"}), sandbox{Profile: def}, ""},
		{"a sandbox mark without its id", spec(own, map[string]string{"io.kubernetes.cri.container-type": "sandbox"}), sandbox{Profile: def}, ""},
		{"a pod's app container", spec(own, map[string]string{"io.kubernetes.cri.container-type": "container"}), sandbox{Profile: def}, ""},
	} {
		got := sentryPlace(tc.spec, tc.sb, "c1")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: sentryPlace = %q, want %q", tc.name, got, tc.want)
		}
	}
}
