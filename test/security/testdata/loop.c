/*
 * loop: runs as a detached container's process and keeps making notified
 * calls while the test kills the sentry under it. Each round calls uname
 * (emulated by the sentry) and keyctl (always denied; notified when
 * auditing is on, answered by the filter otherwise), through syscall(2).
 *
 * Each round also tries to become its own seccomp agent: a filter with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER that notifies getppid, which, once the
 * sentry is gone, is what would let it answer "continue" to its own
 * calls. Any success is printed at once as "LISTENER <fd>".
 *
 * Before /ctl/killed exists it prints "B <uname ret> <errno> <release>
 * <keyctl ret> <errno>" whenever the outcome changes, and "READY" once
 * uname has worked. Once the file appears (the test creates it after the
 * sentry is dead) it makes ROUNDS more rounds as fast as it can, prints
 * the tally as "A key=value ..." lines, then "DONE", and idles until it
 * is killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 500

/* try_listener: a filter that notifies getppid, with a listener. */
static long try_listener(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = 4, .filter = f};
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd >= 0)
		printf("LISTENER %ld\n", fd);
	return fd;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct utsname u;
	long last_u = 1, last_ue = -1, last_k = 1, last_ke = -1;
	int ready = 0;
	struct timespec nap = {0, 5 * 1000 * 1000};
	while (access("/ctl/killed", F_OK) != 0) {
		memset(&u, 0, sizeof u);
		errno = 0;
		long ur = syscall(SYS_uname, &u);
		int ue = ur < 0 ? errno : 0;
		errno = 0;
		long kr = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
		int ke = kr < 0 ? errno : 0;
		try_listener();
		if (ur != last_u || ue != last_ue || kr != last_k || ke != last_ke) {
			printf("B %ld %d %s %ld %d\n", ur, ue, ur == 0 ? u.release : "-", kr, ke);
			last_u = ur, last_ue = ue, last_k = kr, last_ke = ke;
		}
		if (ur == 0 && !ready) {
			printf("READY\n");
			ready = 1;
		}
		nanosleep(&nap, NULL);
	}
	int u_ok = 0, u_enosys = 0, u_other = 0, k_ok = 0, k_enosys = 0, k_eperm = 0, k_other = 0;
	char seen[sizeof u.release] = "-";
	for (int i = 0; i < ROUNDS; i++) {
		memset(&u, 0, sizeof u);
		errno = 0;
		long ur = syscall(SYS_uname, &u);
		if (ur == 0) {
			u_ok++;
			strcpy(seen, u.release);
		} else if (errno == ENOSYS) {
			u_enosys++;
		} else {
			u_other++;
		}
		errno = 0;
		long kr = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
		if (kr >= 0)
			k_ok++;
		else if (errno == ENOSYS)
			k_enosys++;
		else if (errno == EPERM)
			k_eperm++;
		else
			k_other++;
		try_listener();
	}
	printf("A uname_ok=%d uname_enosys=%d uname_other=%d keyctl_ok=%d keyctl_enosys=%d keyctl_eperm=%d keyctl_other=%d\n",
	       u_ok, u_enosys, u_other, k_ok, k_enosys, k_eperm, k_other);
	printf("A release_seen=%s\n", seen);
	printf("DONE\n");
	for (;;)
		pause();
}
