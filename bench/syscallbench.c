/*
 * syscallbench: system call micro-benchmarks, run inside a container by
 * bench/run.sh under each runtime (runc, syscage, runsc) in turn.
 *
 * Usage: syscallbench NAME [ITERATIONS]
 *        syscallbench list
 *
 * Prints one line, "NAME NS_PER_OP ITERATIONS", to stdout. ITERATIONS 0 (or
 * absent) means "calibrate": batches of doubling size are run until one
 * takes at least BENCH_TARGET_MS milliseconds (environment, default 300),
 * and that batch is the measurement. Every benchmark runs a warm-up of its
 * own first, so page faults, first-touch allocations and dynamic state
 * (dentry cache, sentry thread wake-up) are not counted.
 *
 * Timing is clock_gettime(CLOCK_MONOTONIC) around the whole batch; per-op
 * time is the batch time divided by the iteration count. The concurrent
 * benchmarks (uname-x2, uname-x8) split each batch over that many threads
 * started together and time it until the last one is done, so their
 * per-op time is the inverse of the throughput. Static build:
 *   gcc -O2 -static -pthread -o syscallbench syscallbench.c
 *
 * Files live under /tmp, which bench/run.sh mounts as a tmpfs in every
 * container, so read/write/open/stat measure the syscall path and tmpfs,
 * not a disk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILE_PATH "/tmp/syscallbench.dat"
#define BLOCK 4096
#define FILE_BLOCKS 256 /* 1 MiB file: read/write sequentially, rewind at the end */

static void die(const char *what)
{
	fprintf(stderr, "syscallbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* State shared by a benchmark's setup, body and teardown. */
static char buf[BLOCK];
static int fd = -1;
static long blockno;
static int ping[2], pong[2];
static pid_t peer;
static int listen_fd;
static struct sockaddr_in listen_addr;
static char *self_path;

/* Makes FILE_PATH FILE_BLOCKS*BLOCK bytes long and leaves fd open on it. */
static void setup_file(void)
{
	fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open " FILE_PATH);
	memset(buf, 'x', sizeof buf);
	for (int i = 0; i < FILE_BLOCKS; i++)
		if (write(fd, buf, BLOCK) != BLOCK)
			die("write");
	if (lseek(fd, 0, SEEK_SET) < 0)
		die("lseek");
	blockno = 0;
}

static void teardown_file(void)
{
	close(fd);
	fd = -1;
}

/* Rewinds fd every FILE_BLOCKS operations: one lseek per 256 ops, so the
 * measured call is read(2)/write(2) itself and the file stays 1 MiB. */
static inline void maybe_rewind(void)
{
	if (++blockno == FILE_BLOCKS) {
		blockno = 0;
		if (lseek(fd, 0, SEEK_SET) < 0)
			die("lseek");
	}
}

/* --- benchmark bodies: each performs one operation --- */

static void op_getpid(void)
{
	/* syscall() bypasses any libc caching: every op enters the kernel. */
	syscall(SYS_getpid);
}

static void op_uname(void)
{
	struct utsname u;
	if (syscall(SYS_uname, &u) != 0)
		die("uname");
}

static void op_sysinfo(void)
{
	struct sysinfo si;
	if (syscall(SYS_sysinfo, &si) != 0)
		die("sysinfo");
}

/* Reads /proc/meminfo whole, as free(1) and glibc do: open, read to EOF,
 * close. */
static void op_meminfo(void)
{
	char b[8192];
	int f = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (f < 0)
		die("open /proc/meminfo");
	ssize_t n;
	while ((n = read(f, b, sizeof b)) > 0)
		;
	if (n < 0)
		die("read /proc/meminfo");
	close(f);
}

static void op_getppid(void)
{
	syscall(SYS_getppid);
}

static void op_read(void)
{
	if (read(fd, buf, BLOCK) != BLOCK)
		die("read");
	maybe_rewind();
}

static void op_write(void)
{
	if (write(fd, buf, BLOCK) != BLOCK)
		die("write");
	maybe_rewind();
}

static void op_openclose(void)
{
	int f = open(FILE_PATH, O_RDONLY);
	if (f < 0)
		die("open");
	close(f);
}

static void op_stat(void)
{
	struct stat st;
	if (stat(FILE_PATH, &st) != 0)
		die("stat");
}

static void op_forkwait(void)
{
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p == 0)
		_exit(0);
	if (waitpid(p, NULL, 0) != p)
		die("waitpid");
}

/* fork + execve of this same static binary with argument "true", which
 * exits at once (a static /bin/true), + wait. */
static void op_exec(void)
{
	pid_t p = fork();
	if (p < 0)
		die("fork");
	if (p == 0) {
		char *argv[] = {self_path, "true", NULL};
		char *envp[] = {NULL};
		execve(self_path, argv, envp);
		_exit(127);
	}
	int status;
	if (waitpid(p, &status, 0) != p)
		die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "syscallbench: exec child failed (%#x)\n", status);
		exit(1);
	}
}

/* Pipe ping-pong: a child echoes each byte back; one op is one round trip
 * (two writes, two reads, two context switches). Both processes are pinned
 * to the CPU the benchmark starts on: unpinned, the result is bimodal on a
 * small machine (about 4 µs when the scheduler keeps the pair on one CPU,
 * about 35 µs when every wake-up crosses CPUs), and which mode a run gets
 * is luck, not the runtime. */
static void setup_pipe(void)
{
	cpu_set_t one;
	int cpu = sched_getcpu();
	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	if (sched_setaffinity(0, sizeof one, &one) != 0)
		die("sched_setaffinity"); /* the child inherits it */
	if (pipe(ping) != 0 || pipe(pong) != 0)
		die("pipe");
	peer = fork();
	if (peer < 0)
		die("fork");
	if (peer == 0) {
		char c;
		close(ping[1]);
		close(pong[0]);
		while (read(ping[0], &c, 1) == 1)
			if (write(pong[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
}

static void op_pipe(void)
{
	char c = 'p';
	if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
		die("pipe ping-pong");
}

static void teardown_pipe(void)
{
	close(ping[1]); /* child sees EOF and exits */
	close(pong[0]);
	waitpid(peer, NULL, 0);
}

/* Loopback TCP: a listener in this process; one op is socket + connect +
 * accept + close of both ends. The client closes with SO_LINGER 0 (a RST),
 * so no TIME_WAIT piles up and ephemeral ports never run out. */
static void setup_tcp(void)
{
	socklen_t len = sizeof listen_addr;
	int one = 1;
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0)
		die("socket");
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&listen_addr, 0, sizeof listen_addr);
	listen_addr.sin_family = AF_INET;
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&listen_addr, sizeof listen_addr) != 0)
		die("bind 127.0.0.1");
	if (listen(listen_fd, 128) != 0)
		die("listen");
	if (getsockname(listen_fd, (struct sockaddr *)&listen_addr, &len) != 0)
		die("getsockname");
}

static void op_tcp(void)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		die("socket");
	if (connect(c, (struct sockaddr *)&listen_addr, sizeof listen_addr) != 0)
		die("connect");
	int s = accept(listen_fd, NULL, NULL);
	if (s < 0)
		die("accept");
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(c);
	close(s);
}

static void teardown_tcp(void)
{
	close(listen_fd);
}

struct bench {
	const char *name;
	void (*setup)(void);
	void (*op)(void);
	void (*teardown)(void);
	long warmup; /* warm-up iterations before timing */
	int threads; /* 0 or 1: the calling thread; more: split over threads */
};

static const struct bench benches[] = {
	{"getpid", NULL, op_getpid, NULL, 10000},
	{"read4k", setup_file, op_read, teardown_file, 2000},
	{"write4k", setup_file, op_write, teardown_file, 2000},
	{"openclose", setup_file, op_openclose, teardown_file, 2000},
	{"stat", setup_file, op_stat, teardown_file, 2000},
	{"forkwait", NULL, op_forkwait, NULL, 20},
	{"exec", NULL, op_exec, NULL, 10},
	{"pipe", setup_pipe, op_pipe, teardown_pipe, 1000},
	{"tcpconnect", setup_tcp, op_tcp, teardown_tcp, 200},
	{"uname", NULL, op_uname, NULL, 1000},
	{"sysinfo", NULL, op_sysinfo, NULL, 1000},
	{"meminfo", NULL, op_meminfo, NULL, 200},
	{"uname-x2", NULL, op_uname, NULL, 1000, 2},
	{"uname-x8", NULL, op_uname, NULL, 1000, 8},
	{"getppid", NULL, op_getppid, NULL, 10000},
};

struct worker {
	const struct bench *b;
	long n;
	pthread_barrier_t *start;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	pthread_barrier_wait(w->start);
	for (long i = 0; i < w->n; i++)
		w->b->op();
	return NULL;
}

static uint64_t run_batch(const struct bench *b, long n)
{
	if (b->threads <= 1) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < n; i++)
			b->op();
		return now_ns() - t0;
	}
	/* The threads are started first and released together; the clock
	 * runs from their release until the last has made its calls. */
	pthread_t t[64];
	struct worker w[64];
	pthread_barrier_t start;
	int k = b->threads;
	pthread_barrier_init(&start, NULL, (unsigned)k + 1);
	for (int i = 0; i < k; i++) {
		w[i] = (struct worker){b, n / k + (i < n % k), &start};
		if (pthread_create(&t[i], NULL, work, &w[i]) != 0)
			die("pthread_create");
	}
	pthread_barrier_wait(&start);
	uint64_t t0 = now_ns();
	for (int i = 0; i < k; i++)
		pthread_join(t[i], NULL);
	uint64_t el = now_ns() - t0;
	pthread_barrier_destroy(&start);
	return el;
}

int main(int argc, char **argv)
{
	/* The exec benchmark's child: behave as a static /bin/true. */
	if (argc >= 2 && strcmp(argv[1], "true") == 0)
		return 0;
	if (argc < 2) {
		fprintf(stderr, "usage: syscallbench NAME [ITERATIONS] | list\n");
		return 2;
	}
	if (strcmp(argv[1], "list") == 0) {
		for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
			printf("%s\n", benches[i].name);
		return 0;
	}
	self_path = realpath("/proc/self/exe", NULL);
	if (!self_path)
		die("realpath /proc/self/exe");

	const struct bench *b = NULL;
	for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
		if (strcmp(argv[1], benches[i].name) == 0)
			b = &benches[i];
	if (!b) {
		fprintf(stderr, "syscallbench: unknown benchmark %s\n", argv[1]);
		return 2;
	}
	long n = argc >= 3 ? atol(argv[2]) : 0;
	const char *target_env = getenv("BENCH_TARGET_MS");
	uint64_t target_ns = (uint64_t)(target_env ? atol(target_env) : 300) * 1000000u;

	if (b->setup)
		b->setup();
	run_batch(b, b->warmup);

	uint64_t elapsed;
	if (n > 0) {
		elapsed = run_batch(b, n);
	} else {
		/* Calibrate: double the batch until one lasts target_ns. */
		n = 1;
		for (;;) {
			elapsed = run_batch(b, n);
			if (elapsed >= target_ns)
				break;
			/* Jump straight to about the right size once the batch
			 * is long enough to time reliably (>= 1 ms). */
			if (elapsed >= 1000000)
				n = (long)((double)n * (double)target_ns / (double)elapsed * 1.05) + 1;
			else
				n *= 2;
		}
	}
	if (b->teardown)
		b->teardown();
	printf("%s %.1f %ld\n", b->name, (double)elapsed / (double)n, n);
	return 0;
}
