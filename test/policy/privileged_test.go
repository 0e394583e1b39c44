package policy

import (
	"encoding/json"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// withSysAdmin grants CAP_SYS_ADMIN: a privileged container for syscage.
func withSysAdmin(s *specs.Spec) {
	c := s.Process.Capabilities
	c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
	c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
	c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
}

// TestPrivilegedRefused: under "privileged": "refuse" a privileged
// container fails create with an error naming the node's setting and
// leaves nothing behind, whatever its annotations say; a container
// without CAP_SYS_ADMIN still runs. Under "sandboxed" (and with no
// setting) the privileged container runs and `state` says so.
func TestPrivilegedRefused(t *testing.T) {
	r := newRuntime(t)
	refuse, _ := writeConfig(t, map[string]any{"privileged": "refuse"})
	for _, ann := range [][2]string{
		{"dev.syscage.privileged", "sandboxed"},
		{"dev.syscage.profile", "default"},
		{"io.kubernetes.cri.security-context.privileged", "false"},
	} {
		t.Run("refuse, annotation "+ann[0], func(t *testing.T) {
			t.Setenv("SYSCAGE_CONFIG", refuse)
			b := newBundle(t, withArgs("true"), withSysAdmin, withAnnotation(ann[0], ann[1]))
			id := newID(t)
			res := r.Run(nil, "create", "--bundle", b, id)
			refusedCleanly(t, r, res, b, id, "privileged container refused: its config grants CAP_SYS_ADMIN",
				`"privileged": "refuse" in `+refuse)
		})
	}
	t.Run("refuse, not privileged", func(t *testing.T) {
		t.Setenv("SYSCAGE_CONFIG", refuse)
		if res := r.Container(newBundle(t, withArgs("true")), nil); res.Code != 0 {
			t.Errorf("an unprivileged container under \"refuse\": %s", res)
		}
	})
	sandboxed, _ := writeConfig(t, map[string]any{"privileged": "sandboxed"})
	for name, cfg := range map[string]string{"sandboxed": sandboxed, "no setting": ""} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("SYSCAGE_CONFIG", cfg)
			b := newBundle(t, withArgs("sleep", "600"), withSysAdmin)
			id := newID(t)
			if res := r.Run(nil, "create", "--bundle", b, id); res.Code != 0 {
				t.Fatalf("%s", res)
			}
			res := r.Run(nil, "state", id)
			var st struct {
				Profile    string `json:"profile"`
				Privileged bool   `json:"privileged"`
				Mounts     string `json:"privilegedMounts"`
			}
			if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil || st.Profile != "default" || !st.Privileged ||
				st.Mounts != "refused: no user namespace of its own" {
				t.Errorf("state: profile %q privileged %v, mounts %q (%v): %s", st.Profile, st.Privileged, st.Mounts, err, res)
			}
			if res := r.Run(nil, "delete", "--force", id); res.Code != 0 {
				t.Errorf("%s", res)
			}
		})
	}
	t.Run("bad setting", func(t *testing.T) {
		bad, _ := writeConfig(t, map[string]any{"privileged": "yes"})
		t.Setenv("SYSCAGE_CONFIG", bad)
		b := newBundle(t, withArgs("true"))
		id := newID(t)
		res := r.Run(nil, "create", "--bundle", b, id)
		refusedCleanly(t, r, res, b, id, "runtime config "+bad+`: privileged: "yes": must be "sandboxed" or "refuse"`)
	})
}
