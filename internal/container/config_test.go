package container

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAllocateSentryID: every container gets an id of the range that no
// other live container holds; an exhausted range is an error naming the
// setting; a released id, and one whose container's state dir is gone,
// is taken again.
func TestAllocateSentryID(t *testing.T) {
	ids, states := t.TempDir(), t.TempDir()
	r := IDRange{First: 200000, Size: 3}
	newState := func(name string) string {
		d := filepath.Join(states, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		return d
	}
	seen := map[uint32]string{}
	var dirs []string
	for i := 0; i < 3; i++ {
		d := newState(fmt.Sprintf("c%d", i))
		id, err := allocateIDIn(ids, r, d)
		if err != nil {
			t.Fatal(err)
		}
		if id < r.First || id >= r.First+r.Size || seen[id] != "" {
			t.Fatalf("container %d got id %d (taken by %q)", i, id, seen[id])
		}
		seen[id] = d
		dirs = append(dirs, d)
	}
	full := newState("c3")
	if _, err := allocateIDIn(ids, r, full); err == nil || !strings.Contains(err.Error(), "sentryIDs") {
		t.Fatalf("a full range: %v, want an error naming sentryIDs", err)
	}
	releaseIDIn(ids, dirs[0])
	if id, err := allocateIDIn(ids, r, full); err != nil || seen[id] != dirs[0] {
		t.Fatalf("after a release: id %d, %v; want the released one", id, err)
	}
	if err := os.RemoveAll(dirs[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := allocateIDIn(ids, r, newState("c4")); err != nil {
		t.Fatalf("an id whose container is gone is not taken back: %v", err)
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
