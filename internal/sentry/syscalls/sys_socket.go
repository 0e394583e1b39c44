package syscalls

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxSockaddr is the largest socket address the sentry copies
// (sizeof(struct sockaddr_storage)).
const maxSockaddr = 128

// blockedDestinations are refused by the connect proxy: the link-local
// ranges where cloud providers serve instance metadata and credentials
// (169.254.169.254, fd00:ec2::254), which a workload should never reach.
var blockedDestinations = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::/32"),
}

// sockaddrBufs hold the sentry's copies of socket addresses: a buffer
// handed to Task.ReadMemory (an interface) would otherwise be allocated
// per call. A buffer is overwritten by each read before it is looked at.
var sockaddrBufs = sync.Pool{New: func() any { return new([maxSockaddr]byte) }}

// sysConnect proxies connect(2). The socket address is copied into the
// sentry once; the check and the connect both use that copy, so a thread
// that rewrites the workload's buffer meanwhile changes nothing. The
// sentry connects the workload's own socket (a duplicate of its fd, the
// same open file description: blocking mode, options and result are the
// workload's) and returns connect's result.
//
// Supported: AF_INET and AF_INET6 (destinations in blockedDestinations
// are refused with EPERM; an IPv4-mapped IPv6 address is checked as
// IPv4), and AF_UNSPEC (a disconnect). Every other family that names
// something (an address longer than the family field) is refused with
// EACCES, because the kernel checks the connecting task, and that task
// would be the sentry: a unix connection records its credentials
// (SO_PEERCRED, SO_PEERSEC, SO_PEERPIDFD), so a server would see host
// root instead of the caller; a netlink connect checks CAP_NET_ADMIN over
// the socket's network namespace, which the sentry, root in the namespace
// that owns every container's user namespace, holds; and a unix path
// would be resolved in the sentry's root. An address of the family field
// alone names nothing; the kernel refuses it (EINVAL) on any socket.
//
// Known limit: for inet, too, the kernel's per-task checks on connect
// see the sentry — a Landlock network rule the workload put on itself,
// an AppArmor rule on its label — so under strict those do not bind a
// proxied connect (docs/security.md).
func sysConnect(t Task, args [6]uint64, _ *Env) Result {
	fd, addr, alen := int(int32(args[0])), uintptr(args[1]), int(int32(args[2]))
	if alen < 2 || alen > maxSockaddr {
		return Result{Errno: unix.EINVAL}
	}
	buf := sockaddrBufs.Get().(*[maxSockaddr]byte)
	defer sockaddrBufs.Put(buf)
	sa := buf[:alen]
	if err := t.ReadMemory(addr, sa); err != nil {
		return Result{Errno: unix.EFAULT}
	}
	family := binary.NativeEndian.Uint16(sa[0:2])
	switch family {
	case unix.AF_INET, unix.AF_INET6:
		if ip, ok := sockaddrIP(family, sa); ok && blocked(ip) {
			return Result{Errno: unix.EPERM}
		}
	case unix.AF_UNSPEC:
	default:
		if alen > 2 {
			return Result{Errno: unix.EACCES}
		}
	}
	sock, err := t.GetFd(fd)
	if err != nil {
		return Result{Errno: errnoOf(err, unix.EBADF)}
	}
	defer unix.Close(sock)
	return connectRaw(sock, sa)
}

// sockaddrIP extracts the destination address of an inet sockaddr.
func sockaddrIP(family uint16, sa []byte) (netip.Addr, bool) {
	switch {
	case family == unix.AF_INET && len(sa) >= 8:
		return netip.AddrFrom4([4]byte(sa[4:8])), true
	case family == unix.AF_INET6 && len(sa) >= 24:
		return netip.AddrFrom16([16]byte(sa[8:24])).Unmap(), true
	}
	return netip.Addr{}, false
}

func blocked(ip netip.Addr) bool {
	for _, p := range blockedDestinations {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// connectRaw calls connect(2) with the copied address bytes.
func connectRaw(sock int, sa []byte) Result {
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(sock), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		return Result{Errno: e}
	}
	return Result{}
}

func errnoOf(err error, fallback unix.Errno) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return fallback
}
