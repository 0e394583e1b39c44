// Package subid reads the subordinate id ranges /etc/subuid and
// /etc/subgid grant a user (shadow's format, what newuidmap checks).
package subid

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Range is a range of subordinate ids (/etc/subuid, /etc/subgid).
type Range struct {
	Start, Count uint32
}

// Lookup returns the first range file (/etc/subuid or /etc/subgid)
// grants the user (by name or by number); nil when the file does not
// exist or names none for the user.
func Lookup(file, user string, id int) (*Range, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	defer f.Close()
	r, err := parse(f, user, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return r, nil
}

// parse reads lines "name-or-id:start:count" and returns the first
// that is the user's.
func parse(r io.Reader, user string, id int) (*Range, error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want name:start:count, got %q", n, line)
		}
		if f[0] != user && f[0] != strconv.Itoa(id) {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		count, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			return nil, fmt.Errorf("line %d: bad range %q", n, line)
		}
		return &Range{Start: uint32(start), Count: uint32(count)}, nil
	}
	return nil, sc.Err()
}

// Covers reports whether the ranges r (any may be nil) hold every id of
// [start, start+size).
func Covers(r *Range, start, size uint32) bool {
	return r != nil && start >= r.Start && uint64(start)+uint64(size) <= uint64(r.Start)+uint64(r.Count)
}
