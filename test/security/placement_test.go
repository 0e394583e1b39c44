package security

// Review (7cb2862): whether the sentry serves from inside the container's
// pid namespace is decided from things a Kubernetes tenant controls.

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// withProcReplaced puts a tmpfs where the spec mounts procfs at /proc,
// as containerd's and CRI-O's CRI plugins do when a pod's volumeMount
// has mountPath /proc (WithMounts drops a default mount overridden by a
// supplied one).
func withProcReplaced(s *specs.Spec) {
	for i, m := range s.Mounts {
		if m.Destination == "/proc" {
			s.Mounts[i] = specs.Mount{Destination: "/proc", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}}
		}
	}
}

// withPodSandboxAnnotation is a pod annotation, passed through by a CRI
// plugin whose runtime handler allows pod annotations.
func withPodSandboxAnnotation(s *specs.Spec) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations["io.kubernetes.cri-o.ContainerType"] = "sandbox"
}

// TestTenantMovesSentryOutside: an ordinary container (Docker's default
// capabilities, no CAP_SYS_PTRACE, its own pid namespace) should have its
// sentry inside its pid namespace, where a sentry taken over reaches no
// host process. Two ways a tenant might move it to the host's pid
// namespace without any capability:
//   - a volume at /proc: held (libcontainer refuses a non-procfs mount at
//     /proc, so create fails);
//   - a sandbox annotation on an app container, where the CRI plugin
//     passes pod annotations through (containerd's pod_annotations,
//     CRI-O's allowed_annotations; not the harness's configuration):
//     the sentry serves from the runtime's pid namespace. This subtest
//     fails on 7cb2862.
func TestTenantMovesSentryOutside(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  specOpt
	}{
		{"a volume at /proc", withProcReplaced},
		{"a sandbox annotation on an app container", withPodSandboxAnnotation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t)
			b := newBundle(t, withArgs("sleep", "100000"), withCaps(dockerCaps), tc.opt)
			id := newID(t)
			t.Cleanup(func() { rt.Run(nil, "delete", "--force", id) })
			if res := rt.Run(nil, "run", "-d", "--bundle", b, id); res.Code != 0 {
				// Refused: the tenant gained nothing.
				t.Logf("run -d refused: %s", res.Stderr)
				return
			}
			if place := stateField(rt, id, "sentryServesFrom"); place != "the container's pid namespace" {
				t.Errorf("the sentry serves from %q", place)
			}
		})
	}
}
