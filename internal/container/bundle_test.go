package container

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validConfig is the smallest config.json LoadSpec accepts; tests edit it.
const validConfig = `{
	"ociVersion": "1.2.0",
	"process": {"args": ["sh"], "cwd": "/"},
	"root": {"path": "rootfs"},
	"linux": {}
}`

func TestLoadSpec(t *testing.T) {
	tests := []struct {
		name   string
		config string // written as config.json unless "-"
		setup  func(t *testing.T, bundle string) string
		want   string // substring of the error; "" for success
	}{
		{name: "valid", config: validConfig},
		{name: "missing bundle dir", config: "-", want: "bundle directory",
			setup: func(t *testing.T, b string) string { return filepath.Join(b, "nope") }},
		{name: "bundle is a file", config: "-", want: "is not a directory",
			setup: func(t *testing.T, b string) string {
				f := filepath.Join(b, "file")
				mustWrite(t, f, "x")
				return f
			}},
		{name: "missing config.json", config: "-", want: "config.json does not exist"},
		{name: "malformed JSON", config: `{"ociVersion": "1.2.0",`, want: "malformed JSON"},
		{name: "syntax error offset", config: `{"ociVersion" "1"}`, want: "at byte"},
		{name: "wrong type", config: `{"ociVersion": 1}`, want: `field "ociVersion"`},
		{name: "wrong nested type", config: strings.Replace(validConfig, `["sh"]`, `"sh"`, 1), want: `"process.args"`},
		{name: "missing ociVersion", config: strings.Replace(validConfig, `"ociVersion": "1.2.0",`, "", 1), want: "ociVersion is missing"},
		{name: "missing process", config: `{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "linux": {}}`, want: "process is missing"},
		{name: "empty args", config: strings.Replace(validConfig, `["sh"]`, `[]`, 1), want: "process.args must not be empty"},
		{name: "missing cwd", config: strings.Replace(validConfig, `, "cwd": "/"`, "", 1), want: "process.cwd is missing"},
		{name: "relative cwd", config: strings.Replace(validConfig, `"cwd": "/"`, `"cwd": "tmp"`, 1), want: "not an absolute path"},
		{name: "missing root", config: `{"ociVersion": "1.2.0", "process": {"args": ["sh"], "cwd": "/"}, "linux": {}}`, want: "root.path is missing"},
		{name: "missing linux", config: strings.Replace(validConfig, `,
	"linux": {}`, "", 1), want: "linux section is missing"},
		{name: "rootfs missing", config: strings.Replace(validConfig, `"rootfs"`, `"nope"`, 1), want: "root file system"},
		{name: "rootfs not a dir", config: strings.Replace(validConfig, `"rootfs"`, `"config.json"`, 1), want: "is not a directory"},
		{name: "absolute rootfs", config: "-", setup: func(t *testing.T, b string) string {
			mustWrite(t, filepath.Join(b, "config.json"),
				strings.Replace(validConfig, `"rootfs"`, `"`+filepath.Join(b, "rootfs")+`"`, 1))
			return b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bundle := t.TempDir()
			if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.config != "-" {
				mustWrite(t, filepath.Join(bundle, "config.json"), tc.config)
			}
			if tc.setup != nil {
				bundle = tc.setup(t, bundle)
			}
			spec, err := LoadSpec(bundle)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("LoadSpec: %v", err)
				}
				if spec.Process.Args[0] != "sh" {
					t.Fatalf("args = %q", spec.Process.Args)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadSpec succeeded, want error containing %q", tc.want)
			}
			if !errors.Is(err, ErrInvalidBundle) {
				t.Errorf("error %v is not ErrInvalidBundle", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"ok", `{"ociVersion": "1.0.0", "hostname": "h"}`, ""},
		{"empty", ``, "malformed JSON"},
		{"not an object", `[1]`, "cannot use JSON array"},
		{"trailing garbage", `{} x`, "malformed JSON"},
		{"bad uid", `{"process": {"user": {"uid": -1}}}`, `field "process.user.uid"`},
		{"bool as string", `{"process": {"terminal": "yes"}}`, `field "process.terminal"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := ParseSpec([]byte(tc.data))
			if tc.want == "" {
				if err != nil || spec.Hostname != "h" {
					t.Fatalf("ParseSpec = %+v, %v", spec, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseSpec error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
