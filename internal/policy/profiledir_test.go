package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDirName(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "web", want: "web.json"},
		{in: "web.json", want: "web.json"},
		{in: "cri-demo.app", want: "cri-demo.app.json"},
		{in: "a_b-c.1", want: "a_b-c.1.json"},
		{in: "/etc/passwd", err: "never a path"},
		{in: "../../etc/x", err: "never a path"},
		{in: "sub/web", err: "never a path"},
		{in: "..", err: "never a path"},
		{in: ".", err: "never a path"},
		{in: ".hidden", err: "never a path"},
		{in: "web\x00.json", err: "never a path"},
		{in: "", err: "never a path"},
		{in: strings.Repeat("a", 129), err: "never a path"},
		{in: "default.json", err: "built-in profile"},
		{in: "strict", err: "built-in profile"},
		{in: "learn.json", err: "built-in profile"},
	} {
		got, err := DirName(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("DirName(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("DirName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestLoadFileInDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "profiles")
	outside := filepath.Join(root, "outside.json")
	good := `{"syscageProfile": 1, "name": "good", "syscalls": []}`
	for path, data := range map[string]string{
		filepath.Join(dir, "good.json"):   good,
		outside:                           good,
		filepath.Join(dir, "bad.json"):    `{"syscageProfile": 1, "name": "bad"}`,
		filepath.Join(dir, "huge.json"):   good + strings.Repeat(" ", MaxFileSize),
		filepath.Join(dir, "sub/in.json"): good,
		filepath.Join(dir, "exact.json"):  good + strings.Repeat(" ", MaxFileSize-len(good)),
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"out.json":    outside,
		"in.json":     "good.json",
		"dotdot.json": "../outside.json",
		"etc.json":    "/etc/passwd",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(dir, "fifo.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, name, err string }{
		{dir: dir, name: "good.json"},
		{dir: dir, name: "exact.json"},
		{dir: dir, name: "out.json", err: "symbolic link"},
		{dir: dir, name: "in.json", err: "symbolic link"},
		{dir: dir, name: "dotdot.json", err: "symbolic link"},
		{dir: dir, name: "etc.json", err: "symbolic link"},
		{dir: dir, name: "fifo.json", err: "not a regular file"},
		{dir: dir, name: "adir.json", err: "not a regular file"},
		{dir: dir, name: "huge.json", err: "more than the 1048576"},
		{dir: dir, name: "missing.json", err: "no such profile file in " + dir},
		{dir: dir, name: "bad.json", err: "syscalls: missing"},
		{dir: dir, name: "../outside.json", err: "not a file name"},
		{dir: dir, name: "sub/in.json", err: "not a file name"},
		{dir: filepath.Join(root, "nodir"), name: "good.json", err: "opening the profile directory"},
	} {
		p, err := LoadFileInDir(tc.dir, tc.name)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "profile file "+filepath.Join(tc.dir, tc.name)) {
				t.Errorf("LoadFileInDir(%s, %q) = %v; want an error naming the file and %q", tc.dir, tc.name, err, tc.err)
			}
		case err != nil:
			t.Errorf("LoadFileInDir(%s, %q): %v", tc.dir, tc.name, err)
		case p.Source != filepath.Join(tc.dir, tc.name):
			t.Errorf("LoadFileInDir(%s, %q): source %q", tc.dir, tc.name, p.Source)
		}
	}
}
