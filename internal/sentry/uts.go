package sentry

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// UTSNames reads the node and domain name of the UTS namespace that pid
// lives in. A locked thread joins that namespace to call uname and is then
// retired (its goroutine returns without unlocking), so no other goroutine
// ever runs in the container's namespace.
func UTSNames(pid int) (nodename, domainname string, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/uts")
	if err != nil {
		return "", "", fmt.Errorf("opening UTS namespace of pid %d: %w", pid, err)
	}
	defer f.Close()
	type result struct {
		u   unix.Utsname
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		var r result
		if r.err = unix.Setns(int(f.Fd()), unix.CLONE_NEWUTS); r.err == nil {
			r.err = unix.Uname(&r.u)
		}
		ch <- r
	}()
	r := <-ch
	if r.err != nil {
		return "", "", fmt.Errorf("reading UTS names of pid %d: %w", pid, r.err)
	}
	return unix.ByteSliceToString(r.u.Nodename[:]), unix.ByteSliceToString(r.u.Domainname[:]), nil
}

// WriteUTSFile records the names uname reports for a container, for its
// sentry to read (the sentry itself has no right to enter namespaces).
func WriteUTSFile(path string, pid int) error {
	node, domain, err := UTSNames(pid)
	if err != nil {
		return err
	}
	return WriteUTSNames(path, node, domain)
}

// WriteUTSNames records names known without entering the container's
// namespace (a rootless runtime may not: the names its config set).
func WriteUTSNames(path, node, domain string) error {
	return os.WriteFile(path, []byte(node+"\n"+domain+"\n"), 0o600)
}

// maxUTSFile bounds what readUTSFile reads: two names of at most 64
// bytes each and their newlines.
const maxUTSFile = 2 * (64 + 1)

// readUTSFile reads what WriteUTSFile wrote, from the file's start (the
// sentry holds the file open from before its jail; create writes it in
// place): exactly two lines, each ending in a newline. Anything else (a
// truncated or garbled file) is an error, not names to show the container.
func readUTSFile(f *os.File) (nodename, domainname string, err error) {
	// Seek and read, not pread: the sentry's filter has lseek and read.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", "", fmt.Errorf("%s: %w", f.Name(), err)
	}
	buf := make([]byte, maxUTSFile+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", "", fmt.Errorf("%s: %w", f.Name(), err)
	}
	lines := strings.Split(string(buf[:n]), "\n")
	if n > maxUTSFile || len(lines) != 3 || lines[2] != "" {
		return "", "", fmt.Errorf("%s: malformed", f.Name())
	}
	return lines[0], lines[1], nil
}
