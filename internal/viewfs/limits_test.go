package viewfs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLimitsWatch: the generation changes when, and only when, a file of
// a watched directory was written since the last call; a nil watch (none
// could be made) is never fresh (Open renders at every call).
func TestLimitsWatch(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	for _, d := range []string{dir, other} {
		if err := os.WriteFile(filepath.Join(d, "memory.max"), []byte("max\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := watchLimits([]string{dir})
	if w == nil {
		t.Fatal("watchLimits: nil for a readable directory")
	}
	defer w.close()
	steps := []struct {
		name    string
		write   string // file written before the call ("" for none)
		changed bool
	}{
		{"first call", "", false},
		{"nothing written", "", false},
		{"limit written", filepath.Join(dir, "memory.max"), true},
		{"drained", "", false},
		{"another directory", filepath.Join(other, "memory.max"), false},
		{"written again", filepath.Join(dir, "memory.max"), true},
	}
	last := w.generation()
	for _, s := range steps {
		if s.write != "" {
			if err := os.WriteFile(s.write, []byte("268435456\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		g := w.generation()
		if (g != last) != s.changed {
			t.Errorf("%s: generation %d after %d, want changed=%v", s.name, g, last, s.changed)
		}
		last = g
	}
	if watchLimits(nil) != nil {
		t.Error("watchLimits(nil): a watch of nothing")
	}
	if watchLimits([]string{filepath.Join(dir, "missing")}) != nil {
		t.Error("watchLimits of a missing directory: not nil")
	}
}
