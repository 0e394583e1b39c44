package syscalls

import "golang.org/x/sys/unix"

// Value-dependent rules shared by the architectures' tables. Each passes
// exactly the calls its summary says and denies the rest of the argument
// space with an explicit errno (the table's tests check both halves
// against the summary).

// nsFlags are clone's namespace-creating flags. CLONE_NEWTIME (0x80) is not
// among them: in clone(2)'s flags that bit belongs to the exit signal, and
// only clone3 and unshare accept it.
const nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

var (
	cloneRule = passUnlessBits(0, nsFlags, unix.EPERM,
		"pass: flags & 0x7e020000 (CLONE_NEW*) == 0; else EPERM")
	unshareRule = passUnlessBits(0, nsFlags|unix.CLONE_NEWTIME, unix.EPERM,
		"pass: flags & 0x7e020080 (CLONE_NEW*) == 0; else EPERM")

	// personality(2): the values Docker's default profile allows:
	// PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32 and the query
	// 0xffffffff. The kernel reads an unsigned int, so only the low 32 bits
	// are compared.
	personalityRule = passOnly(0, width32, unix.EPERM,
		"pass: persona 0x0, 0x8, 0x20000, 0x20008, 0xffffffff; else EPERM",
		0x0, 0x8, 0x20000, 0x20008, 0xffffffff)

	// ioctl(2): TIOCSTI pushes input into a terminal another process may
	// read from (the classic container escape to a host shell), TIOCLINUX
	// reaches the virtual console. cmd is an unsigned int.
	ioctlRule = passExcept(1, width32, unix.EPERM,
		"EPERM: cmd TIOCSTI (0x5412), TIOCLINUX (0x541c); else pass",
		unix.TIOCSTI, unix.TIOCLINUX)

	socketRule = socket(Pass)

	// seccomp(2): a workload may add filters of its own (systemd, Chrome
	// and every libseccomp user do), but never one that makes a listener:
	// with SECCOMP_FILTER_FLAG_NEW_LISTENER a process becomes a seccomp
	// agent for its own calls. While the sentry's listener exists the
	// kernel refuses a second one (EBUSY); once the sentry is gone it
	// would not, and the workload's agent, answering CONTINUE, would beat
	// our filter's notify (the newest filter wins a tie) and get the
	// host's answers. flags is an unsigned int (arg 1); only the one bit
	// is tested, whatever the operation: a listener flag on any other
	// operation is invalid anyway. prctl(PR_SET_SECCOMP) passes no flags
	// (the kernel calls do_seccomp with flags 0), so it cannot make a
	// listener. internal/policy (floor.go) keeps it in every profile, file and merge.
	seccompRule = passUnlessBits(1, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, unix.EPERM,
		"pass: flags & SECCOMP_FILTER_FLAG_NEW_LISTENER (0x8) == 0; else EPERM")

	// Under strict, MSG_FASTOPEN is refused on the send calls: with it,
	// sendto/sendmsg/sendmmsg open a TCP connection to an address in
	// memory, which would go around connect's proxy (and its refusal of
	// cloud-metadata addresses). The flags are an unsigned int; only the
	// one bit is tested.
	sendtoStrictRule = passUnlessBits(3, unix.MSG_FASTOPEN, unix.EPERM,
		"pass: flags & MSG_FASTOPEN (0x20000000) == 0; else EPERM")
	sendmsgStrictRule = passUnlessBits(2, unix.MSG_FASTOPEN, unix.EPERM,
		"pass: flags & MSG_FASTOPEN (0x20000000) == 0; else EPERM")
)

// socket(2) and socketpair(2) with the given tier for the calls they let
// through: an allowlist, by family and, in the IP families, by type.
//
//   - AF_UNIX and AF_NETLINK: any type (netlink's SOCK_RAW is how
//     getifaddrs and iproute2 talk to the kernel; the kernel checks
//     capabilities per protocol).
//   - AF_INET and AF_INET6: SOCK_STREAM, SOCK_DGRAM (UDP, and ICMP
//     datagram sockets, which ping uses without privileges) and
//     SOCK_SEQPACKET (SCTP). SOCK_RAW is refused with EPERM, the kernel's
//     answer without CAP_NET_RAW, which Docker and containerd grant by
//     default: raw IP forges any source address and protocol, and ping
//     falls back to its datagram socket on EPERM. Every other type —
//     SOCK_PACKET, which the kernel turns into an AF_PACKET socket for
//     AF_INET, SOCK_DCCP, SOCK_RDM — gets ESOCKTNOSUPPORT, what inet_create
//     answers for a type the family does not offer.
//   - every other family (AF_PACKET, AF_VSOCK, AF_ALG, AF_KEY, AF_TIPC,
//     AF_BLUETOOTH, AF_XDP ... and numbers the kernel does not have) gets
//     EAFNOSUPPORT, what a kernel built without the family answers, so
//     Python, Go and glibc fall back as they would there.
//
// family and type are ints: family is compared in its low 32 bits, type in
// its low 4 (the socket type; above them sit SOCK_NONBLOCK and
// SOCK_CLOEXEC). The cases are disjoint and cover every value.
func socket(t Tier) Rule {
	const inet, inet6, unixf, netlink = unix.AF_INET, unix.AF_INET6, unix.AF_UNIX, unix.AF_NETLINK
	const typeMask = 0xf
	ok := Outcome{Tier: t}
	ip := each(oneOf(0, width32, inet, inet6))
	inetTypes := []uint64{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET}
	var cs []Case
	cs = append(cs, cases(ok, each(oneOf(0, width32, unixf, netlink))...)...)
	cs = append(cs, cases(ok, cross(ip, each(oneOf(1, typeMask, inetTypes...)))...)...)
	cs = append(cs, cases(Outcome{Tier: Deny, Errno: unix.EPERM}, cross(ip, each(oneOf(1, typeMask, unix.SOCK_RAW)))...)...)
	cs = append(cs, cases(Outcome{Tier: Deny, Errno: unix.ESOCKTNOSUPPORT},
		cross(ip, each(span(1, typeMask, 0, typeMask, append(inetTypes, unix.SOCK_RAW)...)))...)...)
	cs = append(cs, cases(Outcome{Tier: Deny, Errno: unix.EAFNOSUPPORT},
		each(span(0, width32, 0, width32, unixf, inet, inet6, netlink))...)...)
	return Rule{
		Tier:  t,
		Cases: cs,
		Summary: "EAFNOSUPPORT: family not unix/inet/inet6/netlink; in inet/inet6: EPERM SOCK_RAW, " +
			"ESOCKTNOSUPPORT not STREAM/DGRAM/SEQPACKET; else " + t.String(),
	}
}
