package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscage/syscage/internal/policy"
)

func TestProfileText(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "web.json")
	if err := os.WriteFile(good, []byte(`{"syscageProfile": 1, "name": "web", "syscalls": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"syscageProfile": 1, "name": "default", "syscalls": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, err string }{
		{"default", ""},
		{"strict", ""},
		{good, ""},
		{"nope", `unknown profile "nope"`},
		{"learn", "learn is a mode, not a profile"},
		{bad, `"default" is a built-in profile's name`},
		{filepath.Join(dir, "missing.json"), "no such file"},
	} {
		data, err := profileText(tc.ref)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.ref, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.ref, err)
			continue
		}
		var f policy.File
		if err := json.Unmarshal(data, &f); err != nil || f.Name == "" || f.Syscalls == nil {
			t.Errorf("%s: not a profile file: %v", tc.ref, err)
		}
	}
	// A built-in as shown, renamed, loads as a user's profile file.
	data, _ := profileText("strict")
	data = []byte(strings.Replace(string(data), `"name": "strict"`, `"name": "mine"`, 1))
	if _, err := policy.ParseFile("mine.json", data); err != nil {
		t.Errorf("strict as shown, renamed, does not load: %v", err)
	}
}
