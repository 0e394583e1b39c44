package policy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxFileSize is the largest profile file LoadFileInDir reads. A learned
// profile of a large program is a few tens of KiB.
const MaxFileSize = 1 << 20

// profileName is what a profile name chosen by someone who must not name
// paths (a pod's annotation) may look like: no slash, no NUL, not hidden,
// not "." or "..", at most 128 bytes.
var profileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// DirName checks a profile name given by an untrusted party and returns
// the file it names in a profile directory: "web" and "web.json" both
// name web.json. It refuses paths, hidden names and the built-in
// profiles' names (which are not files).
func DirName(name string) (string, error) {
	if !profileName.MatchString(name) {
		return "", fmt.Errorf("%q is not a profile name: want letters, digits, '.', '_' or '-' (at most 128, not starting with '.'), never a path", name)
	}
	base := strings.TrimSuffix(name, ".json")
	if base == "" || base == Learn || IsBuiltin(base) {
		return "", fmt.Errorf("%q: %s is a built-in profile, not a file", name, base)
	}
	return base + ".json", nil
}

// IsBuiltin reports whether name is a built-in profile ("learn" is not).
func IsBuiltin(name string) bool {
	return slices.Contains(Names(), name)
}

// LoadFileInDir reads, validates and compiles the profile file name
// (a DirName result) in dir, without following a symbolic link anywhere
// below dir and without leaving it: the file is opened with openat2
// (RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS,
// RESOLVE_NO_XDEV) relative to an fd of dir, must be a regular file of at
// most MaxFileSize bytes, and is read from that fd, so what is checked is
// what is read. dir itself is the administrator's and is resolved as
// usual. On a kernel without openat2 (before 5.6) it refuses.
func LoadFileInDir(dir, name string) (*Profile, error) {
	path := filepath.Join(dir, name)
	if _, err := DirName(name); err != nil || filepath.Base(name) != name {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%q is not a file name", name)}
	}
	data, err := readBeneath(dir, name, MaxFileSize)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	return ParseFile(path, data)
}

// readBeneath reads the regular file name in dir, refusing symbolic links,
// anything but a regular file, and files larger than max bytes.
func readBeneath(dir, name string, max int64) ([]byte, error) {
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the profile directory %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	// O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOCTTY:
	// a terminal must not become ours. Neither matters once the file is
	// known to be regular.
	fd, err := unix.Openat2(dfd, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	})
	switch {
	case errors.Is(err, unix.ENOSYS):
		return nil, errors.New("this kernel has no openat2 (Linux 5.6 or later is needed to open profile files safely); name a built-in profile, or give the file with --profile")
	case errors.Is(err, unix.ELOOP):
		return nil, errors.New("is a symbolic link (refused: a profile file in the profile directory must be the file itself)")
	case errors.Is(err, unix.EXDEV):
		return nil, errors.New("resolves outside the profile directory (refused)")
	case errors.Is(err, unix.ENOENT):
		return nil, fmt.Errorf("no such profile file in %s", dir)
	case err != nil:
		return nil, fmt.Errorf("opening: %w", err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(dir, name))
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("fstat: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("is not a regular file (mode %#o)", st.Mode&unix.S_IFMT)
	}
	if st.Size > max {
		return nil, fmt.Errorf("is %d bytes, more than the %d a profile file may have", st.Size, max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("grew past the %d bytes a profile file may have while being read", max)
	}
	return data, nil
}
