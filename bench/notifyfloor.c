/*
 * notifyfloor: the floor cost of one seccomp user-notification round trip,
 * the price every call a sentry answers pays before any of the sentry's
 * own work.
 *
 * A worker thread installs a filter that notifies getppid (and allows the
 * rest), with SECCOMP_FILTER_FLAG_NEW_LISTENER; a supervisor thread of the
 * same process, in a loop written for speed (no allocation, one blocking
 * SECCOMP_IOCTL_NOTIF_RECV, one SECCOMP_IOCTL_NOTIF_SEND with a value),
 * answers each call. SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP is set where the
 * kernel has it (6.6+), as the sentry sets it. The worker times N calls.
 *
 * Usage: notifyfloor [ITERATIONS]   (default 200000; best of 5 batches)
 * Prints "notify round trip: X ns/op" and whether sync wake-up was on.
 * Needs no privileges beyond no_new_privs (set here).
 *
 * bench/run.sh runs it inside a container of each runtime beside the
 * emulated uname, so syscage's mediated cost reads as a ratio of the
 * floor measured in the same run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#define BATCHES 5

static int listener = -1;
static int synced;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *supervise(void *arg)
{
	(void)arg;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	for (;;) {
		memset(&req, 0, sizeof req);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			return NULL;
		}
		memset(&resp, 0, sizeof resp);
		resp.id = req.id;
		resp.val = 42;
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = 4, .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("no_new_privs");
		return 1;
	}
	/* The supervisor thread, created after the filter, inherits it, but
	 * never calls getppid, the one call it notifies. */
	pthread_t t;
	int lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (lfd < 0) {
		perror("seccomp");
		return 1;
	}
	listener = lfd;
	synced = ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) == 0;
	if (pthread_create(&t, NULL, supervise, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	for (long i = 0; i < n / 10; i++) /* warm-up */
		syscall(SYS_getppid);
	double best = 1e18;
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (syscall(SYS_getppid) != 42) {
				fprintf(stderr, "getppid was not answered by the supervisor\n");
				return 1;
			}
		double ns = (double)(now_ns() - t0) / (double)n;
		if (ns < best)
			best = ns;
	}
	printf("notify round trip: %.0f ns/op (sync wake-up %s)\n", best, synced ? "on" : "off");
	return 0;
}
