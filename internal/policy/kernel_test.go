//go:build seccomp && cgo

package policy

// These tests check the compiled filter with the real libseccomp and the
// real kernel: the profile is converted by libcontainer's own code
// (specconv.SetupSeccomp) and loaded by it (seccomp.InitSeccomp) in a child
// copy of the test binary, which then makes the calls and reports what the
// kernel answered. Loading needs root (CAP_SYS_ADMIN).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

const childEnv = "SYSCAGE_POLICY_TEST_CHILD"

func TestMain(m *testing.M) {
	if p := os.Getenv(childEnv); p != "" {
		os.Exit(child(p))
	}
	os.Exit(m.Run())
}

type probe struct {
	name string
	nr   uintptr
	args [6]uintptr
	want string // errno name, "ok" for success or an errno the kernel itself gives, "" to only report
}

const hi = 0xdead_0000_0000_0000 // garbage in the upper half of an int argument

func probes() []probe {
	buf := make([]byte, 512)
	p := uintptr(unsafe.Pointer(&buf[0]))
	return []probe{
		{"getpid", unix.SYS_GETPID, [6]uintptr{}, "ok"},
		{"uname (notified; listener closed)", unix.SYS_UNAME, [6]uintptr{p}, "ENOSYS"},
		{"clone(NEWUSER|FS)", unix.SYS_CLONE, [6]uintptr{unix.CLONE_NEWUSER | unix.CLONE_FS}, "EPERM"},
		{"clone(NEWNET|garbage)", unix.SYS_CLONE, [6]uintptr{unix.CLONE_NEWNET | unix.CLONE_FS | hi}, "EPERM"},
		{"unshare(NEWNS)", unix.SYS_UNSHARE, [6]uintptr{unix.CLONE_NEWNS}, "EPERM"},
		{"unshare(NEWTIME)", unix.SYS_UNSHARE, [6]uintptr{unix.CLONE_NEWTIME}, "EPERM"},
		{"unshare(FS)", unix.SYS_UNSHARE, [6]uintptr{unix.CLONE_FS}, "ok"},
		{"clone3", unix.SYS_CLONE3, [6]uintptr{0, 0}, "ENOSYS"},
		{"socket(PACKET)", unix.SYS_SOCKET, [6]uintptr{unix.AF_PACKET, unix.SOCK_DGRAM}, "EAFNOSUPPORT"},
		{"socket(INET, PACKET)", unix.SYS_SOCKET, [6]uintptr{unix.AF_INET, unix.SOCK_PACKET, 0x300}, "ESOCKTNOSUPPORT"},
		{"socket(INET|garbage, PACKET|CLOEXEC|garbage)", unix.SYS_SOCKET, [6]uintptr{unix.AF_INET | hi, unix.SOCK_PACKET | unix.SOCK_CLOEXEC | hi, 0x300}, "ESOCKTNOSUPPORT"},
		{"socket(VSOCK)", unix.SYS_SOCKET, [6]uintptr{unix.AF_VSOCK, unix.SOCK_STREAM}, "EAFNOSUPPORT"},
		{"socket(ALG)", unix.SYS_SOCKET, [6]uintptr{unix.AF_ALG, unix.SOCK_SEQPACKET}, "EAFNOSUPPORT"},
		{"socket(INET6, DGRAM)", unix.SYS_SOCKET, [6]uintptr{unix.AF_INET6, unix.SOCK_DGRAM | unix.SOCK_NONBLOCK}, "ok"},
		{"socket(UNIX, SEQPACKET)", unix.SYS_SOCKET, [6]uintptr{unix.AF_UNIX, unix.SOCK_SEQPACKET}, "ok"},
		{"socketpair(UNIX, STREAM)", unix.SYS_SOCKETPAIR, [6]uintptr{unix.AF_UNIX, unix.SOCK_STREAM, 0, p}, "ok"},
		{"socketpair(PACKET)", unix.SYS_SOCKETPAIR, [6]uintptr{unix.AF_PACKET, unix.SOCK_RAW, 0, p}, "EAFNOSUPPORT"},
		{"socket(INET|garbage, RAW)", unix.SYS_SOCKET, [6]uintptr{unix.AF_INET | hi, unix.SOCK_RAW, unix.IPPROTO_ICMP}, "EPERM"},
		{"socket(INET6, RAW|garbage)", unix.SYS_SOCKET, [6]uintptr{unix.AF_INET6, unix.SOCK_RAW | hi, unix.IPPROTO_ICMPV6}, "EPERM"},
		{"socket(INET, STREAM)", unix.SYS_SOCKET, [6]uintptr{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, "ok"},
		{"socket(NETLINK, RAW)", unix.SYS_SOCKET, [6]uintptr{unix.AF_NETLINK, unix.SOCK_RAW | unix.SOCK_CLOEXEC}, "ok"},
		{"socket(64)", unix.SYS_SOCKET, [6]uintptr{64, unix.SOCK_STREAM}, "EAFNOSUPPORT"},
		{"personality(query)", unix.SYS_PERSONALITY, [6]uintptr{0xffffffff}, "ok"},
		{"personality(ADDR_NO_RANDOMIZE|garbage)", unix.SYS_PERSONALITY, [6]uintptr{0x0040000 | hi}, "EPERM"},
		{"ioctl(TIOCSTI|garbage)", unix.SYS_IOCTL, [6]uintptr{0, unix.TIOCSTI | hi, p}, "EPERM"},
		{"ioctl(TIOCLINUX)", unix.SYS_IOCTL, [6]uintptr{0, unix.TIOCLINUX, p}, "EPERM"},
		{"ioctl(TCGETS on a pipe)", unix.SYS_IOCTL, [6]uintptr{devnull(), unix.TCGETS, p}, "ENOTTY"},
		{"mount", unix.SYS_MOUNT, [6]uintptr{}, "EPERM"},
		{"bpf", unix.SYS_BPF, [6]uintptr{}, "EPERM"},
		{"io_uring_setup", unix.SYS_IO_URING_SETUP, [6]uintptr{1, p}, "EPERM"},
		{"keyctl", unix.SYS_KEYCTL, [6]uintptr{}, "EPERM"},
		{"ptrace", unix.SYS_PTRACE, [6]uintptr{}, "EPERM"},
		{"open_by_handle_at", unix.SYS_OPEN_BY_HANDLE_AT, [6]uintptr{}, "EPERM"},
		{"syslog", unix.SYS_SYSLOG, [6]uintptr{3, p, 10}, "EPERM"},
		// A workload's own filters: plain ones install (by seccomp and by
		// prctl, which has no flags and so cannot make a listener); one
		// that makes a listener is refused (the child closed the sentry's
		// listener, so the kernel itself would allow it).
		{"seccomp(SET_MODE_FILTER, 0)", unix.SYS_SECCOMP, [6]uintptr{1, 0, allowProg()}, "ok"},
		{"seccomp(SET_MODE_FILTER, TSYNC)", unix.SYS_SECCOMP, [6]uintptr{1, unix.SECCOMP_FILTER_FLAG_TSYNC, allowProg()}, "ok"},
		{"prctl(PR_SET_SECCOMP, FILTER)", unix.SYS_PRCTL, [6]uintptr{unix.PR_SET_SECCOMP, 2, allowProg()}, "ok"},
		{"seccomp(SET_MODE_FILTER, NEW_LISTENER)", unix.SYS_SECCOMP, [6]uintptr{1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, allowProg()}, "EPERM"},
		{"seccomp(SET_MODE_FILTER, NEW_LISTENER|TSYNC_ESRCH|garbage)", unix.SYS_SECCOMP, [6]uintptr{1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | hi, allowProg()}, "EPERM"},
		{"number 400 (none)", 400, [6]uintptr{}, "ENOSYS"},
		{"number 1000 (none)", 1000, [6]uintptr{}, "ENOSYS"},
		// Newer than libseccomp 2.5.4 knows: report what happens.
		{"fchmodat2 (452)", 452, [6]uintptr{^uintptr(0), p, 0, 0}, ""},
		{"futex_wake (454)", 454, [6]uintptr{0, 0, 0, 0}, ""},
		{"mseal (462)", 462, [6]uintptr{0, 0, 0}, ""},
		{"file_getattr (468)", 468, [6]uintptr{^uintptr(0), 0, 0, 0, 0}, ""},
	}
}

var nullFd uintptr

// allowFilter is a seccomp program that allows everything, for the
// probes that install a filter of the workload's own.
var (
	allowIns  = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	allowFpro = unix.SockFprog{Len: 1, Filter: &allowIns[0]}
)

func allowProg() uintptr { return uintptr(unsafe.Pointer(&allowFpro)) }

func devnull() uintptr {
	if nullFd == 0 {
		var fds [2]int
		if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err == nil {
			nullFd = uintptr(fds[0])
		}
	}
	return nullFd
}

func child(profile string) int {
	runtime.LockOSThread()
	p, err := Builtin(profile)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	s, err := Compile(p, "/nonexistent/sentry.sock")
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	cfg, err := specconv.SetupSeccomp(s)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	pr := probes() // allocate before the filter
	fd, err := seccomp.InitSeccomp(cfg)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	unix.Close(fd) // no sentry: notified calls now fail with ENOSYS
	for _, x := range pr {
		_, _, e := unix.RawSyscall6(x.nr, x.args[0], x.args[1], x.args[2], x.args[3], x.args[4], x.args[5])
		got := "ok"
		if e != 0 {
			got = unix.ErrnoName(e)
		}
		fmt.Printf("%s\t%s\n", x.name, got)
	}
	os.Stdout.Sync()
	// Last: an x32 call (getpid with the x32 bit). Not listed as an
	// architecture, so libseccomp's bad-architecture action applies; if
	// that kills the calling thread, another thread ends the process.
	go func() {
		time.Sleep(2 * time.Second)
		fmt.Printf("x32 getpid\tthread killed\n")
		os.Exit(0)
	}()
	_, _, e := unix.RawSyscall(0x40000000|unix.SYS_GETPID, 0, 0, 0)
	fmt.Printf("x32 getpid\t%s\n", unix.ErrnoName(e))
	return 0
}

func TestKernelEnforcesProfiles(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading a seccomp filter with libcontainer needs root")
	}
	for _, profile := range Names() {
		t.Run(profile, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.WaitDelay = 5 * time.Second
			cmd.Env = append(os.Environ(), childEnv+"="+profile)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			got := map[string]string{}
			sc := bufio.NewScanner(&out)
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), "\t"); ok {
					got[k] = v
				}
			}
			if len(got) == 0 {
				t.Fatalf("child: %v\n%s", err, out.String())
			}
			prof, _ := Builtin(profile)
			for _, x := range probes() {
				var args [6]uint64
				for i, a := range x.args {
					args[i] = uint64(a)
				}
				if _, o := prof.Decide(int(x.nr), args); o.Tier.Notified() && x.want != "" {
					x.want = "ENOSYS" // the listener is closed: no sentry here
				}
				g, ok := got[x.name]
				switch {
				case !ok:
					t.Errorf("%s: no result", x.name)
				case x.want == "":
					t.Logf("%s: %s", x.name, g)
				case g != x.want:
					t.Errorf("%s: %s, want %s", x.name, g, x.want)
				}
			}
			x32, ok := got["x32 getpid"]
			if !ok {
				x32 = fmt.Sprintf("no answer: the child ended with %v", err)
			} else if x32 != "ENOSYS" && x32 != "EPERM" && x32 != "thread killed" {
				t.Errorf("x32 getpid: %s", x32)
			}
			t.Logf("x32 getpid: %s", x32)
		})
	}
}

// TestLibseccompKnowsNames reports which table names this libseccomp cannot
// resolve (runc skips their rules, so they get the default ENOSYS) and
// builds the filter with libseccomp to see its size.
func TestLibseccompKnowsNames(t *testing.T) {
	var unknown []string
	for _, e := range syscalls.All() {
		nr, err := libseccomp.GetSyscallFromName(e.Name)
		if err != nil {
			unknown = append(unknown, e.Name)
			continue
		}
		if int(nr) != e.Nr {
			t.Errorf("%s: libseccomp says %d, the table %d", e.Name, nr, e.Nr)
		}
	}
	maj, min, mic := libseccomp.GetLibraryVersion()
	t.Logf("libseccomp %d.%d.%d does not know %d names (they get ENOSYS): %v", maj, min, mic, len(unknown), unknown)
	for _, profile := range Names() {
		p, _ := Builtin(profile)
		s, err := Compile(p, "/x")
		if err != nil {
			t.Fatal(err)
		}
		n, err := bpfSize(s)
		if err != nil {
			t.Fatalf("%s: %v", profile, err)
		}
		t.Logf("%s: %d rules, %d BPF instructions (limit 4096)", profile, len(s.Syscalls), n)
		if n > 4096 {
			t.Errorf("%s: program too long", profile)
		}
	}
}
