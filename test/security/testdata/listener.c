/*
 * listener: from inside a container, tries to become a seccomp agent for
 * its own calls — the nested listener a workload would install after its
 * sentry is gone, to answer uname (or anything syscage notifies) with
 * "continue" and reach the host's kernel — and installs the plain filters
 * real programs (systemd, Chrome, libseccomp users) install. One line per
 * attempt, as attack.c:
 *
 *     R <label> <syscall> <return value> <errno or 0>   must be refused
 *     C <label> <syscall> <return value> <errno or 0>   must succeed
 *
 * The listener filter notifies uname and allows everything else; the plain
 * filters allow everything, so installing them changes nothing for the
 * attempts that follow. no_new_privs is set first: without it (and
 * without CAP_SYS_ADMIN) the kernel refuses any filter with EACCES.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif

static void report(const char *kind, const char *label, const char *sys, long ret, int err)
{
	printf("%s %s %s %ld %d\n", kind, label, sys, ret, ret < 0 ? err : 0);
	fflush(stdout);
}

#define TRY(kind, label, sys, expr)                \
	do {                                       \
		errno = 0;                         \
		long r_ = (long)(expr);            \
		report(kind, label, sys, r_, errno); \
	} while (0)

/* notify uname, allow everything else (the architecture is x86_64: the
 * container's filter kills any other). */
static struct sock_filter notify_uname[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog listener_prog = {sizeof notify_uname / sizeof notify_uname[0], notify_uname};

static struct sock_filter allow_all[] = {
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog allow_prog = {1, allow_all};

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	TRY("C", "no_new_privs", "prctl", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));

	TRY("R", "seccomp_new_listener", "seccomp",
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &listener_prog));
	TRY("R", "seccomp_new_listener_tsync_esrch", "seccomp",
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH, &listener_prog));
	/* garbage in the upper half: the kernel reads an unsigned int */
	TRY("R", "seccomp_new_listener_garbage", "seccomp",
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    0xdead000000000000UL | SECCOMP_FILTER_FLAG_NEW_LISTENER, &listener_prog));

	TRY("C", "seccomp_plain", "seccomp", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &allow_prog));
	TRY("C", "seccomp_tsync", "seccomp",
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &allow_prog));
	TRY("C", "prctl_seccomp", "prctl", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &allow_prog, 0, 0));
	printf("DONE\n");
	return 0;
}
