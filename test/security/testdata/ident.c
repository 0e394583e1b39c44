/*
 * ident: the calls the sentry answers or performs, made by whoever this
 * process runs as. One "K <key> <value>" line per finding:
 *
 *   ids              real, effective and saved uid, and whether dumpable
 *   uname.*          uname(2) into an ordinary buffer: ret/errno, release,
 *                    nodename
 *   gethostname      glibc's gethostname (built on uname)
 *   uname.prot_none  uname(2) into a PROT_NONE page (Linux: EFAULT)
 *   uname.readonly   uname(2) into a read-only page (Linux: EFAULT), and
 *   uname.readonly.intact whether the page still holds what it held
 *   uname.unmapped   uname(2) into an unmapped page (Linux: EFAULT)
 *   connect.inet     connect to a listener on 127.0.0.1 made here
 *   connect.prot_none connect with the address in a PROT_NONE page
 *   connect.unix     connect to an abstract unix listener made here, and
 *   connect.unix.peer the uid the listener sees in SO_PEERCRED
 *   connect.netlink  connect a route netlink socket to the link group
 *                    (the kernel wants CAP_NET_ADMIN over the netns)
 *
 * With "exec" as its first argument it re-executes itself once (without
 * it) first, so the calls are made after an exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

static void kv(const char *k, const char *v) { printf("K %s %s\n", k, v); }

static void kvr(const char *k, long r, int e)
{
	char b[64];
	snprintf(b, sizeof b, "ret=%ld errno=%d", r, r < 0 ? e : 0);
	kv(k, b);
}

static void inet_connect(long page)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	if (l < 0 || bind(l, (void *)&a, sizeof a) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (void *)&a, &alen) < 0) {
		kvr("connect.inet", -1, errno);
		return;
	}
	int c = socket(AF_INET, SOCK_STREAM, 0);
	long r = connect(c, (void *)&a, sizeof a);
	kvr("connect.inet", r, errno);
	close(c);

	/* The same address, from a page the caller cannot read. */
	char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(p, &a, sizeof a);
	mprotect(p, page, PROT_NONE);
	c = socket(AF_INET, SOCK_STREAM, 0);
	r = connect(c, (void *)p, sizeof a);
	kvr("connect.prot_none", r, errno);
	close(c);
	close(l);
}

static void unix_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "ident-%d", getpid());
	socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (void *)&a, alen) < 0 || listen(l, 4) < 0) {
		kvr("connect.unix", -1, errno);
		return;
	}
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	long r = connect(c, (void *)&a, alen);
	kvr("connect.unix", r, errno);
	if (r == 0) {
		int s = accept(l, NULL, NULL);
		struct ucred cr;
		socklen_t n = sizeof cr;
		char b[32];
		if (s >= 0 && getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &n) == 0)
			snprintf(b, sizeof b, "%d", (int)cr.uid);
		else
			snprintf(b, sizeof b, "errno=%d", errno);
		kv("connect.unix.peer", b);
	}
	close(c);
	close(l);
}

static void netlink_connect(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	long r = s < 0 ? -1 : connect(s, (void *)&a, sizeof a);
	kvr("connect.netlink", r, errno);
	close(s);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		fflush(stdout);
		execl("/proc/self/exe", argv[0], (char *)NULL);
		kvr("exec", -1, errno);
		return 1;
	}
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	char b[128];
	snprintf(b, sizeof b, "%d/%d/%d dumpable=%d", (int)r, (int)e, (int)s, prctl(PR_GET_DUMPABLE));
	kv("ids", b);

	struct utsname u;
	memset(&u, 0, sizeof u);
	long ret = syscall(SYS_uname, &u);
	kvr("uname", ret, errno);
	kv("uname.release", u.release);
	kv("uname.nodename", u.nodename);

	char host[256] = "";
	ret = gethostname(host, sizeof host);
	kvr("gethostname.call", ret, errno);
	kv("gethostname", host);

	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(m + page, 'r', page);
	mprotect(m, page, PROT_NONE);
	mprotect(m + page, page, PROT_READ);
	munmap(m + 2 * page, page);
	ret = syscall(SYS_uname, m);
	kvr("uname.prot_none", ret, errno);
	ret = syscall(SYS_uname, m + page);
	kvr("uname.readonly", ret, errno);
	int intact = 1;
	for (long i = 0; i < page; i++)
		intact &= m[page + i] == 'r';
	kv("uname.readonly.intact", intact ? "yes" : "no");
	ret = syscall(SYS_uname, m + 2 * page);
	kvr("uname.unmapped", ret, errno);

	inet_connect(page);
	unix_connect();
	netlink_connect();
	return 0;
}
