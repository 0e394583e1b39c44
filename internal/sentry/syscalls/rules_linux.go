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

// socket(2) with the given tier for the calls it lets through. Denied with
// EPERM: AF_PACKET, and SOCK_RAW in AF_INET and AF_INET6 (raw IP). SOCK_RAW
// is not refused elsewhere: AF_NETLINK uses it for ordinary queries
// (getifaddrs). family and type are ints; type's low 4 bits are the socket
// type, the rest SOCK_NONBLOCK/SOCK_CLOEXEC. Families from 64 up (the
// kernel knows fewer than 64) match no case and get ENOSYS.
func socket(t Tier) Rule {
	const inet, inet6, packet, raw = unix.AF_INET, unix.AF_INET6, unix.AF_PACKET, unix.SOCK_RAW
	ok := Outcome{Tier: t}
	no := Outcome{Tier: Deny, Errno: unix.EPERM}
	ip := each(oneOf(0, width32, inet, inet6))
	var cs []Case
	cs = append(cs, cases(ok, each(span(0, width32, 0, 63, inet, inet6, packet))...)...)
	cs = append(cs, cases(ok, cross(ip, each(span(1, 0xf, 0, 15, raw)))...)...)
	cs = append(cs, cases(no, each(oneOf(0, width32, packet))...)...)
	cs = append(cs, cases(no, cross(ip, each(oneOf(1, 0xf, raw)))...)...)
	return Rule{
		Tier:    t,
		Cases:   cs,
		Summary: "EPERM: AF_PACKET, SOCK_RAW in AF_INET/AF_INET6; ENOSYS: family >= 64; else " + t.String(),
	}
}
