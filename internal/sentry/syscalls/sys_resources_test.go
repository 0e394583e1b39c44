package syscalls

import (
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

type fakeResources struct {
	si    unix.Sysinfo_t
	cpus  int
	tasks []int
	err   error
}

func (f fakeResources) Sysinfo() (unix.Sysinfo_t, error) { return f.si, f.err }
func (f fakeResources) CPUs() (int, error)               { return f.cpus, f.err }
func (f fakeResources) Tasks() ([]int, error)            { return f.tasks, f.err }

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

func TestSchedGetaffinity(t *testing.T) {
	real := []byte{0xed, 0x01, 0, 0, 0, 0, 0, 0} // CPUs 0, 2, 3, 5, 6, 7, 8
	defer func(f func(int, []byte) (int, unix.Errno)) { affinityOf = f }(affinityOf)
	var kernelErr unix.Errno
	affinityOf = func(tid int, buf []byte) (int, unix.Errno) {
		if kernelErr != 0 {
			return 0, kernelErr
		}
		if tid != 42 {
			return copy(buf, []byte{0xff, 0, 0, 0, 0, 0, 0, 0}), 0 // another thread: CPUs 0-7
		}
		return copy(buf, real), 0
	}
	for _, tc := range []struct {
		name      string
		len       uint64
		res       Resources
		kernelErr unix.Errno
		fault     bool
		want      []byte
		errno     unix.Errno
	}{
		{"three CPUs shown: the lowest three kept", 128, fakeResources{cpus: 3}, 0, false, []byte{0x0d, 0, 0, 0, 0, 0, 0, 0}, 0},
		{"one CPU", 8, fakeResources{cpus: 1}, 0, false, []byte{0x01, 0, 0, 0, 0, 0, 0, 0}, 0},
		{"more shown than set: unchanged", 8, fakeResources{cpus: 16}, 0, false, real, 0},
		{"no view: the kernel's mask", 8, nil, 0, false, real, 0},
		{"view unreadable: the kernel's mask", 8, fakeResources{err: errors.New("gone")}, 0, false, real, 0},
		{"length not a multiple of 8: EINVAL", 12, fakeResources{cpus: 1}, 0, false, nil, unix.EINVAL},
		{"zero length: EINVAL", 0, fakeResources{cpus: 1}, 0, false, nil, unix.EINVAL},
		{"length 1<<40, an unsigned int of 0 to the kernel: EINVAL", 1 << 40, fakeResources{cpus: 1}, 0, false, nil, unix.EINVAL},
		{"the kernel's error", 8, fakeResources{cpus: 1}, unix.ESRCH, false, nil, unix.ESRCH},
		{"bad buffer: EFAULT", 8, fakeResources{cpus: 1}, 0, true, nil, unix.EFAULT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kernelErr = tc.kernelErr
			task := &fakeTask{fail: tc.fault}
			r := SchedGetaffinity(task, [6]uint64{0, tc.len, 0x2000}, &Env{Resources: tc.res})
			if r.Errno != tc.errno {
				t.Fatalf("errno = %v, want %v", r.Errno, tc.errno)
			}
			if tc.errno != 0 {
				return
			}
			if r.Val != int64(len(tc.want)) || string(task.mem) != string(tc.want) {
				t.Errorf("= %d, %x; want %d, %x", r.Val, task.mem, len(tc.want), tc.want)
			}
		})
	}
}

func TestSchedGetaffinityTargets(t *testing.T) {
	defer func(f func(int, []byte) (int, unix.Errno)) { affinityOf = f }(affinityOf)
	defer func(f func(int) ([]int, error)) { nsPids = f }(nsPids)
	masks := map[int]byte{42: 0x03, 77: 0x0c}
	affinityOf = func(tid int, buf []byte) (int, unix.Errno) {
		m, ok := masks[tid]
		if !ok {
			return 0, unix.ESRCH
		}
		buf[0] = m
		return 8, 0
	}
	// The caller is host tid 42, 5 in its namespace; 77 is 9 there; 88 is
	// in the host's namespace only.
	nsPids = func(tid int) ([]int, error) {
		switch tid {
		case 42:
			return []int{42, 5}, nil
		case 77:
			return []int{77, 9}, nil
		case 88:
			return []int{88}, nil
		}
		return nil, unix.ESRCH
	}
	res := fakeResources{cpus: 8, tasks: []int{42, 77, 88}}
	for _, tc := range []struct {
		name  string
		pid   int64
		res   Resources
		want  byte
		errno unix.Errno
	}{
		{"0: the caller", 0, res, 0x03, 0},
		{"its own id (pthread_getaffinity_np)", 5, res, 0x03, 0},
		{"another thread of the container", 9, res, 0x0c, 0},
		{"a host id: not in the caller's namespace", 88, res, 0, unix.ESRCH},
		{"no such thread", 1000, res, 0, unix.ESRCH},
		{"negative", -1, res, 0, unix.ESRCH},
		{"no view: only the caller", 9, nil, 0, unix.ESRCH},
		{"no view, the caller", 5, nil, 0x03, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := &fakeTask{}
			r := SchedGetaffinity(task, [6]uint64{uint64(tc.pid), 8, 0x2000}, &Env{Resources: tc.res})
			if r.Errno != tc.errno {
				t.Fatalf("errno = %v, want %v", r.Errno, tc.errno)
			}
			if tc.errno == 0 && task.mem[0] != tc.want {
				t.Errorf("mask %#x, want %#x", task.mem[0], tc.want)
			}
		})
	}
}
