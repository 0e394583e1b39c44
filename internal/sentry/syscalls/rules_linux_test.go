package syscalls

import "golang.org/x/sys/unix"

// The rules the built-in profiles were first written as, before they
// became profile files (internal/policy/builtin/*.json): test data only,
// the cross-check of those files (columns_amd64_test.go holds which entry
// got which; builtin_test.go compares). The comments say why each door
// is closed; docs/profiles.md says it for users. Each rule passes
// exactly the calls its summary says and denies the rest of the argument
// space with an explicit errno (the tests check both halves against the
// summary).

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
	// reaches the virtual console, TIOCCONS redirects the host's console
	// output to the caller's terminal, and TIOCSETD changes a terminal's
	// line discipline, the door to the n_gsm, HDLC, slip and other
	// discipline drivers (n_gsm: CVE-2023-6546).
	// TIOCSETD's discipline is behind a pointer, so setting N_TTY cannot
	// be told from the rest in the filter: it is refused whatever it
	// sets (a pty starts in N_TTY; only ldattach/slattach set others).
	// cmd is an unsigned int.
	ioctlRule = passExcept(1, width32, unix.EPERM,
		"EPERM: cmd TIOCSTI (0x5412), TIOCLINUX (0x541c), TIOCCONS (0x541d), TIOCSETD (0x5423); else pass",
		unix.TIOCSTI, unix.TIOCLINUX, unix.TIOCCONS, unix.TIOCSETD)

	socketRule         = socket(Pass, false)
	socketNetAdminRule = socket(Pass, true)

	// pipe2(2) with O_NOTIFICATION_PIPE (O_EXCL, 0x80, in flags) makes a
	// watch-queue pipe, the kernel's general notification mechanism
	// (keyrings, mounts, USB): CVE-2022-0995 (out-of-bounds write in
	// watch_queue_set_filter) and the pipe-buffer bugs around it. No
	// container program uses one. flags is an int; only the one bit is
	// tested.
	pipe2Rule = passUnlessBits(1, unix.O_EXCL, unix.EPERM,
		"pass: flags & O_NOTIFICATION_PIPE (0x80) == 0; else EPERM")

	// Under strict, prctl(2) takes only the options real programs use on
	// themselves (the allowlist in prctlOptions); every other option gets
	// EPERM (and, with auditing on, an event): PR_SET_MM (rewriting the
	// process's memory map descriptors, CRIU), PR_SET_IO_FLUSHER,
	// PR_SET_MEMORY_MERGE (KSM), PR_SET_SYSCALL_USER_DISPATCH,
	// PR_SCHED_CORE, the perf, MCE and other architectures' options, and
	// whatever a future kernel adds. option is an int.
	prctlStrictRule = passOnly(0, width32, unix.EPERM,
		"pass: option in the strict allowlist (PDEATHSIG, DUMPABLE, KEEPCAPS, NAME, SECCOMP, CAPBSET, SECUREBITS, "+
			"TIMERSLACK, CHILD_SUBREAPER, NO_NEW_PRIVS, THP_DISABLE, CAP_AMBIENT, SPECULATION_CTRL, MDWE, TSC, TIMING, "+
			"SET_VMA, SET_PTRACER, GET_AUXV); else EPERM",
		prctlOptions...)

	// Under strict, ioctl(2) takes only the requests of ioctlRequests
	// (terminals and ptys, the generic FIO* file requests, the socket
	// queries of SIOCGIF* and friends, reflink and extent queries, the
	// entropy count); every other request gets EPERM (and, with auditing
	// on, an event): the device and driver multiplexers (tun, loop, block,
	// DRM, KVM, sound, input, USB, vhost), TIOCSTI/TIOCLINUX/TIOCCONS/
	// TIOCSETD (default's refusals), SIOCETHTOOL and the SIOCS* that
	// configure interfaces, file-system-specific requests (btrfs, ext4,
	// xfs), and whatever a future driver adds. cmd is an unsigned int.
	ioctlStrictRule = passOnly(1, width32, unix.EPERM,
		"pass: cmd in the strict allowlist (terminal and pty TC*/TIOC*, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC, "+
			"FIO/SIOC owner, SIOCGIF* queries, SIOCGSTAMP*, SIOCATMARK, SIOCOUTQNSD, FS_IOC_GETFLAGS/SETFLAGS, FS_IOC_FIEMAP, "+
			"FIGETBSZ, FICLONE, FICLONERANGE, RNDGETENTCNT); else EPERM",
		ioctlRequests...)

	// setsockopt(2): level SOL_TCP with TCP_ULP attaches an upper-layer
	// protocol (kTLS, espintcp, mptcp) to a TCP socket; the ULP path had
	// the use-after-free CVE-2023-0461 (a listening socket cloning its
	// ULP context). kTLS offload is a host, not a container, concern.
	setsockoptRule = setsockoptExcept("EPERM: level SOL_TCP (6) with option TCP_ULP (31); else pass",
		unix.SOL_TCP, unix.TCP_ULP)

	// Under strict, setsockopt(2) takes only the (level, option) pairs of
	// setsockoptPairs; every other pair gets EPERM (and, with auditing on,
	// an event). Closed beyond default's TCP_ULP: IP_XFRM_POLICY and
	// IP_IPSEC_POLICY (per-socket IPsec policy, the xfrm code),
	// UDP_ENCAP (ESP-in-UDP and L2TP encapsulation, xfrm again),
	// TCP_REPAIR and TCP_MD5SIG, the multicast-routing MRT_* options, the
	// socket options that attach eBPF programs (SO_ATTACH_BPF,
	// SO_ATTACH_REUSEPORT_*), the *FORCE buffer and SO_MARK/SO_DEBUG
	// options that want CAP_NET_ADMIN, every level of a family strict
	// does not open, and whatever a future kernel adds. level and option
	// are ints.
	setsockoptStrictRule = setsockoptOnly("pass: (level, option) in the strict allowlist (SOL_SOCKET, IP, IPV6, TCP, UDP, UDPLITE, "+
		"ICMPV6, NETLINK options programs set); else EPERM", setsockoptPairs)

	// Under strict, execveat(2) with AT_EMPTY_PATH (0x1000, flags, arg 4)
	// is refused with EPERM: it runs the file an fd refers to, so a
	// program written into a memfd (or a deleted file) runs without ever
	// being a path in the container's file system — fileless execution,
	// which path-based controls and image scanners cannot see. glibc's
	// fexecve(3) is execveat(fd, "", ..., AT_EMPTY_PATH), so fexecve fails
	// too. flags is an int; only the one bit is tested.
	execveatStrictRule = passUnlessBits(4, unix.AT_EMPTY_PATH, unix.EPERM,
		"pass: flags & AT_EMPTY_PATH (0x1000) == 0; else EPERM")

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

// prctlOptions are the prctl(2) options strict allows, get and set
// alike: what libcs, language runtimes, init shims (tini, dumb-init),
// systemd's sandboxing, Redis, Chrome's crash handler and the like make
// on themselves.
var prctlOptions = []uint64{
	unix.PR_SET_PDEATHSIG, unix.PR_GET_PDEATHSIG, unix.PR_GET_DUMPABLE, unix.PR_SET_DUMPABLE,
	unix.PR_GET_KEEPCAPS, unix.PR_SET_KEEPCAPS, unix.PR_GET_TIMING, unix.PR_SET_TIMING,
	unix.PR_SET_NAME, unix.PR_GET_NAME, unix.PR_GET_SECCOMP, unix.PR_SET_SECCOMP,
	unix.PR_CAPBSET_READ, unix.PR_CAPBSET_DROP, unix.PR_GET_TSC, unix.PR_SET_TSC,
	unix.PR_GET_SECUREBITS, unix.PR_SET_SECUREBITS, unix.PR_SET_TIMERSLACK, unix.PR_GET_TIMERSLACK,
	unix.PR_SET_CHILD_SUBREAPER, unix.PR_GET_CHILD_SUBREAPER, unix.PR_SET_NO_NEW_PRIVS, unix.PR_GET_NO_NEW_PRIVS,
	unix.PR_SET_THP_DISABLE, unix.PR_GET_THP_DISABLE, unix.PR_CAP_AMBIENT,
	unix.PR_GET_SPECULATION_CTRL, unix.PR_SET_SPECULATION_CTRL, unix.PR_SET_MDWE, unix.PR_GET_MDWE,
	unix.PR_SET_VMA, unix.PR_SET_PTRACER, unix.PR_GET_AUXV,
}

// ioctlRequests are the ioctl(2) requests strict allows: what shells,
// terminal programs, pty users (script, tmux, ssh, expect, Python's pty,
// Go's os/exec tests), libcs (isatty, tcgetattr, grantpt, unlockpt,
// ptsname), coreutils (cp's reflink and extent map, lsattr), network
// libraries asking about interfaces and queues, and OpenSSL's entropy
// check make. Numbers as on x86_64.
var ioctlRequests = []uint64{
	// termios and terminal control, 'T' 0x54xx
	0x5401, 0x5402, 0x5403, 0x5404, // TCGETS, TCSETS, TCSETSW, TCSETSF
	0x5405, 0x5406, 0x5407, 0x5408, // TCGETA, TCSETA, TCSETAW, TCSETAF
	0x5409, 0x540a, 0x540b, // TCSBRK, TCXONC, TCFLSH
	0x540c, 0x540d, 0x540e, // TIOCEXCL, TIOCNXCL, TIOCSCTTY
	0x540f, 0x5410, 0x5411, // TIOCGPGRP, TIOCSPGRP, TIOCOUTQ (SIOCOUTQ)
	0x5413, 0x5414, 0x541b, // TIOCGWINSZ, TIOCSWINSZ, FIONREAD (SIOCINQ)
	0x5420, 0x5421, 0x5422, // TIOCPKT, FIONBIO, TIOCNOTTY
	0x5425, 0x5427, 0x5428, 0x5429, // TCSBRKP, TIOCSBRK, TIOCCBRK, TIOCGSID
	0x802c542a, 0x402c542b, 0x402c542c, 0x402c542d, // TCGETS2, TCSETS2, TCSETSW2, TCSETSF2
	0x80045430, 0x40045431, 0x80045432, // TIOCGPTN, TIOCSPTLCK, TIOCGDEV
	0x40045436, 0x80045438, 0x80045439, 0x80045440, // TIOCSIG, TIOCGPKT, TIOCGPTLCK, TIOCGEXCL
	0x5441,                 // TIOCGPTPEER
	0x5450, 0x5451, 0x5452, // FIONCLEX, FIOCLEX, FIOASYNC
	// sockets, 0x89xx
	0x8901, 0x8902, 0x8903, 0x8904, // FIOSETOWN, SIOCSPGRP, FIOGETOWN, SIOCGPGRP
	0x8905, 0x8906, 0x8907, // SIOCATMARK, SIOCGSTAMP, SIOCGSTAMPNS
	0x8910, 0x8912, 0x8913, 0x8915, // SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR
	0x8917, 0x8919, 0x891b, 0x891d, // SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMETRIC
	0x8921, 0x8927, 0x8933, 0x8942, // SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFTXQLEN
	0x894b, // SIOCOUTQNSD
	// files
	0x80086601, 0x40086602, 0xc020660b, // FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FIEMAP
	0x2,                    // FIGETBSZ
	0x40049409, 0x4020940d, // FICLONE, FICLONERANGE
	0x80045200, // RNDGETENTCNT
}

// setsockoptPairs are the setsockopt(2) (level, option) pairs strict
// allows, by level: what servers, clients, language runtimes (Go's net,
// CPython's socket tests), resolvers, ping, udev monitors and multicast
// users set. Numbers as on x86_64.
var setsockoptPairs = map[uint64][]uint64{
	// SOL_SOCKET: REUSEADDR, DONTROUTE, BROADCAST, SNDBUF, RCVBUF,
	// KEEPALIVE, OOBINLINE, NO_CHECK, PRIORITY, LINGER, BSDCOMPAT,
	// REUSEPORT, PASSCRED, RCVLOWAT, SNDLOWAT, RCVTIMEO_OLD, SNDTIMEO_OLD,
	// BINDTODEVICE, ATTACH_FILTER, DETACH_FILTER, TIMESTAMP_OLD, PASSSEC,
	// TIMESTAMPNS_OLD, TIMESTAMPING_OLD, RXQ_OVFL, PEEK_OFF, LOCK_FILTER,
	// SELECT_ERR_QUEUE, MAX_PACING_RATE, INCOMING_CPU, ZEROCOPY,
	// BINDTOIFINDEX, TIMESTAMP_NEW, TIMESTAMPNS_NEW, TIMESTAMPING_NEW,
	// RCVTIMEO_NEW, SNDTIMEO_NEW, BUF_LOCK, PASSPIDFD. Classic BPF socket
	// filters (ATTACH_FILTER) stay: udev monitors and DHCP clients use them.
	unix.SOL_SOCKET: {2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 25, 26, 27, 29, 34, 35, 37,
		40, 42, 44, 45, 47, 49, 60, 62, 63, 64, 65, 66, 67, 72, 76},
	// IPPROTO_IP: TOS, TTL, OPTIONS, RECVOPTS, RETOPTS, PKTINFO,
	// MTU_DISCOVER, RECVERR, RECVTTL, RECVTOS, MTU, FREEBIND,
	// BIND_ADDRESS_NO_PORT, RECVFRAGSIZE, RECVERR_RFC4884, and the
	// multicast options 32..51 (MULTICAST_IF ... LOCAL_PORT_RANGE).
	unix.IPPROTO_IP: {1, 2, 4, 6, 7, 8, 10, 11, 12, 13, 14, 15, 24, 25, 26,
		32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51},
	// IPPROTO_IPV6: UNICAST_HOPS, MULTICAST_IF/HOPS/LOOP, ADD/DROP_MEMBERSHIP,
	// MTU_DISCOVER, MTU, RECVERR, V6ONLY, MULTICAST_ALL, RECVERR_RFC4884,
	// MCAST_* (42..48), RECVPKTINFO, PKTINFO, RECVHOPLIMIT, HOPLIMIT,
	// RECVPATHMTU, PATHMTU, DONTFRAG, RECVTCLASS, TCLASS, AUTOFLOWLABEL,
	// ADDR_PREFERENCES, UNICAST_IF, RECVFRAGSIZE, FREEBIND. Not the
	// extension-header options (HOPOPTS, RTHDR, DSTOPTS), nor
	// IPSEC/XFRM_POLICY, FLOWLABEL_MGR, TRANSPARENT.
	unix.IPPROTO_IPV6: {16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 29, 31, 42, 43, 44, 45, 46, 47, 48,
		49, 50, 51, 52, 60, 61, 62, 66, 67, 70, 72, 76, 77, 78},
	// IPPROTO_TCP: NODELAY, MAXSEG, CORK, KEEPIDLE, KEEPINTVL, KEEPCNT,
	// SYNCNT, LINGER2, DEFER_ACCEPT, WINDOW_CLAMP, QUICKACK, CONGESTION,
	// THIN_LINEAR_TIMEOUTS, THIN_DUPACK, USER_TIMEOUT, FASTOPEN,
	// NOTSENT_LOWAT, INQ. Not ULP, REPAIR*, MD5SIG, AO, FASTOPEN_CONNECT/KEY.
	unix.IPPROTO_TCP: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 16, 17, 18, 23, 25, 36},
	// IPPROTO_UDP: CORK, NO_CHECK6_TX/RX, SEGMENT, GRO. Not UDP_ENCAP.
	unix.IPPROTO_UDP: {1, 101, 102, 103, 104},
	// IPPROTO_UDPLITE: CORK and the checksum coverage, SEND_CSCOV and
	// RECV_CSCOV (UDP-Lite's options live at its own level).
	unix.IPPROTO_UDPLITE: {1, 10, 11},
	// IPPROTO_ICMPV6: ICMP6_FILTER (ping6).
	unix.IPPROTO_ICMPV6: {1},
	// SOL_NETLINK: ADD/DROP_MEMBERSHIP, PKTINFO, BROADCAST_ERROR,
	// NO_ENOBUFS, LISTEN_ALL_NSID, CAP_ACK, EXT_ACK, GET_STRICT_CHK.
	unix.SOL_NETLINK: {1, 2, 3, 4, 5, 8, 10, 11, 12},
}

// setsockoptOnly passes setsockopt(2) when its (level, option) pair (args 1
// and 2, ints compared in their low 32 bits) is in pairs and denies the
// rest with EPERM. The cases are disjoint and cover every value.
func setsockoptOnly(summary string, pairs map[uint64][]uint64) Rule {
	var levels []uint64
	for l := range pairs {
		levels = append(levels, l)
	}
	levels = sorted(levels)
	ok, no := Outcome{Tier: Pass}, Outcome{Tier: Deny, Errno: unix.EPERM}
	var cs []Case
	for _, l := range levels {
		lv := [][]Cond{oneOf(1, width32, l)}
		cs = append(cs, cases(ok, cross(lv, each(oneOf(2, width32, pairs[l]...)))...)...)
		cs = append(cs, cases(no, cross(lv, each(span(2, width32, 0, width32, pairs[l]...)))...)...)
	}
	cs = append(cs, cases(no, each(span(1, width32, 0, width32, levels...))...)...)
	return Rule{Tier: Pass, Cases: cs, Summary: summary}
}

// capRules are the entries whose rule under the built-in profiles depends
// on the container's capabilities (CapRule); the table's columns hold the
// rule without the capability.
//
//   - socket and socketpair: with CAP_NET_ADMIN the netlink protocols
//     that configure the host side of networking open too (netfilter,
//     xfrm, generic netlink): the container could change its own
//     network namespace's firewall and IPsec state anyway.
//   - the NUMA memory-policy calls (get_mempolicy, mbind, set_mempolicy,
//     set_mempolicy_home_node): only with CAP_SYS_NICE, as in Docker's
//     profile. The kernel lets any process set the policy of its own
//     memory; a container without CAP_SYS_NICE has no use for placing
//     memory on nodes it cannot schedule for, and the mempolicy code is
//     reachable only through these calls. migrate_pages and move_pages
//     stay refused with or without it (another process's pages), as in
//     Docker's profile.
var capRules = map[string]CapRule{
	"socket":                  {unix.CAP_NET_ADMIN, socketNetAdminRule, socketNetAdminRule},
	"socketpair":              {unix.CAP_NET_ADMIN, socketNetAdminRule, socketNetAdminRule},
	"get_mempolicy":           {unix.CAP_SYS_NICE, pass, pass},
	"mbind":                   {unix.CAP_SYS_NICE, pass, pass},
	"set_mempolicy":           {unix.CAP_SYS_NICE, pass, pass},
	"set_mempolicy_home_node": {unix.CAP_SYS_NICE, pass, pass},
}

// setsockoptExcept passes setsockopt(2) unless its level (arg 1) is level
// and its option (arg 2) is option; that pair is denied with EPERM. Both
// are ints, compared in their low 32 bits. The cases are disjoint and
// cover every value.
func setsockoptExcept(summary string, level, option uint64) Rule {
	ok := Outcome{Tier: Pass}
	cs := cases(ok, each(span(1, width32, 0, width32, level))...)
	cs = append(cs, cases(ok, cross(each(oneOf(1, width32, level)), each(span(2, width32, 0, width32, option)))...)...)
	cs = append(cs, Case{When: []Cond{oneOf(1, width32, level)[0], oneOf(2, width32, option)[0]}, Outcome: Outcome{Tier: Deny, Errno: unix.EPERM}})
	return Rule{Tier: Pass, Cases: cs, Summary: summary}
}

// Netlink protocols (socket's arg 2 in AF_NETLINK) every container may
// open, and those it may open only with CAP_NET_ADMIN.
//
//   - NETLINK_ROUTE (0): interfaces, addresses, routes; getifaddrs, Go's
//     net package, iproute2.
//   - NETLINK_SOCK_DIAG (4): ss, and the socket lists of monitoring agents.
//   - NETLINK_AUDIT (9): PAM, login, useradd write audit records (the
//     kernel checks CAP_AUDIT_WRITE, and refuses a sender outside the
//     initial user and PID namespaces; libaudit takes that as audit
//     being off).
//   - NETLINK_KOBJECT_UEVENT (15): udev monitors (libudev), read only.
//   - with CAP_NET_ADMIN: NETLINK_XFRM (6, IPsec state), NETLINK_NETFILTER
//     (12, nf_tables and the other nfnetlink subsystems) and
//     NETLINK_GENERIC (16, nl80211, devlink, ethtool, wireguard, TIPC,
//     MPTCP path manager ...). Each is a large body of kernel code whose
//     bugs gave root from an unprivileged user namespace
//     (nf_tables: CVE-2022-32250, CVE-2023-32233, CVE-2024-1086); a
//     container without CAP_NET_ADMIN cannot configure any of them, and
//     the few unprivileged reads they offer are not worth the door.
//
// Every other protocol (USERSOCK, SELINUX, ISCSI, CONNECTOR, CRYPTO, RDMA,
// SMC ...) gets EPROTONOSUPPORT, what netlink answers for a protocol the
// kernel does not have; the capability-dependent ones get EPERM without
// the capability.
var (
	netlinkOpen     = []uint64{unix.NETLINK_ROUTE, unix.NETLINK_SOCK_DIAG, unix.NETLINK_AUDIT, unix.NETLINK_KOBJECT_UEVENT}
	netlinkNetAdmin = []uint64{unix.NETLINK_XFRM, unix.NETLINK_NETFILTER, unix.NETLINK_GENERIC}
)

// IP protocols (socket's arg 2 in AF_INET and AF_INET6) by socket type:
// TCP and MPTCP streams (programs and runtimes may ask for MPTCP and fall
// back to TCP),
// UDP, UDP-Lite and ICMP echo datagrams (ping's unprivileged datagram
// sockets, for the groups in net.ipv4.ping_group_range); 0 picks the
// type's default (TCP, UDP). UDP-Lite is UDP's own code with a partial
// checksum; CPython's test_socket creates it unconditionally on Linux and
// fails where it is refused and passes under runc, so it stays open.
// SCTP (SOCK_SEQPACKET, or SOCK_STREAM with IPPROTO_SCTP) and the rest
// are refused as a kernel without them refuses them: EPROTONOSUPPORT,
// ESOCKTNOSUPPORT for a type no protocol offers.
var (
	inetStream = []uint64{0, unix.IPPROTO_TCP, unix.IPPROTO_MPTCP}
	inetDgram  = []uint64{0, unix.IPPROTO_UDP, unix.IPPROTO_UDPLITE, unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6}
)

// socket(2) and socketpair(2) with the given tier for the calls they let
// through: an allowlist of families and, within them, of types and
// protocols (netAdmin: the container holds CAP_NET_ADMIN).
//
//   - AF_UNIX: any type and protocol (the kernel accepts protocol 0 only).
//   - AF_NETLINK: any type (netlink's SOCK_RAW and SOCK_DGRAM are the
//     same), the protocols of netlinkOpen (and netlinkNetAdmin).
//   - AF_INET and AF_INET6: SOCK_STREAM and SOCK_DGRAM with the protocols
//     of inetStream and inetDgram. SOCK_RAW is refused with EPERM, the
//     kernel's answer without CAP_NET_RAW, which Docker and containerd
//     grant by default: raw IP forges any source address and protocol,
//     and ping falls back to its datagram socket on EPERM. Every other
//     type (SOCK_SEQPACKET: SCTP; SOCK_PACKET, which the kernel turns into
//     an AF_PACKET socket for AF_INET; SOCK_DCCP; SOCK_RDM) gets
//     ESOCKTNOSUPPORT, what inet_create answers for a type the family
//     does not offer.
//   - every other family (AF_PACKET, AF_VSOCK, AF_ALG, AF_KEY, AF_TIPC,
//     AF_RDS, AF_BLUETOOTH, AF_XDP ... and numbers the kernel does not
//     have) gets EAFNOSUPPORT, what a kernel built without the family
//     answers, so Python, Go and glibc fall back as they would there.
//
// family, type and protocol are ints: family and protocol are compared in
// their low 32 bits, type in its low 4 (the socket type; above them sit
// SOCK_NONBLOCK and SOCK_CLOEXEC). AF_INET (2) and AF_INET6 (10) are the
// two values of one masked comparison (bit 3 ignored). The cases are
// disjoint and cover every value.
func socket(t Tier, netAdmin bool) Rule {
	const inet, inet6, unixf, netlink = unix.AF_INET, unix.AF_INET6, unix.AF_UNIX, unix.AF_NETLINK
	const typeMask = 0xf
	ok := Outcome{Tier: t}
	noProto := Outcome{Tier: Deny, Errno: unix.EPROTONOSUPPORT}
	ip := []Cond{{Index: 0, Op: OpMaskedEq, Mask: width32 &^ (inet ^ inet6), Value: inet}}
	nl := []Cond{oneOf(0, width32, netlink)[0]}
	allowNL, capNL := netlinkOpen, netlinkNetAdmin
	if netAdmin {
		allowNL, capNL = append(append([]uint64(nil), netlinkOpen...), netlinkNetAdmin...), nil
	}
	var cs []Case
	cs = append(cs, cases(ok, each(oneOf(0, width32, unixf))...)...)
	cs = append(cs, cases(ok, cross([][]Cond{nl}, each(oneOf(2, width32, allowNL...)))...)...)
	cs = append(cs, cases(Outcome{Tier: Deny, Errno: unix.EPERM}, cross([][]Cond{nl}, each(oneOf(2, width32, capNL...)))...)...)
	cs = append(cs, cases(noProto, cross([][]Cond{nl}, each(span(2, width32, 0, width32, append(append([]uint64(nil), allowNL...), capNL...)...)))...)...)
	for _, ty := range []struct {
		typ    uint64
		protos []uint64
	}{{unix.SOCK_STREAM, inetStream}, {unix.SOCK_DGRAM, inetDgram}} {
		typ := []Cond{oneOf(1, typeMask, ty.typ)[0]}
		cs = append(cs, cases(ok, cross([][]Cond{append(append([]Cond(nil), ip...), typ...)}, each(oneOf(2, width32, ty.protos...)))...)...)
		cs = append(cs, cases(noProto, cross([][]Cond{append(append([]Cond(nil), ip...), typ...)}, each(span(2, width32, 0, width32, ty.protos...)))...)...)
	}
	cs = append(cs, cases(Outcome{Tier: Deny, Errno: unix.EPERM}, cross([][]Cond{ip}, each(oneOf(1, typeMask, unix.SOCK_RAW)))...)...)
	cs = append(cs, cases(Outcome{Tier: Deny, Errno: unix.ESOCKTNOSUPPORT},
		cross([][]Cond{ip}, each(span(1, typeMask, 0, typeMask, unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_RAW)))...)...)
	cs = append(cs, cases(Outcome{Tier: Deny, Errno: unix.EAFNOSUPPORT},
		each(span(0, width32, 0, width32, unixf, inet, inet6, netlink))...)...)
	nlSummary := "netlink protocols route, sock_diag, audit, kobject_uevent"
	if netAdmin {
		nlSummary += ", xfrm, netfilter, generic"
	} else {
		nlSummary += " (xfrm, netfilter, generic: EPERM without CAP_NET_ADMIN)"
	}
	return Rule{
		Tier:  t,
		Cases: cs,
		Summary: "EAFNOSUPPORT: family not unix/inet/inet6/netlink; " + nlSummary +
			"; in inet/inet6: STREAM tcp/mptcp, DGRAM udp/udplite/icmp/icmpv6, EPERM SOCK_RAW, " +
			"ESOCKTNOSUPPORT other types, EPROTONOSUPPORT other protocols; else " + t.String(),
	}
}

// Rules used throughout the table.
var (
	pass    = Rule{Tier: Pass}
	emulate = Rule{Tier: Emulate}
	proxy   = Rule{Tier: Proxy}
	check   = Rule{Tier: Check}
	eperm   = Rule{Tier: Deny, Errno: unix.EPERM}
	enosys  = Rule{Tier: Deny, Errno: unix.ENOSYS}
)

// oneOf returns one condition per value: argument i seen through width
// equals it.
func oneOf(i uint, width uint64, values ...uint64) []Cond {
	out := make([]Cond, len(values))
	for k, v := range values {
		out[k] = Cond{Index: i, Op: OpMaskedEq, Mask: width, Value: v}
	}
	return out
}

// anyBit returns one condition per set bit of mask: that bit of argument i
// is set. Together: arg & mask != 0.
func anyBit(i uint, mask uint64) []Cond {
	var out []Cond
	for b := uint64(1); b != 0; b <<= 1 {
		if mask&b != 0 {
			out = append(out, Cond{Index: i, Op: OpMaskedEq, Mask: b, Value: b})
		}
	}
	return out
}

// cases turns alternatives (each a list of conditions to AND) into cases
// with one outcome.
func cases(o Outcome, alts ...[]Cond) []Case {
	out := make([]Case, len(alts))
	for k, a := range alts {
		out[k] = Case{When: a, Outcome: o}
	}
	return out
}

// each wraps single conditions as one-condition alternatives.
func each(cs []Cond) [][]Cond {
	out := make([][]Cond, len(cs))
	for k, c := range cs {
		out[k] = []Cond{c}
	}
	return out
}

// cross ANDs every alternative of a with every alternative of b.
func cross(a, b [][]Cond) [][]Cond {
	var out [][]Cond
	for _, x := range a {
		for _, y := range b {
			out = append(out, append(append([]Cond(nil), x...), y...))
		}
	}
	return out
}

// passUnlessBits passes a call unless argument i has any bit of mask set;
// then it is denied with errno. Exact: the pass case is arg&mask == 0, the
// deny cases are one per bit.
func passUnlessBits(i uint, mask uint64, errno unix.Errno, summary string) Rule {
	passCase := Case{When: []Cond{{Index: i, Op: OpMaskedEq, Mask: mask, Value: 0}}, Outcome: Outcome{Tier: Pass}}
	return Rule{
		Tier:    Pass,
		Cases:   append([]Case{passCase}, cases(Outcome{Tier: Deny, Errno: errno}, each(anyBit(i, mask))...)...),
		Summary: summary,
	}
}

// passOnly passes a call when argument i (seen through width) is one of
// values and denies it with errno otherwise.
func passOnly(i uint, width uint64, errno unix.Errno, summary string, values ...uint64) Rule {
	return Rule{
		Tier: Pass,
		Cases: append(cases(Outcome{Tier: Pass}, each(oneOf(i, width, values...))...),
			cases(Outcome{Tier: Deny, Errno: errno}, each(span(i, width, 0, width, values...))...)...),
		Summary: summary,
	}
}

// passExcept passes a call unless argument i (seen through width) is one of
// values, which are denied with errno.
func passExcept(i uint, width uint64, errno unix.Errno, summary string, values ...uint64) Rule {
	return Rule{
		Tier: Pass,
		Cases: append(cases(Outcome{Tier: Pass}, each(span(i, width, 0, width, values...))...),
			cases(Outcome{Tier: Deny, Errno: errno}, each(oneOf(i, width, values...))...)...),
		Summary: summary,
	}
}

// CapRule is what a built-in profile gives an entry when the container
// holds a capability: the table's Default and Strict columns are the rules
// without it (the zero capability set and Docker's default set alike), and
// Default and Strict here the rules with it. Like Docker's profile's
// includes/excludes on caps: a door the kernel guards with the capability
// anyway stays closed for a container that could never pass that check,
// and opens for one that can.
type CapRule struct {
	Cap             int
	Default, Strict Rule
}

// CapRuleOf returns the entry's capability-dependent rule, if it has one.
func (e *Entry) CapRuleOf() (CapRule, bool) {
	r, ok := capRules[e.Name]
	return r, ok
}

// DefaultFor is the entry's rule under the default profile for a container
// whose capabilities (any of its sets) are c.
func (e *Entry) DefaultFor(c Caps) Rule {
	if r, ok := capRules[e.Name]; ok && c.Has(r.Cap) {
		return r.Default
	}
	return e.col(0)
}

// StrictFor is DefaultFor for the strict profile.
func (e *Entry) StrictFor(c Caps) Rule {
	if r, ok := capRules[e.Name]; ok && c.Has(r.Cap) {
		return r.Strict
	}
	return e.col(1)
}

// col is the entry's rule under the built-in profile default (0) or
// strict (1) without capabilities, as first written.
func (e *Entry) col(i int) Rule { return columnRules[e.Name][i] }
