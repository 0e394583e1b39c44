package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckPtraceScope(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		content string // "" : no file
		want    string // "" : allowed
	}{
		{"", ""}, {"0\n", ""}, {"1\n", ""}, {"2\n", "is 2"}, {"3\n", "is 3"}, {"garbage", ""},
	}
	for i, tc := range tests {
		file := filepath.Join(dir, "scope"+string(rune('a'+i)))
		if tc.content != "" {
			if err := os.WriteFile(file, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		err := checkPtraceScope(file)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("scope %q: %v, want %q", tc.content, err, tc.want)
		}
	}
}

func TestHasLimits(t *testing.T) {
	limit := int64(1)
	tests := []struct {
		r    *specs.LinuxResources
		want bool
	}{
		{nil, false},
		{&specs.LinuxResources{}, false},
		{&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, false},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}, true},
		{&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: 10}}, true},
		{&specs.LinuxResources{Unified: map[string]string{"memory.max": "1"}}, true},
	}
	for i, tc := range tests {
		if got := HasLimits(tc.r); got != tc.want {
			t.Errorf("%d: HasLimits = %v, want %v", i, got, tc.want)
		}
	}
}
