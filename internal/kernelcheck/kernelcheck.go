// Package kernelcheck probes the running kernel for the features syscage
// uses, so `syscage check` can say what this host supports, what falls
// back, and what cannot run. Each probe makes the call itself (with
// arguments that change nothing) rather than trusting the release string.
package kernelcheck

import (
	"errors"
	"os"
	"regexp"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Need says how much syscage depends on a feature.
type Need string

const (
	// Required: without it no container runs.
	Required Need = "required"
	// Fallback: without it syscage does the same job another way.
	Fallback Need = "fallback"
	// Optional: without it something is slower, nothing is weaker.
	Optional Need = "optional"
)

// Feature is one kernel feature and whether this kernel has it.
type Feature struct {
	Name    string `json:"name"`
	Since   string `json:"since"` // the Linux release that added it
	Need    Need   `json:"need"`
	UsedFor string `json:"usedFor"`
	// Without is what syscage does on a kernel that lacks it.
	Without string `json:"without"`
	Present bool   `json:"present"`
	Detail  string `json:"detail,omitempty"`
}

// probe is one feature's check: present, or why not.
type probe func() (bool, string)

var features = []struct {
	Feature
	probe probe
}{
	{Feature{Name: "seccomp user notification", Since: "5.0", Need: Required,
		UsedFor: "every emulated, proxied and checked call (the sentry)",
		Without: "no container can be created: its filter does not load"}, actionAvail(unix.SECCOMP_RET_USER_NOTIF)},
	{Feature{Name: "SECCOMP_USER_NOTIF_FLAG_CONTINUE", Since: "5.5", Need: Required,
		UsedFor: "checked calls (strict) and learn mode let the kernel go on",
		Without: "strict and learn cannot run; default can"}, minRelease(5, 5)},
	{Feature{Name: "process_vm_readv/writev", Since: "3.2", Need: Required,
		UsedFor: "the sentry reads and writes a caller's memory under its page protections",
		Without: "no emulated call can answer (uname fails with EFAULT)"}, processVM},
	{Feature{Name: "pidfd_open", Since: "5.3", Need: Required,
		UsedFor: "stopping the sentry; strict's connect proxy (the caller's socket)",
		Without: "no container: the sentry is stopped through a pidfd"}, pidfdOpen(0)},
	{Feature{Name: "pidfd_getfd", Since: "5.6", Need: Required,
		UsedFor: "strict's connect proxy works on the caller's own socket",
		Without: "strict cannot run"}, pidfdGetfd},
	{Feature{Name: "PIDFD_THREAD", Since: "6.9", Need: Fallback,
		UsedFor: "a pidfd for the exact thread that made a call",
		Without: "the pidfd names the caller's thread group (same file table in every ordinary program); same guarantees"}, pidfdOpen(unix.O_EXCL)},
	{Feature{Name: "openat2", Since: "5.6", Need: Required,
		UsedFor: "profile files named by annotation are opened beneath the administrator's directory",
		Without: "profiles chosen by annotation are refused; flags and built-ins work"}, openat2},
	{Feature{Name: "fsopen/fsmount/open_tree/move_mount", Since: "5.2", Need: Required,
		UsedFor: "the kernel-identity files over /proc, on a tmpfs attached nowhere on the host",
		Without: "no container with a mount namespace of its own can be created (the identity step fails)"}, fsopen},
	{Feature{Name: "FUSE (/dev/fuse, fsopen \"fuse\")", Since: "5.2", Need: Required,
		UsedFor: "each container's resource views (/proc/meminfo, cpuinfo, ...): a FUSE file system of its own",
		Without: "containers with resource views (the default) cannot be created: turn them off with a profile's \"resourceViews\": false or the annotation dev.syscage.resource-views=false"}, fuse},
	{Feature{Name: "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP", Since: "6.6", Need: Optional,
		UsedFor: "a shorter round trip for each mediated call",
		Without: "mediated calls are a few microseconds slower"}, minRelease(6, 6)},
}

// Probe checks every feature on the running kernel.
func Probe() []Feature {
	out := make([]Feature, 0, len(features))
	for _, f := range features {
		ft := f.Feature
		ft.Present, ft.Detail = f.probe()
		out = append(out, ft)
	}
	return out
}

// MissingRequired is the required features this kernel lacks.
func MissingRequired(fs []Feature) []Feature {
	var out []Feature
	for _, f := range fs {
		if f.Need == Required && !f.Present {
			out = append(out, f)
		}
	}
	return out
}

func actionAvail(action uint32) probe {
	return func() (bool, string) {
		a := action
		_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&a)))
		if e != 0 {
			return false, "SECCOMP_GET_ACTION_AVAIL: " + e.Error()
		}
		return true, ""
	}
}

// release is the running kernel's major and minor version.
func release() (int, int, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return 0, 0, err
	}
	return ParseRelease(unix.ByteSliceToString(u.Release[:]))
}

// releaseRE is the MAJOR.MINOR a kernel release starts with.
var releaseRE = regexp.MustCompile(`^(\d+)\.(\d+)`)

// ParseRelease reads the major and minor version a kernel release string
// starts with ("6.18.44-fc-v1272": 6, 18).
func ParseRelease(s string) (major, minor int, err error) {
	m := releaseRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, errors.New("release " + s + " is not MAJOR.MINOR")
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	return major, minor, nil
}

// minRelease is for flags no call reports: the release decides.
func minRelease(major, minor int) probe {
	return func() (bool, string) {
		ma, mi, err := release()
		if err != nil {
			return false, err.Error()
		}
		if ma > major || (ma == major && mi >= minor) {
			return true, "by release"
		}
		return false, "by release"
	}
}

func processVM() (bool, string) {
	src, dst := []byte{42}, []byte{0}
	local := []unix.Iovec{{Base: &dst[0], Len: 1}}
	remote := []unix.RemoteIovec{{Base: uintptr(unsafe.Pointer(&src[0])), Len: 1}}
	if _, err := unix.ProcessVMReadv(os.Getpid(), local, remote, 0); err != nil {
		return false, err.Error()
	}
	return dst[0] == 42, ""
}

func pidfdOpen(flags int) probe {
	return func() (bool, string) {
		fd, err := unix.PidfdOpen(os.Getpid(), flags)
		if err != nil {
			return false, err.Error()
		}
		unix.Close(fd)
		return true, ""
	}
}

func pidfdGetfd() (bool, string) {
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false, "pidfd_open: " + err.Error()
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, 0, 0)
	if err != nil {
		// EBADF (no fd 0) still says the call exists.
		return errors.Is(err, unix.EBADF), err.Error()
	}
	unix.Close(fd)
	return true, ""
}

func openat2() (bool, string) {
	fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_DIRECTORY, Resolve: unix.RESOLVE_NO_SYMLINKS})
	if err != nil {
		return false, err.Error()
	}
	unix.Close(fd)
	return true, ""
}

func fuse() (bool, string) {
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, "/dev/fuse: " + err.Error()
	}
	unix.Close(fd)
	fs, err := unix.Fsopen("fuse", unix.FSOPEN_CLOEXEC)
	if err != nil {
		// EPERM: the file system exists, this process may not mount it.
		return errors.Is(err, unix.EPERM), "fsopen fuse: " + err.Error()
	}
	unix.Close(fs)
	return true, ""
}

func fsopen() (bool, string) {
	fd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		// EPERM: the call exists, this process may not use it.
		return errors.Is(err, unix.EPERM), err.Error()
	}
	unix.Close(fd)
	return true, ""
}
