/*
 * attack: from inside a container, attempts every call the default
 * profile denies, through the raw syscall(2) interface (no libc
 * fallbacks), and prints one line per attempt:
 *
 *     R <label> <syscall> <return value> <errno or 0>
 *
 * Arguments are chosen so that a call the kernel actually ran would
 * either succeed or fail with an errno other than the profile's (EINVAL,
 * ENOENT, EBADF, ENOEXEC...), even in a container holding every
 * capability, and so that none would harm the host if it did run: bad
 * magic for reboot, invalid flags for kexec, nonexistent files for
 * swapon/acct/quotactl, invalid times for the clock calls, a level of 4
 * for iopl. Calls that change the calling process (unshare, clone,
 * personality, ptrace) run in a forked child.
 *
 * Lines starting with "C " are controls that must succeed: they show the
 * filter decides by value rather than refusing a whole call.
 *
 * `attack compat` makes the same kind of attempts through the 32-bit
 * entry (int $0x80) and the x32 syscall bit, one child per call; a child
 * killed by a signal is reported as "K <label> <signal>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/fanotify.h>
#include <linux/if_ether.h>
#include <linux/keyctl.h>
#include <linux/mount.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef FAN_REPORT_FID
#define FAN_REPORT_FID 0x00000200
#endif

static void report(const char *kind, const char *label, const char *sys, long ret, int err)
{
	printf("%s %s %s %ld %d\n", kind, label, sys, ret, ret < 0 ? err : 0);
	fflush(stdout);
}

#define TRY(label, sys, expr)                         \
	do {                                          \
		errno = 0;                            \
		long r_ = (long)(expr);               \
		report("R", label, sys, r_, errno);   \
	} while (0)

#define CONTROL(label, sys, expr)                     \
	do {                                          \
		errno = 0;                            \
		long r_ = (long)(expr);               \
		report("C", label, sys, r_, errno);   \
	} while (0)

/* in_child runs fn in a forked child that reports and exits. */
static void in_child(const char *kind, const char *label, const char *sys, long (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		report(kind, label, sys, -1, 1000 + errno);
		return;
	}
	if (pid == 0) {
		errno = 0;
		long r = fn();
		report(kind, label, sys, r, errno);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st)) {
		printf("K %s %d\n", label, WTERMSIG(st));
		fflush(stdout);
	}
}

static long do_unshare_user(void) { return syscall(SYS_unshare, CLONE_NEWUSER); }
static long do_unshare_ns(void) { return syscall(SYS_unshare, CLONE_NEWNS); }
static long do_unshare_net(void) { return syscall(SYS_unshare, CLONE_NEWNET); }
static long do_unshare_fs(void) { return syscall(SYS_unshare, CLONE_FS); }

static long clone_flags(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid(r, NULL, 0);
	return r;
}
static long do_clone_user(void) { return clone_flags(CLONE_NEWUSER); }
static long do_clone_pid(void) { return clone_flags(CLONE_NEWPID); }
static long do_clone_plain(void) { return clone_flags(0); }

static long clone3_flags(unsigned long long flags)
{
	struct clone_args a;
	memset(&a, 0, sizeof a);
	a.flags = flags;
	a.exit_signal = SIGCHLD;
	long r = syscall(SYS_clone3, &a, sizeof a);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid(r, NULL, 0);
	return r;
}
static long do_clone3_user(void) { return clone3_flags(CLONE_NEWUSER); }
static long do_clone3_plain(void) { return clone3_flags(0); }

static long do_pers_rie(void) { return syscall(SYS_personality, READ_IMPLIES_EXEC); }
static long do_pers_norand(void) { return syscall(SYS_personality, ADDR_NO_RANDOMIZE); }
static long do_pers_query(void) { return syscall(SYS_personality, 0xffffffffUL); }
static long do_traceme(void) { return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }

static long do_ptrace_attach(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	long r = syscall(SYS_ptrace, PTRACE_ATTACH, c, 0, 0);
	int e = errno;
	if (r == 0)
		syscall(SYS_ptrace, PTRACE_DETACH, c, 0, 0);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	errno = e;
	return r;
}

static void native(void)
{
	char buf[4096];
	int root = open("/", O_RDONLY | O_DIRECTORY);

	/* namespaces */
	in_child("R", "unshare_newuser", "unshare", do_unshare_user);
	in_child("R", "unshare_newns", "unshare", do_unshare_ns);
	in_child("R", "unshare_newnet", "unshare", do_unshare_net);
	in_child("R", "clone_newuser", "clone", do_clone_user);
	in_child("R", "clone_newpid", "clone", do_clone_pid);
	in_child("R", "clone3_newuser", "clone3", do_clone3_user);
	in_child("R", "clone3_plain", "clone3", do_clone3_plain);
	{
		int ns = open("/proc/self/ns/uts", O_RDONLY);
		TRY("setns", "setns", syscall(SYS_setns, ns, CLONE_NEWUTS));
		close(ns);
	}

	/* the mount family */
	TRY("mount", "mount", syscall(SYS_mount, "none", "/target", "tmpfs", 0, ""));
	TRY("umount2", "umount2", syscall(SYS_umount2, "/proc/kcore", MNT_DETACH));
	TRY("pivot_root", "pivot_root", syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"));
	TRY("fsopen", "fsopen", syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
	TRY("fsconfig", "fsconfig", syscall(SYS_fsconfig, -1, FSCONFIG_SET_FLAG, "ro", NULL, 0));
	TRY("fsmount", "fsmount", syscall(SYS_fsmount, -1, FSMOUNT_CLOEXEC, 0));
	TRY("fspick", "fspick", syscall(SYS_fspick, AT_FDCWD, "/", FSPICK_CLOEXEC));
	TRY("open_tree_clone", "open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
	TRY("open_tree_plain", "open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLOEXEC));
	TRY("move_mount", "move_mount", syscall(SYS_move_mount, -1, "", AT_FDCWD, "/target", MOVE_MOUNT_F_EMPTY_PATH));
	{
		struct mount_attr ma;
		memset(&ma, 0, sizeof ma);
		ma.attr_clr = MOUNT_ATTR_RDONLY;
		TRY("mount_setattr", "mount_setattr", syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &ma, sizeof ma));
	}

	/* kernel subsystems */
	{
		union bpf_attr a;
		memset(&a, 0, sizeof a);
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 1;
		TRY("bpf", "bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a));
	}
	{
		struct perf_event_attr pa;
		memset(&pa, 0, sizeof pa);
		pa.size = sizeof pa;
		pa.type = PERF_TYPE_SOFTWARE;
		pa.config = PERF_COUNT_SW_TASK_CLOCK;
		pa.exclude_kernel = 1;
		pa.exclude_hv = 1;
		TRY("perf_event_open", "perf_event_open", syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0));
	}
	TRY("userfaultfd", "userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
	{
		struct io_uring_params p;
		memset(&p, 0, sizeof p);
		TRY("io_uring_setup", "io_uring_setup", syscall(SYS_io_uring_setup, 1, &p));
		TRY("io_uring_enter", "io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
		TRY("io_uring_register", "io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
	}

	/* keyrings */
	TRY("keyctl_session", "keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	TRY("keyctl_describe", "keyctl", syscall(SYS_keyctl, KEYCTL_DESCRIBE, KEY_SPEC_USER_KEYRING, buf, sizeof buf));
	TRY("add_key", "add_key", syscall(SYS_add_key, "user", "syscage-test", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	TRY("request_key", "request_key", syscall(SYS_request_key, "user", "syscage-test-absent", NULL, KEY_SPEC_PROCESS_KEYRING));

	/* the host kernel itself */
	TRY("kexec_load", "kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0x100UL));
	TRY("kexec_file_load", "kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0x10000UL));
	TRY("init_module", "init_module", syscall(SYS_init_module, NULL, 0, ""));
	TRY("finit_module", "finit_module", syscall(SYS_finit_module, -1, "", 0));
	TRY("delete_module", "delete_module", syscall(SYS_delete_module, "syscage_absent", O_NONBLOCK));
	TRY("reboot", "reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
	TRY("swapon", "swapon", syscall(SYS_swapon, "/nonexistent", 0));
	TRY("swapoff", "swapoff", syscall(SYS_swapoff, "/nonexistent"));
	TRY("acct", "acct", syscall(SYS_acct, "/nonexistent"));
	/* sethostname is the container's own (TestNamespaceLocalCalls). */

	/* clocks */
	{
		struct timeval tv = {0, 2000000}; /* invalid: usec >= 1e6 */
		TRY("settimeofday", "settimeofday", syscall(SYS_settimeofday, &tv, NULL));
		struct timespec ts = {0, -1}; /* invalid */
		TRY("clock_settime", "clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
		struct timex tx;
		memset(&tx, 0, sizeof tx);
		tx.modes = ADJ_TICK;
		tx.tick = 1; /* out of range: EINVAL if it ever ran */
		TRY("adjtimex_set", "adjtimex", syscall(SYS_adjtimex, &tx));
		memset(&tx, 0, sizeof tx);
		CONTROL("adjtimex_read", "adjtimex", syscall(SYS_adjtimex, &tx)); /* a query: answered */
		memset(&tx, 0, sizeof tx);
		tx.modes = ADJ_TICK;
		tx.tick = 1;
		TRY("clock_adjtime", "clock_adjtime", syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx));
	}
	TRY("quotactl", "quotactl", syscall(SYS_quotactl, QCMD(Q_GETINFO, USRQUOTA), "/nonexistent", 0, buf));
	TRY("quotactl_fd", "quotactl_fd", syscall(SYS_quotactl_fd, root, QCMD(Q_GETINFO, USRQUOTA), 0, buf));

	/* hardware */
	TRY("iopl", "iopl", syscall(SYS_iopl, 4));
	TRY("ioperm", "ioperm", syscall(SYS_ioperm, 0x10000UL, 1UL, 1));

	/* personality */
	in_child("R", "personality_read_implies_exec", "personality", do_pers_rie);
	in_child("R", "personality_addr_no_randomize", "personality", do_pers_norand);

	/* other processes */
	in_child("R", "ptrace_traceme", "ptrace", do_traceme);
	in_child("R", "ptrace_attach", "ptrace", do_ptrace_attach);
	{
		char src[16] = "secret", dst[16] = "";
		struct iovec l = {dst, sizeof dst}, r = {src, sizeof src};
		TRY("process_vm_readv", "process_vm_readv", syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0));
		TRY("process_vm_writev", "process_vm_writev", syscall(SYS_process_vm_writev, getpid(), &r, 1, &l, 1, 0));
		int pfd = syscall(SYS_pidfd_open, getpid(), 0);
		TRY("pidfd_getfd", "pidfd_getfd", syscall(SYS_pidfd_getfd, pfd, 1, 0));
		close(pfd);
		TRY("kcmp", "kcmp", syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0));
	}

	/* file handles: the "shocker" escape */
	{
		struct {
			unsigned int bytes;
			int type;
			unsigned char h[128];
		} fh;
		memset(&fh, 0, sizeof fh);
		fh.bytes = 8;
		fh.type = 1; /* FILEID_INO32_GEN */
		fh.h[0] = 2; /* inode 2: the root of most file systems */
		TRY("open_by_handle_at", "open_by_handle_at", syscall(SYS_open_by_handle_at, root, &fh, O_RDONLY));
		int mnt = 0;
		fh.bytes = 128;
		TRY("name_to_handle_at", "name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mnt, 0));
	}

	/* the kernel log */
	TRY("syslog_read_all", "syslog", syscall(SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof buf));
	TRY("syslog_size", "syslog", syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));

	/* fanotify */
	TRY("fanotify_init", "fanotify_init", syscall(SYS_fanotify_init, FAN_CLASS_NOTIF | FAN_REPORT_FID, O_RDONLY));
	TRY("fanotify_mark", "fanotify_mark", syscall(SYS_fanotify_mark, -1, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, "/"));

	/* raw network access: the packet family, by AF_PACKET and by the
	 * obsolete (AF_INET, SOCK_PACKET), which the kernel turns into an
	 * AF_PACKET socket; raw IP */
	TRY("socket_packet_raw", "socket", syscall(SYS_socket, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
	TRY("socket_packet_dgram", "socket", syscall(SYS_socket, AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL)));
	TRY("socket_inet_packet", "socket", syscall(SYS_socket, AF_INET, SOCK_PACKET, htons(ETH_P_ALL)));
	TRY("socket_inet_packet_flags", "socket", syscall(SYS_socket, AF_INET, SOCK_PACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL)));
	TRY("socket_inet6_packet", "socket", syscall(SYS_socket, AF_INET6, SOCK_PACKET, htons(ETH_P_ALL)));
	TRY("socket_inet_raw", "socket", syscall(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_ICMP));
	TRY("socket_inet6_raw", "socket", syscall(SYS_socket, AF_INET6, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMPV6));
	/* IP socket types outside the allowlist */
	TRY("socket_inet_dccp", "socket", syscall(SYS_socket, AF_INET, 6 /* SOCK_DCCP */, 33 /* IPPROTO_DCCP */));
	TRY("socket_inet_rdm", "socket", syscall(SYS_socket, AF_INET, SOCK_RDM, 0));
	/* closed families (the kernel would load a module for some: a
	 * container must not make the host run modprobe) */
	TRY("socket_vsock", "socket", syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0));
	TRY("socket_alg", "socket", syscall(SYS_socket, 38 /* AF_ALG */, SOCK_SEQPACKET, 0));
	TRY("socket_key", "socket", syscall(SYS_socket, 15 /* AF_KEY */, SOCK_RAW, 2 /* PF_KEY_V2 */));
	TRY("socket_tipc", "socket", syscall(SYS_socket, 30 /* AF_TIPC */, SOCK_RDM, 0));
	TRY("socket_rds", "socket", syscall(SYS_socket, 21 /* AF_RDS */, SOCK_SEQPACKET, 0));
	TRY("socket_bluetooth", "socket", syscall(SYS_socket, 31 /* AF_BLUETOOTH */, SOCK_RAW, 0));
	TRY("socket_can", "socket", syscall(SYS_socket, 29 /* AF_CAN */, SOCK_RAW, 1 /* CAN_RAW */));
	TRY("socket_xdp", "socket", syscall(SYS_socket, 44 /* AF_XDP */, SOCK_RAW, 0));
	TRY("socket_smc", "socket", syscall(SYS_socket, 43 /* AF_SMC */, SOCK_STREAM, 0));
	TRY("socket_appletalk", "socket", syscall(SYS_socket, 5 /* AF_APPLETALK */, SOCK_DGRAM, 0));
	TRY("socket_unspec", "socket", syscall(SYS_socket, AF_UNSPEC, SOCK_STREAM, 0));
	TRY("socket_family_64", "socket", syscall(SYS_socket, 64, SOCK_STREAM, 0));
	{
		int sv[2];
		TRY("socketpair_packet", "socketpair", syscall(SYS_socketpair, AF_PACKET, SOCK_RAW, 0, sv));
		TRY("socketpair_vsock", "socketpair", syscall(SYS_socketpair, 40 /* AF_VSOCK */, SOCK_STREAM, 0, sv));
		TRY("socketpair_inet_packet", "socketpair", syscall(SYS_socketpair, AF_INET, SOCK_PACKET, 0, sv));
	}

	/* terminal injection */
	TRY("ioctl_tiocsti", "ioctl", syscall(SYS_ioctl, 0, TIOCSTI, "x"));
	{
		char sub = 0; /* no such TIOCLINUX subcode: EINVAL on a console, ENOTTY elsewhere */
		TRY("ioctl_tioclinux", "ioctl", syscall(SYS_ioctl, 0, TIOCLINUX, &sub));
	}

	/* controls: the same calls with harmless values pass */
	in_child("C", "unshare_fs", "unshare", do_unshare_fs);
	in_child("C", "clone_plain", "clone", do_clone_plain);
	in_child("C", "personality_query", "personality", do_pers_query);
	CONTROL("socket_inet_stream", "socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
	CONTROL("socket_netlink_raw", "socket", syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0));
	CONTROL("socket_netlink_dgram", "socket", syscall(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	CONTROL("socket_inet_dgram", "socket", syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	CONTROL("socket_inet6_stream", "socket", syscall(SYS_socket, AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	CONTROL("socket_unix_dgram", "socket", syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0));
	CONTROL("socket_unix_seqpacket", "socket", syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	{
		int sv[2];
		CONTROL("socketpair_unix", "socketpair", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	}
	CONTROL("ioctl_fionread", "ioctl", syscall(SYS_ioctl, root, FIONBIO, &(int){0}));
	printf("DONE\n");
}

/* ---- the 32-bit entry and the x32 bit ---- */

static long int80(long nr, long a, long b, long c, long d, long e)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

static char *low; /* memory below 4 GiB for 32-bit pointers */
static long c_nr, c_a, c_b, c_c;

static long do_int80(void)
{
	long r = int80(c_nr, c_a, c_b, c_c, 0, 0);
	if (r < 0 && r > -4096) {
		errno = -r;
		return -1;
	}
	if (c_nr == 122 && r == 0) /* newuname: show the release */
		printf("U int80 %s\n", low + 2 * 65);
	return r;
}

static void compat_try(const char *label, long nr, long a, long b, long c)
{
	c_nr = nr, c_a = a, c_b = b, c_c = c;
	in_child("R", label, "int80", do_int80);
}

static long x32_nr, x32_arg;
static long do_x32(void)
{
	long r = syscall(x32_nr | 0x40000000L, x32_arg, 0, 0);
	if (r == 0 && x32_nr == 63)
		printf("U x32 %s\n", low + 2 * 65);
	return r;
}

static void compat(void)
{
	low = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED) {
		perror("mmap MAP_32BIT");
		exit(1);
	}
	strcpy(low + 4096, "/nonexistent");
	strcpy(low + 8192, "tmpfs");
	strcpy(low + 8300, "/target");
	/* i386 numbers */
	compat_try("i386_newuname", 122, (long)low, 0, 0);
	compat_try("i386_unshare_newuser", 310, CLONE_NEWUSER, 0, 0);
	compat_try("i386_mount", 21, (long)(low + 8192), (long)(low + 8300), (long)(low + 8192));
	compat_try("i386_keyctl", 288, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	compat_try("i386_init_module", 128, 0, 0, (long)(low + 4096));
	compat_try("i386_reboot", 88, 0, 0, 0);
	compat_try("i386_syslog", 103, 3, (long)low, 4096);
	compat_try("i386_ptrace_traceme", 26, PTRACE_TRACEME, 0, 0);
	compat_try("i386_personality", 136, READ_IMPLIES_EXEC, 0, 0);
	compat_try("i386_socket_packet", 359, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	compat_try("i386_userfaultfd", 374, UFFD_USER_MODE_ONLY, 0, 0);
	compat_try("i386_io_uring_setup", 425, 1, (long)(low + 12288), 0);
	compat_try("i386_acct", 51, (long)(low + 4096), 0, 0);
	/* the x32 bit on x86_64 numbers */
	x32_nr = 63, x32_arg = (long)low;
	in_child("R", "x32_uname", "x32", do_x32);
	x32_nr = 272, x32_arg = CLONE_NEWUSER;
	in_child("R", "x32_unshare", "x32", do_x32);
	printf("DONE\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "compat") == 0)
		compat();
	else
		native();
	return 0;
}
