package syscalls

import (
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

type fakeResources struct {
	si  unix.Sysinfo_t
	err error
}

func (f fakeResources) Sysinfo() (unix.Sysinfo_t, error) { return f.si, f.err }

func TestSysinfo(t *testing.T) {
	view := unix.Sysinfo_t{Uptime: 7, Totalram: 256 << 20, Freeram: 200 << 20, Procs: 3, Unit: 1}
	for _, tc := range []struct {
		name  string
		res   Resources
		fault bool
		errno unix.Errno
	}{
		{"the container's view", fakeResources{si: view}, false, 0},
		{"no view: EIO, never the host's", nil, false, unix.EIO},
		{"the view cannot be read: EIO", fakeResources{err: errors.New("gone")}, false, unix.EIO},
		{"bad buffer: EFAULT", fakeResources{si: view}, true, unix.EFAULT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := &fakeTask{fail: tc.fault}
			r := Sysinfo(task, [6]uint64{0x1000}, &Env{Resources: tc.res})
			if r.Errno != tc.errno {
				t.Fatalf("errno = %v, want %v", r.Errno, tc.errno)
			}
			if tc.errno != 0 {
				if task.mem != nil {
					t.Errorf("wrote %d bytes on failure", len(task.mem))
				}
				return
			}
			if len(task.mem) != int(unsafe.Sizeof(view)) || task.addr != 0x1000 {
				t.Fatalf("wrote %d bytes at %#x", len(task.mem), task.addr)
			}
			got := *(*unix.Sysinfo_t)(unsafe.Pointer(&task.mem[0]))
			if got != view {
				t.Errorf("wrote %+v, want %+v", got, view)
			}
		})
	}
}
