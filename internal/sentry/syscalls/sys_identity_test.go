package syscalls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fakeTask records what a handler writes.
type fakeTask struct {
	addr uintptr
	mem  []byte
	fail bool
	// caps is the caller's effective set; hostUTS says it shares the
	// host's UTS namespace.
	caps    uint64
	hostUTS bool
	// hostMnt says it shares the host's mount namespace.
	hostMnt bool
}

func (f *fakeTask) HasCapability(c int) (bool, error) { return f.caps&(1<<uint(c)) != 0, nil }
func (f *fakeTask) OwnUTS() (bool, error)             { return !f.hostUTS, nil }
func (f *fakeTask) OwnMountNS() (bool, error)         { return !f.hostMnt, nil }

func (f *fakeTask) Pid() int { return 42 }

func (f *fakeTask) WriteMemory(addr uintptr, b []byte) error {
	if f.fail {
		return errors.New("bad address")
	}
	f.addr, f.mem = addr, append([]byte(nil), b...)
	return nil
}

func (f *fakeTask) ReadMemory(addr uintptr, b []byte) error {
	if f.fail {
		return errors.New("bad address")
	}
	copy(b, f.mem)
	return nil
}

func (f *fakeTask) GetFd(int) (int, error) { return -1, unix.EBADF }

func field(b []byte, i int) string {
	f := b[i*65 : (i+1)*65]
	if f[64] != 0 {
		return "<not terminated>"
	}
	return string(f[:bytes.IndexByte(f, 0)])
}

func TestUname(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, tc := range []struct {
		name string
		env  Env
		want [6]string
	}{
		{"plain", Env{Sysname: "Linux", Nodename: "box", Release: "6.1.0-syscage", Version: "#1 SMP", Machine: "x86_64", Domainname: "(none)"},
			[6]string{"Linux", "box", "6.1.0-syscage", "#1 SMP", "x86_64", "(none)"}},
		{"truncated", Env{Sysname: "Linux", Release: long},
			[6]string{"Linux", "", long[:64], "", "", ""}},
		{"empty", Env{}, [6]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTask{}
			r := Uname(ft, [6]uint64{0x7fff0000}, &tc.env)
			if r != (Result{}) {
				t.Fatalf("result %+v", r)
			}
			if ft.addr != 0x7fff0000 || len(ft.mem) != 6*65 {
				t.Fatalf("wrote %d bytes at %#x", len(ft.mem), ft.addr)
			}
			if int(unsafeSizeofUtsname) != len(ft.mem) {
				t.Fatalf("struct utsname is %d bytes, wrote %d", unsafeSizeofUtsname, len(ft.mem))
			}
			for i, w := range tc.want {
				if got := field(ft.mem, i); got != w {
					t.Errorf("field %d = %q, want %q", i, got, w)
				}
			}
		})
	}
	if r := Uname(&fakeTask{fail: true}, [6]uint64{0}, &Env{}); r.Errno != unix.EFAULT {
		t.Errorf("unwritable buffer: %+v, want EFAULT", r)
	}
}

// nopTask takes a write without keeping it: for counting the handler's
// own allocations.
type nopTask struct{ fakeTask }

func (*nopTask) WriteMemory(uintptr, []byte) error { return nil }

// TestUnameFollowsRenames: the laid-out struct uname writes is reused
// between calls (no allocation per call) and still follows every change
// of the names, back and forth, and of the environment.
func TestUnameFollowsRenames(t *testing.T) {
	env := &Env{Sysname: "Linux", Release: "6.1", UTS: NewUTSNames("a", "d")}
	check := func(wantNode, wantDom, wantRel string) {
		t.Helper()
		ft := &fakeTask{}
		if r := Uname(ft, [6]uint64{0x1000}, env); r != (Result{}) {
			t.Fatalf("result %+v", r)
		}
		for i, w := range [6]string{"Linux", wantNode, wantRel, "", "", wantDom} {
			if got := field(ft.mem, i); got != w {
				t.Errorf("field %d = %q, want %q", i, got, w)
			}
		}
	}
	check("a", "d", "6.1")
	env.UTS.SetNode("b")
	check("b", "d", "6.1")
	env.UTS.SetDomain("e")
	check("b", "e", "6.1")
	env.UTS.SetNode("a")
	env.UTS.SetDomain("d")
	check("a", "d", "6.1")
	other := *env
	other.Release = "6.2"
	env = &other
	check("a", "d", "6.2")
	nop := &nopTask{}
	if n := testing.AllocsPerRun(100, func() { Uname(nop, [6]uint64{0x1000}, env) }); n != 0 {
		t.Errorf("uname allocates %v times a call, want 0", n)
	}
}

// TestSethostnameCheck: the call goes on (the kernel decides the rest)
// in the container's own UTS namespace and is refused in the host's; the
// emulated uname follows a name the kernel will accept, and only such.
func TestSethostnameCheck(t *testing.T) {
	admin := uint64(1) << unix.CAP_SYS_ADMIN
	for _, tc := range []struct {
		name     string
		task     fakeTask
		len      int
		want     unix.Errno
		wantNode string
	}{
		{"own namespace, CAP_SYS_ADMIN", fakeTask{mem: []byte("renamed"), caps: admin}, 7, 0, "renamed"},
		{"own namespace, no CAP_SYS_ADMIN: the kernel says EPERM", fakeTask{mem: []byte("renamed")}, 7, 0, "orig"},
		{"too long: the kernel says EINVAL", fakeTask{mem: make([]byte, 65), caps: admin}, 65, 0, "orig"},
		{"unreadable name: the kernel says EFAULT", fakeTask{fail: true, caps: admin}, 7, 0, "orig"},
		{"the host's namespace", fakeTask{mem: []byte("renamed"), caps: admin, hostUTS: true}, 7, unix.EPERM, "orig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := &Env{UTS: NewUTSNames("orig", "dom")}
			r := SethostnameCheck(&tc.task, [6]uint64{0x1000, uint64(tc.len)}, env)
			if r.Errno != tc.want {
				t.Errorf("errno %v, want %v", r.Errno, tc.want)
			}
			if node, dom := env.UTS.Get(); node != tc.wantNode || dom != "dom" {
				t.Errorf("names %q %q, want %q dom", node, dom, tc.wantNode)
			}
		})
	}
	env := &Env{UTS: NewUTSNames("orig", "dom")}
	if r := SetdomainnameCheck(&fakeTask{mem: []byte("newdom"), caps: admin}, [6]uint64{0x1000, 6}, env); r.Errno != 0 {
		t.Fatal(r.Errno)
	}
	if node, dom := env.UTS.Get(); node != "orig" || dom != "newdom" {
		t.Errorf("after setdomainname: %q %q", node, dom)
	}
}

// TestAdjtimex: a query (modes 0) is answered from the sentry's own
// adjtimex on the copy and written back; any mode that sets the clock is
// refused; an unreadable buffer is EFAULT.
func TestAdjtimex(t *testing.T) {
	size := int(unsafe.Sizeof(unix.Timex{}))
	query := make([]byte, size)
	setting := make([]byte, size)
	binary.NativeEndian.PutUint32(setting, unix.ADJ_OFFSET)
	for _, tc := range []struct {
		name string
		task *fakeTask
		want unix.Errno
	}{
		{"query", &fakeTask{mem: query}, 0},
		{"set the offset", &fakeTask{mem: setting}, unix.EPERM},
		{"unreadable", &fakeTask{fail: true}, unix.EFAULT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Adjtimex(tc.task, [6]uint64{0x1000}, &Env{})
			if r.Errno != tc.want {
				t.Fatalf("errno %v, want %v", r.Errno, tc.want)
			}
			if tc.want == 0 && (len(tc.task.mem) != size || r.Val < 0) {
				t.Errorf("query: wrote %d bytes, state %d", len(tc.task.mem), r.Val)
			}
			if tc.want != 0 && tc.task.addr != 0 {
				t.Errorf("refused, but wrote to the caller")
			}
		})
	}
}
