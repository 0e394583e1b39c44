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
 * Usage: notifyfloor [ITERATIONS [thread|process [value|uname [CALLERS]]]]
 *   ITERATIONS: default 200000; best of 5 batches.
 *   thread (default): the supervisor is a thread of the caller's process,
 *     so each round trip switches between two threads of one address
 *     space. process: the supervisor is a forked child, as syscage's
 *     sentry is a process of its own: each round trip switches address
 *     spaces twice, which on some machines (a virtualised guest whose
 *     page-table switches trap) costs more than everything else.
 *   value (default): getppid answered with a value. uname: uname is
 *     notified instead, and the supervisor does what an emulating sentry
 *     must at least do: check the notification is still valid
 *     (SECCOMP_IOCTL_NOTIF_ID_VALID), write a 390-byte struct utsname into
 *     the caller with process_vm_writev, and answer 0.
 *   CALLERS (default 1): that many threads make the calls at once, each
 *     ITERATIONS/CALLERS of them, answered by as many supervisor threads
 *     (all waiting on the one listener, as the threads of one process
 *     share it); ns/op is then the batch time over all calls, the inverse
 *     of the throughput.
 * Prints "notify round trip: X ns/op" and the mode.
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
#include <sys/uio.h>
#include <sys/utsname.h>
#include <signal.h>
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
static int emulate_uname;
static long nr;
static pthread_barrier_t start_line;

struct caller {
	long n;
	int failed;
};

static void *call(void *arg)
{
	struct caller *c = arg;
	struct utsname u;
	pthread_barrier_wait(&start_line);
	for (long i = 0; i < c->n; i++)
		if (syscall(nr, &u) != (emulate_uname ? 0 : 42))
			c->failed = 1;
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* getppid without the notified number's filter in the way: the child's
 * filter notifies getppid, and nobody would answer the child. */
static long getppid_raw(void)
{
	char buf[64];
	FILE *f = fopen("/proc/self/stat", "r");
	long ppid = -1;
	if (f && fgets(buf, sizeof buf, f))
		sscanf(buf, "%*d %*s %*c %ld", &ppid);
	if (f)
		fclose(f);
	return ppid;
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
		if (emulate_uname) {
			static struct utsname u = {"Linux", "floor", "6.0.0", "#1", "x86_64", "(none)"};
			struct iovec local = {&u, sizeof u};
			struct iovec remote = {(void *)(uintptr_t)req.data.args[0], sizeof u};
			uint64_t id = req.id;
			resp.val = 0;
			if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0 ||
			    process_vm_writev((pid_t)req.pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof u)
				resp.error = -EFAULT;
		}
		ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int as_process = argc > 2 && strcmp(argv[2], "process") == 0;
	emulate_uname = argc > 3 && strcmp(argv[3], "uname") == 0;
	int callers = argc > 4 ? atoi(argv[4]) : 1;
	if (callers < 1 || callers > 64) {
		fprintf(stderr, "CALLERS must be 1-64\n");
		return 2;
	}
	nr = emulate_uname ? SYS_uname : SYS_getppid;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
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
	if (as_process) {
		pid_t parent = getpid();
		pid_t child = fork();
		if (child < 0) {
			perror("fork");
			return 1;
		}
		if (child == 0) {
			/* The child carries the filter too (it never makes the
			 * notified call): it must end with its parent. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid_raw() != parent)
				_exit(0);
			for (int i = 1; i < callers; i++)
				pthread_create(&t, NULL, supervise, NULL);
			supervise(NULL);
			_exit(0);
		}
	} else {
		for (int i = 0; i < callers; i++)
			if (pthread_create(&t, NULL, supervise, NULL) != 0) {
				perror("pthread_create");
				return 1;
			}
	}
	struct utsname u;
	for (long i = 0; i < n / 10; i++) /* warm-up */
		syscall(nr, &u);
	double best = 1e18;
	for (int b = 0; b < BATCHES && callers > 1; b++) {
		pthread_t ct[64];
		struct caller c[64];
		pthread_barrier_init(&start_line, NULL, (unsigned)callers + 1);
		for (int i = 0; i < callers; i++) {
			c[i] = (struct caller){n / callers, 0};
			pthread_create(&ct[i], NULL, call, &c[i]);
		}
		pthread_barrier_wait(&start_line);
		uint64_t t0 = now_ns();
		for (int i = 0; i < callers; i++) {
			pthread_join(ct[i], NULL);
			if (c[i].failed) {
				fprintf(stderr, "the notified call was not answered by the supervisor\n");
				return 1;
			}
		}
		double ns = (double)(now_ns() - t0) / (double)(n / callers * callers);
		pthread_barrier_destroy(&start_line);
		if (ns < best)
			best = ns;
	}
	for (int b = 0; b < BATCHES && callers == 1; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (syscall(nr, &u) != (emulate_uname ? 0 : 42)) {
				fprintf(stderr, "the notified call was not answered by the supervisor\n");
				return 1;
			}
		double ns = (double)(now_ns() - t0) / (double)n;
		if (ns < best)
			best = ns;
	}
	printf("notify round trip: %.0f ns/op (sync wake-up %s, supervisor %s, %s, %d caller%s)\n", best,
	       synced ? "on" : "off", as_process ? "process" : "thread", emulate_uname ? "uname written" : "value",
	       callers, callers > 1 ? "s" : "");
	return 0;
}
