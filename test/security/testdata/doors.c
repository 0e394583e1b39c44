/*
 * doors: from inside a container, knocks once on each of the narrow doors
 * into the kernel that syscage's argument rules close (docs/profiles.md,
 * "Narrow doors"), through raw syscall(2), and prints one line per
 * attempt:
 *
 *     R <label> <syscall> <return value> <errno or 0>
 *
 * Every attempt is harmless if the kernel runs it: sockets are created
 * and closed, the line discipline set is N_TTY (what a pty has anyway),
 * TIOCCONS is tried on a pty master (which the kernel refuses after its
 * capability check, EBADF), the memory policy set is MPOL_DEFAULT on a
 * page of our own, TCP_ULP is set on an unconnected socket (the kernel
 * looks the ULP up, then refuses with ENOTCONN or ENOENT).
 *
 * `doors learn` is the learning run's workload instead: the ordinary
 * uses of the same calls (a TCP socket, a unix socket, a route netlink
 * socket, pipe2 with O_CLOEXEC, TCP_NODELAY, FIONBIO), nothing else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef O_NOTIFICATION_PIPE
#define O_NOTIFICATION_PIPE O_EXCL
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif
#ifndef NETLINK_CRYPTO
#define NETLINK_CRYPTO 21
#endif
#define MPOL_DEFAULT 0
#ifndef FIOQSIZE
#define FIOQSIZE 0x5460
#endif
#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static void report(const char *label, const char *sys, long ret)
{
	printf("R %s %s %ld %d\n", label, sys, ret, ret < 0 ? errno : 0);
	fflush(stdout);
}

/* sock tries socket(2) and closes what it got. */
static void sock(const char *label, int family, int type, int proto)
{
	errno = 0;
	long fd = syscall(SYS_socket, family, type, proto);
	report(label, "socket", fd);
	if (fd >= 0)
		close(fd);
}

static void learn(void)
{
	int p[2];
	long s = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	report("learn_inet_stream", "socket", s);
	int one = 1;
	report("learn_nodelay", "setsockopt", syscall(SYS_setsockopt, s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
	report("learn_fionbio", "ioctl", syscall(SYS_ioctl, s, FIONBIO, &one));
	close(s);
	sock("learn_unix_stream", AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sock("learn_netlink_route", AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	long r = syscall(SYS_pipe2, p, O_CLOEXEC);
	report("learn_pipe2", "pipe2", r);
	if (r == 0) {
		close(p[0]);
		close(p[1]);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "true") == 0)
		return 0;
	if (argc > 1 && strcmp(argv[1], "learn") == 0) {
		learn();
		printf("DONE\n");
		return 0;
	}
	/* socket families and protocols */
	sock("socket_vsock", 40 /* AF_VSOCK */, SOCK_STREAM, 0);
	sock("socket_alg", 38 /* AF_ALG */, SOCK_SEQPACKET, 0);
	sock("socket_packet", AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sock("socket_xdp", 44 /* AF_XDP */, SOCK_RAW, 0);
	sock("socket_tipc", 30 /* AF_TIPC */, SOCK_RDM, 0);
	sock("socket_sctp_stream", AF_INET, SOCK_STREAM, IPPROTO_SCTP);
	sock("socket_sctp_seqpacket", AF_INET, SOCK_SEQPACKET, 0);
	sock("netlink_netfilter", AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	sock("netlink_xfrm", AF_NETLINK, SOCK_RAW, NETLINK_XFRM);
	sock("netlink_generic", AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	sock("netlink_crypto", AF_NETLINK, SOCK_RAW, NETLINK_CRYPTO);
	/* a family the learning run did not use (controls under default) */
	sock("socket_inet6_stream", AF_INET6, SOCK_STREAM, 0);

	/* watch-queue pipes */
	{
		int p[2];
		errno = 0;
		long r = syscall(SYS_pipe2, p, O_NOTIFICATION_PIPE);
		report("pipe2_notification", "pipe2", r);
		if (r == 0) {
			close(p[0]);
			close(p[1]);
		}
	}

	/* TCP upper-layer protocols */
	{
		long s = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		errno = 0;
		report("setsockopt_tcp_ulp", "setsockopt", syscall(SYS_setsockopt, s, IPPROTO_TCP, TCP_ULP, "tls", 3));
		if (s >= 0)
			close(s);
	}

	/* line disciplines and the console, on a pty master */
	{
		int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		int ldisc = 0; /* N_TTY */
		errno = 0;
		report("ioctl_tiocsetd", "ioctl", syscall(SYS_ioctl, m, TIOCSETD, &ldisc));
		errno = 0;
		report("ioctl_tioccons", "ioctl", syscall(SYS_ioctl, m, TIOCCONS));
		if (m >= 0)
			close(m);
	}

	/* NUMA memory policy, on our own page */
	{
		void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		errno = 0;
		report("mbind", "mbind", syscall(SYS_mbind, page, 4096, MPOL_DEFAULT, NULL, 0, 0));
		errno = 0;
		report("set_mempolicy", "set_mempolicy", syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0));
	}
	/* a prctl option outside strict's allowlist; turning syscall user
	 * dispatch off is what every process has anyway */
	errno = 0;
	report("prctl_syscall_user_dispatch", "prctl", syscall(SYS_prctl, 59 /* PR_SET_SYSCALL_USER_DISPATCH */, 0 /* OFF */, 0, 0, 0));
	/* an ioctl request outside strict's allowlist: FIOQSIZE, the size of
	 * a directory, generic and harmless */
	{
		int d = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		long long size = 0;
		errno = 0;
		report("ioctl_fioqsize", "ioctl", syscall(SYS_ioctl, d, FIOQSIZE, &size));
		if (d >= 0)
			close(d);
	}
	/* a setsockopt pair outside strict's allowlist: IP_MINTTL on an
	 * unconnected TCP socket */
	{
		long s = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		int ttl = 1;
		errno = 0;
		report("setsockopt_ip_minttl", "setsockopt", syscall(SYS_setsockopt, s, IPPROTO_IP, IP_MINTTL, &ttl, sizeof ttl));
		if (s >= 0)
			close(s);
	}
	/* execveat(fd, "", AT_EMPTY_PATH), what fexecve makes: the child runs
	 * this program again as `doors true`; its exit status carries the
	 * errno when the call fails (100 + errno) */
	{
		int fd = open("/proc/self/exe", O_RDONLY);
		char *args[] = {"doors", "true", NULL};
		char *env[] = {NULL};
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			syscall(SYS_execveat, fd, "", args, env, AT_EMPTY_PATH);
			_exit(100 + (errno & 0x7f));
		}
		int status = 0;
		long ret = -1;
		errno = EIO;
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
			if (WEXITSTATUS(status) == 0)
				ret = 0;
			else if (WEXITSTATUS(status) > 100)
				errno = WEXITSTATUS(status) - 100;
		}
		report("execveat_empty_path", "execveat", ret);
		if (fd >= 0)
			close(fd);
	}
	printf("DONE\n");
	return 0;
}
