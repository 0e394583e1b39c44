package syscalls

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeTask records what a handler writes.
type fakeTask struct {
	addr uintptr
	mem  []byte
	fail bool
}

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
		{"plain", Env{"Linux", "box", "6.1.0-syscage", "#1 SMP", "x86_64", "(none)"},
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
