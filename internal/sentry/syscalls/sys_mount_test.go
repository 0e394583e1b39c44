package syscalls

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestMountCheck: a caller in a mount namespace of its own goes on to the
// kernel whatever its arguments (they are memory, never looked at); one
// in the host's gets EPERM. mount and umount2 both run the hook.
func TestMountCheck(t *testing.T) {
	for _, name := range []string{"mount", "umount2"} {
		e, ok := ByName(name)
		if !ok || e.CheckHook() == nil {
			t.Fatalf("%s has no check hook", name)
		}
		for _, tc := range []struct {
			hostMnt bool
			want    unix.Errno
		}{{false, 0}, {true, unix.EPERM}} {
			ft := &fakeTask{hostMnt: tc.hostMnt, fail: true}
			args := [6]uint64{0xdead, 0xbeef, 0, unix.MS_BIND | unix.MS_REC, 0}
			if r := e.CheckHook()(ft, args, &Env{}); r.Errno != tc.want {
				t.Errorf("%s, host mount namespace %v: errno %v, want %v", name, tc.hostMnt, r.Errno, tc.want)
			}
			if ft.mem != nil {
				t.Errorf("%s: the hook touched the caller's memory", name)
			}
		}
	}
}
