/*
 * seccompfloor: the floor cost of having any seccomp filter at all.
 *
 * Measures syscall(SYS_getpid) in ns/op with no filter, then installs a
 * one-instruction classic-BPF filter, "return SECCOMP_RET_ALLOW" (after
 * prctl(PR_SET_NO_NEW_PRIVS)), and measures again. The filter allows every
 * call, and the kernel's per-syscall ALLOW cache means no BPF even runs;
 * what remains is the slow system-call entry path that every task with a
 * filter takes (syscall_trace_enter -> __secure_computing). No container
 * runtime that uses seccomp, Docker's default profile included, can be
 * cheaper than this on a hot call.
 *
 * Usage: seccompfloor [ITERATIONS]   (default 20000000 per measurement)
 * Prints "no filter", "RET_ALLOW filter" and "difference" lines, ns/op.
 * Each measurement is the best of 5 batches, after a warm-up batch.
 *
 * Build and run pinned to one CPU (it needs no privileges):
 *   gcc -O2 -static -o seccompfloor bench/seccompfloor.c
 *   taskset -c 1 ./seccompfloor
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BATCHES 5

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Best (lowest) ns per getpid over BATCHES batches of n calls each. */
static double measure(long n)
{
	double best = 0;
	for (long i = 0; i < n / 10; i++) /* warm-up */
		syscall(SYS_getpid);
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
		double ns = (double)(now_ns() - t0) / (double)n;
		if (b == 0 || ns < best)
			best = ns;
	}
	return best;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	if (n <= 0) {
		fprintf(stderr, "usage: seccompfloor [ITERATIONS]\n");
		return 2;
	}

	double plain = measure(n);

	struct sock_filter insns[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof insns / sizeof insns[0],
		.filter = insns,
	};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "seccompfloor: prctl(PR_SET_NO_NEW_PRIVS): %s\n", strerror(errno));
		return 1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		fprintf(stderr, "seccompfloor: seccomp(SECCOMP_SET_MODE_FILTER): %s\n", strerror(errno));
		return 1;
	}

	double filtered = measure(n);

	printf("getpid, no filter:        %7.1f ns/op\n", plain);
	printf("getpid, RET_ALLOW filter: %7.1f ns/op\n", filtered);
	printf("difference:               %+7.1f ns/op (%.2fx)\n", filtered - plain, filtered / plain);
	return 0;
}
