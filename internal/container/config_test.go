package container

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSentryID: a container's sentry id lies in the range, is the same
// for the same state dir, and differs between containers (as a hash may).
func TestSentryID(t *testing.T) {
	for _, c := range []Config{{}, {SentryIDs: &IDRange{First: 200000, Size: 3}}} {
		r := DefaultSentryIDs
		if c.SentryIDs != nil {
			r = *c.SentryIDs
		}
		seen := map[uint32]bool{}
		for i := 0; i < 50; i++ {
			dir := fmt.Sprintf("/run/syscage/c%d", i)
			id := c.sentryID(dir)
			if id < r.First || uint64(id) >= uint64(r.First)+uint64(r.Size) || id == fallbackSentryID {
				t.Errorf("sentryID(%s) = %d, outside [%d, +%d)", dir, id, r.First, r.Size)
			}
			if c.sentryID(dir) != id {
				t.Errorf("sentryID(%s) is not stable", dir)
			}
			seen[id] = true
		}
		if want := min(int(r.Size), 2); len(seen) < want {
			t.Errorf("range %v: 50 containers got %d distinct ids", r, len(seen))
		}
	}
	if DefaultSentryIDs.First+DefaultSentryIDs.Size-1 >= maxID {
		t.Errorf("DefaultSentryIDs %v reaches -2 (nfsnobody) or -1", DefaultSentryIDs)
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, data, err string
		allowed         []string
	}{
		{name: "empty", data: `{}`, allowed: DefaultAnnotationProfiles},
		{name: "default only", data: `{"defaultProfile": "strict"}`, allowed: DefaultAnnotationProfiles},
		{name: "allowlist", data: `{"annotationProfiles": ["strict", "web", "learn", "app.json"]}`, allowed: []string{"strict", "web", "learn", "app.json"}},
		{name: "nothing allowed", data: `{"annotationProfiles": []}`, allowed: []string{}},
		{name: "all fields", data: `{"defaultProfile": "/srv/p.json", "profileDir": "/srv/profiles", "annotationProfiles": ["default"], "auditDir": "/var/log/syscage"}`, allowed: []string{"default"}},
		{name: "privileged sandboxed", data: `{"privileged": "sandboxed"}`, allowed: DefaultAnnotationProfiles},
		{name: "privileged refuse", data: `{"privileged": "refuse"}`, allowed: DefaultAnnotationProfiles},
		{name: "privileged unknown", data: `{"privileged": "allow"}`, err: `cfg.json: privileged: "allow": must be "sandboxed" or "refuse"`},
		{name: "privileged wrong type", data: `{"privileged": true}`, err: "cfg.json: privileged: is a JSON bool"},
		{name: "sentry ids", data: `{"sentryIDs": {"first": 3000000000, "size": 1000}}`, allowed: DefaultAnnotationProfiles},
		{name: "sentry ids from 0", data: `{"sentryIDs": {"first": 0, "size": 10}}`, err: "cfg.json: sentryIDs: first 0, size 10: must be a non-empty range"},
		{name: "empty sentry ids", data: `{"sentryIDs": {"first": 70000, "size": 0}}`, err: "cfg.json: sentryIDs: first 70000, size 0"},
		{name: "sentry ids past the last id", data: `{"sentryIDs": {"first": 4294967290, "size": 10}}`, err: "cfg.json: sentryIDs: first 4294967290, size 10"},
		{name: "sentry id -1", data: `{"sentryIDs": {"first": 4294967295, "size": 1}}`, err: "cfg.json: sentryIDs: first 4294967295, size 1"},
		{name: "unknown field", data: `{"minimumProfile": "strict"}`, err: "cfg.json: minimumProfile: unknown field"},
		{name: "wrong type", data: `{"annotationProfiles": "strict"}`, err: "cfg.json: annotationProfiles: is a JSON string"},
		{name: "not JSON", data: `{"defaultProfile": }`, err: "cfg.json: not valid JSON"},
		{name: "trailing", data: `{} {}`, err: "cfg.json: trailing data"},
		{name: "relative profileDir", data: `{"profileDir": "profiles"}`, err: "cfg.json: profileDir: \"profiles\" is not an absolute path"},
		{name: "relative auditDir", data: `{"auditDir": "audit"}`, err: "cfg.json: auditDir: \"audit\" is not an absolute path"},
		{name: "path in allowlist", data: `{"annotationProfiles": ["strict", "/etc/x.json"]}`, err: "cfg.json: annotationProfiles[1]: \"/etc/x.json\" is not a profile name"},
		{name: "built-in file in allowlist", data: `{"annotationProfiles": ["default.json"]}`, err: "cfg.json: annotationProfiles[0]: \"default.json\": default is a built-in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig("/x/cfg.json", []byte(tc.data))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), "runtime config /x/"+tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.annotationProfiles(""); !slices.Equal(got, tc.allowed) {
				t.Errorf("annotation profiles %q, want %q", got, tc.allowed)
			}
		})
	}
}

func TestReadConfig(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.json")
	if c, err := ReadConfig(missing, false); err != nil || c.Path != "" || c.profileDir() != DefaultProfileDir {
		t.Errorf("missing optional config: %+v, %v", c, err)
	}
	if _, err := ReadConfig(missing, true); err == nil || !strings.Contains(err.Error(), "runtime config "+missing) {
		t.Errorf("missing named config: %v", err)
	}
	t.Setenv(ConfigEnv, missing)
	if _, err := LoadConfig(); err == nil {
		t.Errorf("$%s naming a missing file: no error", ConfigEnv)
	}
	if err := os.WriteFile(missing, []byte(`{"profileDir": "/srv/p"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadConfig(); err != nil || c.Path != missing || c.profileDir() != "/srv/p" {
		t.Errorf("$%s: %+v, %v", ConfigEnv, c, err)
	}
}
