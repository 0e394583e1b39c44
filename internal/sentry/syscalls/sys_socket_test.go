package syscalls

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func inet4(ip [4]byte, port uint16) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint16(b, unix.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], ip[:])
	return b
}

func inet6(ip [16]byte) []byte {
	b := make([]byte, 28)
	binary.NativeEndian.PutUint16(b, unix.AF_INET6)
	copy(b[8:], ip[:])
	return b
}

func unixSock(path string, abstract bool) []byte {
	b := make([]byte, 2+1+len(path))
	binary.NativeEndian.PutUint16(b, unix.AF_UNIX)
	if abstract {
		copy(b[3:], path)
	} else {
		copy(b[2:], path)
	}
	return b
}

func netlinkSock() []byte {
	b := make([]byte, 12)
	binary.NativeEndian.PutUint16(b, unix.AF_NETLINK)
	return b
}

func familyOnly(family uint16, n int) []byte {
	b := make([]byte, n)
	binary.NativeEndian.PutUint16(b, family)
	return b
}

// TestConnectDecisions: what the proxy refuses is decided on the copied
// address alone; what it allows goes on to duplicate the caller's socket
// (the fake task has none to give, hence EBADF).
func TestConnectDecisions(t *testing.T) {
	mapped := [16]byte{10: 0xff, 11: 0xff, 12: 169, 13: 254, 14: 169, 15: 254}
	linkLocal6 := [16]byte{0: 0xfe, 1: 0x80, 15: 1}
	loop6 := [16]byte{15: 1}
	for _, tc := range []struct {
		name string
		sa   []byte
		alen int
		fail bool
		want unix.Errno
	}{
		{"metadata v4", inet4([4]byte{169, 254, 169, 254}, 80), 16, false, unix.EPERM},
		{"link-local v4", inet4([4]byte{169, 254, 1, 2}, 80), 16, false, unix.EPERM},
		{"metadata v4-mapped v6", inet6(mapped), 28, false, unix.EPERM},
		{"link-local v6", inet6(linkLocal6), 28, false, unix.EPERM},
		{"loopback v4 allowed", inet4([4]byte{127, 0, 0, 1}, 80), 16, false, unix.EBADF},
		{"loopback v6 allowed", inet6(loop6), 28, false, unix.EBADF},
		{"unix path refused", unixSock("/run/docker.sock", false), 19, false, unix.EACCES},
		{"unix abstract refused", unixSock("x", true), 4, false, unix.EACCES},
		{"unix unnamed (family only) to the kernel", unixSock("", false)[:2], 2, false, unix.EBADF},
		{"netlink refused", netlinkSock(), 12, false, unix.EACCES},
		{"packet refused", familyOnly(unix.AF_PACKET, 20), 20, false, unix.EACCES},
		{"vsock refused", familyOnly(unix.AF_VSOCK, 16), 16, false, unix.EACCES},
		{"unspec (disconnect) to the kernel", familyOnly(unix.AF_UNSPEC, 16), 16, false, unix.EBADF},
		{"short address", []byte{2}, 1, false, unix.EINVAL},
		{"oversized address", make([]byte, 200), 200, false, unix.EINVAL},
		{"unreadable address", inet4([4]byte{127, 0, 0, 1}, 80), 16, true, unix.EFAULT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := &fakeTask{mem: tc.sa, fail: tc.fail}
			r := sysConnect(task, [6]uint64{3, 0x1000, uint64(tc.alen)}, &Env{})
			if r.Errno != tc.want {
				t.Fatalf("connect = %v (val %d), want %v", r.Errno, r.Val, tc.want)
			}
		})
	}
}
