/*
 * newcalls: makes system calls newer than getrandom (318, Linux 3.17)
 * through the raw syscall(2) interface, for a container whose own seccomp
 * profile names nothing newer than getrandom. One line per call, as
 * test/security's attack.c:
 *
 *     R <label> <syscall> <return value> <errno or 0>   must get ENOSYS
 *     C <label> <syscall> <return value> <errno or 0>   must succeed
 *
 * Every R call would succeed, or fail with another errno, if the kernel
 * ran it; all are calls syscage's default profile passes, so ENOSYS can
 * only come from the profile's age (runc's stub). The C lines are a call
 * the profile names (getrandom) and statx, which libcontainer's own init
 * needs after loading the filter and so is syscage's table's to decide.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *kind, const char *label, const char *sys, long ret, int err)
{
	printf("%s %s %s %ld %d\n", kind, label, sys, ret, ret < 0 ? err : 0);
	fflush(stdout);
}

#define TRY(kind, label, expr)                          \
	do {                                            \
		errno = 0;                              \
		long r_ = (long)(expr);                 \
		report(kind, label, label, r_, errno);  \
	} while (0)

int main(void)
{
	char buf[64];
	struct statx stx;
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = O_PATH | O_CLOEXEC;

	TRY("C", "getrandom", syscall(318, buf, sizeof buf, 0));
	TRY("C", "statx", syscall(332, AT_FDCWD, "/", 0, STATX_BASIC_STATS, &stx));

	TRY("R", "memfd_create", syscall(319, "syscage", 1 /* MFD_CLOEXEC */));
	TRY("R", "execveat", syscall(322, -1, "", NULL, NULL, AT_EMPTY_PATH));
	TRY("R", "membarrier", syscall(324, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0));
	TRY("R", "mlock2", syscall(325, buf, sizeof buf, 0));
	TRY("R", "copy_file_range", syscall(326, -1, NULL, -1, NULL, 1, 0));
	TRY("R", "preadv2", syscall(327, -1, NULL, 0, 0, 0, 0));
	TRY("R", "pkey_alloc", syscall(330, 0, 0));
	TRY("R", "pidfd_send_signal", syscall(424, -1, 0, NULL, 0));
	TRY("R", "pidfd_open", syscall(434, getpid(), 0));
	TRY("R", "close_range", syscall(436, 1000, 1001, 0));
	TRY("R", "openat2", syscall(437, AT_FDCWD, "/", &how, sizeof how));
	TRY("R", "faccessat2", syscall(439, AT_FDCWD, "/", F_OK, 0));
	TRY("R", "epoll_pwait2", syscall(441, -1, NULL, 1, NULL, NULL, 0));
	TRY("R", "futex_waitv", syscall(449, NULL, 0, 0, NULL, 0));
	printf("DONE\n");
	return 0;
}
