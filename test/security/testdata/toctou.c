/*
 * toctou: the time-of-check-to-time-of-use attack on a proxied connect(2).
 * A server thread listens on 127.0.0.1:P and counts the connections it
 * accepts. A flipper thread rewrites the one sockaddr_in the main thread
 * passes to connect, as fast as it can, between 127.0.0.1:P (allowed) and
 * 169.254.169.254:80 (cloud metadata: the sentry must refuse it with
 * EPERM). The main thread connects ITER fresh sockets to it.
 *
 * If the sentry checks one copy of the address and the kernel reads
 * another, some connects reach for 169.254.169.254 — which in a container
 * with only loopback fails with ENETUNREACH (or hangs, EINPROGRESS,
 * ETIMEDOUT). A correct proxy gives only successes (each one accepted by
 * the server) and EPERM.
 *
 * Output: "S loopback|metadata <ret> <errno name>" for one plain connect to
 * each address before the race, then "T iterations=N ok=N eperm=N accepted=N" and "E <errno> <name>
 * <count>" for every other errno seen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ITER 2000

static int lfd;
static volatile int accepted, stop;
static union {
	struct sockaddr_in sin;
	uint64_t word[2];
} target __attribute__((aligned(16)));
static uint64_t good, bad;

static void *server(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		__atomic_add_fetch(&accepted, 1, __ATOMIC_SEQ_CST);
		close(c);
	}
}

static void *flipper(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(&target.word[0], bad, __ATOMIC_RELAXED);
		__atomic_store_n(&target.word[0], good, __ATOMIC_RELAXED);
	}
	return NULL;
}

static volatile int done_iter; /* connects finished so far */

static void on_alarm(int sig)
{
	(void)sig;
	/* async-signal-safe: format the count by hand */
	char m[96] = "TIMEOUT: the connect loop took longer than 60s; connects done: ";
	size_t n = strlen(m);
	char d[12];
	int k = 0, v = done_iter;
	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && k < 11);
	while (k)
		m[n++] = d[--k];
	m[n++] = '\n';
	write(1, m, n);
	_exit(3);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(60);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (lfd < 0 || bind(lfd, (void *)&a, sizeof a) < 0 || listen(lfd, 4096) < 0 ||
	    getsockname(lfd, (void *)&a, &al) < 0) {
		perror("listen on 127.0.0.1");
		return 2;
	}
	/* The first 8 bytes of a sockaddr_in (family, port, address) are
	 * stored as one word, so the flipper never makes a mixed address. */
	struct sockaddr_in g = a, b = {.sin_family = AF_INET, .sin_port = htons(80)};
	inet_pton(AF_INET, "169.254.169.254", &b.sin_addr);
	memcpy(&good, &g, 8);
	memcpy(&bad, &b, 8);
	memset(&target, 0, sizeof target);
	target.word[0] = good;

	pthread_t st, ft;
	pthread_create(&st, NULL, server, NULL);

	/* Without a race first: one connect to each address. */
	for (int k = 0; k < 2; k++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		errno = 0;
		int r = connect(fd, k == 0 ? (struct sockaddr *)&g : (struct sockaddr *)&b, sizeof g);
		printf("S %s %d %s\n", k == 0 ? "loopback" : "metadata", r, r == 0 ? "0" : strerrorname_np(errno));
		close(fd);
	}
	int base = 1; /* the loopback connect above */
	for (int i = 0; i < 500 && __atomic_load_n(&accepted, __ATOMIC_SEQ_CST) < base; i++)
		usleep(10000);
	__atomic_sub_fetch(&accepted, __atomic_load_n(&accepted, __ATOMIC_SEQ_CST) >= base ? base : 0, __ATOMIC_SEQ_CST);

	pthread_create(&ft, NULL, flipper, NULL);

	int ok = 0, eperm = 0;
	static int other[4096];
	for (int i = 0; i < ITER; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			perror("socket");
			return 2;
		}
		errno = 0;
		int r = connect(fd, (struct sockaddr *)&target.sin, sizeof target.sin);
		if (r == 0)
			ok++;
		else if (errno == EPERM)
			eperm++;
		else if (errno > 0 && errno < 4096)
			other[errno]++;
		close(fd);
		done_iter = i + 1;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(ft, NULL);
	/* let the server catch up with the connections made */
	for (int i = 0; i < 500 && __atomic_load_n(&accepted, __ATOMIC_SEQ_CST) < ok; i++)
		usleep(10000);
	usleep(50000);
	printf("T iterations=%d ok=%d eperm=%d accepted=%d\n", ITER, ok, eperm,
	       __atomic_load_n(&accepted, __ATOMIC_SEQ_CST));
	for (int e = 1; e < 4096; e++)
		if (other[e])
			printf("E %d %s %d\n", e, strerrorname_np(e) ? strerrorname_np(e) : "?", other[e]);
	printf("DONE\n");
	return 0;
}
