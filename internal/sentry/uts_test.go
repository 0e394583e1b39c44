package sentry

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUTSRoundTrip reads the names of a process's UTS namespace
// (UTSNames), records them (WriteUTSFile) and reads the record back
// (readUTSFile): a child in the test's own namespace, and children in
// namespaces of their own with names the host does not have.
//
// The first case is a child, not os.Getpid(): /proc/<our pid>/ns/uts is
// the main thread's namespace, and UTSNames leaves the main thread parked
// in a child's namespace if its goroutine happened to run there (the
// runtime parks a locked main thread rather than ending it; see
// ownMountNamespace in internal/container). The calling thread's names,
// which unix.Uname gives, are the ones a child started from it inherits.
func TestUTSRoundTrip(t *testing.T) {
	requireRoot(t, "joining a UTS namespace and creating one need CAP_SYS_ADMIN")
	var host unix.Utsname
	if err := unix.Uname(&host); err != nil {
		t.Fatal(err)
	}
	hostNode := unix.ByteSliceToString(host.Nodename[:])
	hostDomain := unix.ByteSliceToString(host.Domainname[:])

	cases := []struct {
		name         string
		own          bool // a child in the test's namespace; otherwise in one of its own
		node, domain string
	}{
		{name: "child in the test's namespace", own: true, node: hostNode, domain: hostDomain},
		{name: "child namespace", node: "syscage-test-node", domain: "syscage.test"},
		{name: "child with empty domain name", node: "n", domain: ""},
		{name: "child with 64-byte names", node: strings.Repeat("a", 64), domain: strings.Repeat("b", 63) + "c"},
		{name: "child with spaces and dots", node: "node with spaces", domain: "x.y.z."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h *helper
			if tc.own {
				h = startHelper(t, "wait", nil, nil)
			} else {
				if tc.node == hostNode {
					t.Fatalf("test node name %q is the host's: the case would not show the child's namespace is read", tc.node)
				}
				h = startHelper(t, "uts",
					[]string{helperNodeEnv + "=" + tc.node, helperDomainEnv + "=" + tc.domain},
					&syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS})
			}
			if got := h.line(t); got != "ready" {
				t.Fatalf("helper said %q, want ready", got)
			}
			pid := h.cmd.Process.Pid

			node, domain, err := UTSNames(pid)
			if err != nil {
				t.Fatalf("UTSNames(%d): %v", pid, err)
			}
			if node != tc.node || domain != tc.domain {
				t.Errorf("UTSNames(%d) = %q, %q; want %q, %q", pid, node, domain, tc.node, tc.domain)
			}

			path := filepath.Join(t.TempDir(), "uts")
			if err := WriteUTSFile(path, pid); err != nil {
				t.Fatalf("WriteUTSFile: %v", err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.node + "\n" + tc.domain + "\n"; string(data) != want {
				t.Errorf("file holds %q, want %q", data, want)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("file mode %v, want no group or other access", perm)
			}

			node, domain, err = readUTSPath(t, path)
			if err != nil {
				t.Fatalf("readUTSFile: %v", err)
			}
			if node != tc.node || domain != tc.domain {
				t.Errorf("readUTSFile = %q, %q; want %q, %q", node, domain, tc.node, tc.domain)
			}
		})
	}
}

func TestWriteUTSFileErrors(t *testing.T) {
	requireRoot(t, "joining a UTS namespace needs CAP_SYS_ADMIN")
	missing := unusedPid(t)
	dir := t.TempDir()
	cases := []struct {
		name    string
		path    string
		pid     int
		wantSub string // in the error
	}{
		{name: "missing pid", path: filepath.Join(dir, "a"), pid: missing, wantSub: "pid " + strconv.Itoa(missing)},
		{name: "negative pid", path: filepath.Join(dir, "b"), pid: -1, wantSub: "pid -1"},
		{name: "missing directory", path: filepath.Join(dir, "no", "such", "dir", "uts"), pid: os.Getpid(), wantSub: filepath.Join(dir, "no")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteUTSFile(tc.path, tc.pid)
			if err == nil {
				t.Fatalf("WriteUTSFile(%q, %d) succeeded", tc.path, tc.pid)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v is not ErrNotExist", err)
			}
			if !strings.Contains(err.Error(), tc.wantSub) {
				t.Errorf("error %q does not mention %q", err, tc.wantSub)
			}
			if _, err := os.Lstat(tc.path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s was created (stat: %v)", tc.path, err)
			}
		})
	}
}

// TestReadUTSFile: what WriteUTSFile writes is read back exactly; a file it
// cannot have written (missing, truncated, garbled) is an error, never
// names.
func TestReadUTSFile(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name         string
		content      *string // nil: no file at all
		dir          bool    // the path is a directory
		node, domain string
		wantErr      string // substring of the error; "" means success
	}{
		{name: "two lines", content: ptr("host\nexample.org\n"), node: "host", domain: "example.org"},
		{name: "empty domain line", content: ptr("host\n\n"), node: "host", domain: ""},
		{name: "kernel default domain", content: ptr("localhost\n(none)\n"), node: "localhost", domain: "(none)"},
		{name: "both empty", content: ptr("\n\n"), node: "", domain: ""},

		{name: "longer than two names can be", content: ptr(strings.Repeat("h", 64) + "\n" + strings.Repeat("d", 65) + "\n"), wantErr: "malformed"},
		{name: "directory", dir: true, wantErr: "is a directory"},
		{name: "empty file", content: ptr(""), wantErr: "malformed"},
		{name: "one line without newline", content: ptr("host"), wantErr: "malformed"},
		{name: "domain line missing", content: ptr("host\n"), wantErr: "malformed"},
		{name: "truncated domain line", content: ptr("host\nexample.o"), wantErr: "malformed"},
		{name: "extra line", content: ptr("host\nexample.org\nextra\n"), wantErr: "malformed"},
		{name: "extra blank line", content: ptr("host\nexample.org\n\n"), wantErr: "malformed"},
		{name: "binary garbage", content: ptr("\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe"), wantErr: "malformed"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strconv.Itoa(i))
			switch {
			case tc.dir:
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			case tc.content != nil:
				if err := os.WriteFile(path, []byte(*tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			node, domain, err := readUTSPath(t, path)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("readUTSFile succeeded with %q, %q; want an error containing %q", node, domain, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not contain %q and the path %s", err, tc.wantErr, path)
				}
				if node != "" || domain != "" {
					t.Errorf("names %q, %q returned with the error", node, domain)
				}
				return
			}
			if err != nil {
				t.Fatalf("readUTSFile: %v", err)
			}
			if node != tc.node || domain != tc.domain {
				t.Errorf("readUTSFile = %q, %q; want %q, %q", node, domain, tc.node, tc.domain)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// readUTSPath opens path as create hands it to the sentry and reads it.
func readUTSPath(t *testing.T, path string) (string, string, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readUTSFile(f)
}
