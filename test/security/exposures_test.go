//go:build exposures

package security

// Known exposures: what a default container can still learn about the
// host, each shown by a subtest that fails today. They are documented in
// docs/security.md ("Known exposures") and kept out of `make test` by the
// build tag; `make exposures` runs them. A fix moves its subtest back into
// TestIdentityDefault.

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestKnownExposures(t *testing.T) {
	id, _, bundle := runIdentity(t, nil, nil)

	t.Run("mountinfo-host-paths", func(t *testing.T) {
		// The rootfs bind mount's root field is its path in the host's file
		// system (with a client's overlay rootfs: its lowerdir paths).
		for name, p := range map[string]string{
			"bundle": bundle,
			"rootfs": filepath.Join(bundle, "rootfs"),
		} {
			if strings.Contains(id.mounts, p) {
				t.Errorf("/proc/*/mountinfo shows the host path of the %s (%s):\n%s", name, p, grepLines(id.mounts, p))
			}
		}
		if !strings.Contains(id.mounts, "-- self") || !strings.Contains(id.mounts, "-- pid 1") || strings.Count(id.mounts, "\n") < 10 {
			t.Errorf("mountinfo was not read:\n%s", id.mounts)
		}
	})

	t.Run("vdso-version", func(t *testing.T) {
		// The vDSO's "Linux" ELF note carries the host kernel's
		// LINUX_VERSION_CODE; libc reads it. It must be absent or agree
		// with the configured release.
		if id.probe["vdso.present"] == "" {
			t.Fatalf("probe did not inspect the vDSO")
		}
		got, ok := id.probe["vdso.linux_version"]
		if ok && got != versionTriple(defaultRelease) {
			t.Errorf("the vDSO's Linux version note says %s (host kernel %s); the container is told %s",
				got, hostRelease, defaultRelease)
		}
	})

}

// versionTriple turns "6.1.0-syscage" into "6.1.0" (what a kernel's
// LINUX_VERSION_CODE encodes; the sublevel saturates at 255).
func versionTriple(release string) string {
	m := regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`).FindStringSubmatch(release)
	if m == nil {
		return ""
	}
	if m[3] == "" {
		m[3] = "0"
	}
	return m[1] + "." + m[2] + "." + m[3]
}
