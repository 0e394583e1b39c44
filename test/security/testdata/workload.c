/*
 * workload: an ordinary program that must run unchanged under the default
 * profile. It forks and execs a shell, creates threads, uses pipes and
 * files in /tmp, and talks to itself over loopback TCP. It prints
 * "ok <step>" after each step and "workload: ok" at the end, or
 * "FAIL <step>: <reason>" and exits 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void fail(const char *step, const char *why)
{
	printf("FAIL %s: %s (errno %d %s)\n", step, why, errno, strerror(errno));
	exit(1);
}

static void ok(const char *step) { printf("ok %s\n", step); }

static void fork_exec(void)
{
	int p[2];
	if (pipe(p) < 0)
		fail("fork_exec", "pipe");
	pid_t pid = fork();
	if (pid < 0)
		fail("fork_exec", "fork");
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl("/bin/sh", "sh", "-c", "echo child says $((6*7))", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[128] = "";
	ssize_t n, got = 0;
	while ((n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += n;
	close(p[0]);
	int st;
	if (waitpid(pid, &st, 0) != pid)
		fail("fork_exec", "waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("fork_exec", "child did not exit 0");
	if (strcmp(buf, "child says 42\n") != 0)
		fail("fork_exec", "unexpected child output");
	ok("fork_exec");
}

struct sum {
	long from, to, total;
};

static void *summer(void *arg)
{
	struct sum *s = arg;
	for (long i = s->from; i < s->to; i++)
		s->total += i;
	return NULL;
}

static void threads(void)
{
	enum { N = 8 };
	pthread_t t[N];
	struct sum s[N];
	for (int i = 0; i < N; i++) {
		s[i] = (struct sum){i * 100000L, (i + 1) * 100000L, 0};
		if (pthread_create(&t[i], NULL, summer, &s[i]) != 0)
			fail("threads", "pthread_create");
	}
	long total = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		total += s[i].total;
	}
	long n = N * 100000L;
	if (total != n * (n - 1) / 2)
		fail("threads", "wrong sum");
	ok("threads");
}

static void files(void)
{
	static char data[1 << 20], back[1 << 20];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7 + 3);
	int fd = open("/tmp/workload.dat", O_CREAT | O_TRUNC | O_RDWR, 0600);
	if (fd < 0)
		fail("files", "open");
	if (write(fd, data, sizeof data) != (ssize_t)sizeof data)
		fail("files", "write");
	if (fsync(fd) < 0)
		fail("files", "fsync");
	if (pread(fd, back, sizeof back, 0) != (ssize_t)sizeof back || memcmp(data, back, sizeof data) != 0)
		fail("files", "read back");
	close(fd);
	if (rename("/tmp/workload.dat", "/tmp/workload.moved") < 0)
		fail("files", "rename");
	struct stat st;
	if (stat("/tmp/workload.moved", &st) < 0 || st.st_size != (off_t)sizeof data)
		fail("files", "stat");
	if (mkdir("/tmp/wd", 0700) < 0 || symlink("/tmp/workload.moved", "/tmp/wd/link") < 0)
		fail("files", "mkdir/symlink");
	if (unlink("/tmp/wd/link") < 0 || rmdir("/tmp/wd") < 0 || unlink("/tmp/workload.moved") < 0)
		fail("files", "cleanup");
	ok("files");
}

static int port;

static void *client(void *arg)
{
	(void)arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (void *)&a, sizeof a) < 0)
		fail("tcp", "client connect");
	static char msg[256 << 10];
	memset(msg, 'x', sizeof msg);
	size_t off = 0;
	while (off < sizeof msg) {
		ssize_t n = write(fd, msg + off, sizeof msg - off);
		if (n <= 0)
			fail("tcp", "client write");
		off += n;
	}
	shutdown(fd, SHUT_WR);
	char reply[64] = "";
	ssize_t n = read(fd, reply, sizeof reply - 1);
	if (n <= 0 || strcmp(reply, "got 262144") != 0)
		fail("tcp", "client reply");
	close(fd);
	return NULL;
}

static void tcp(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (s < 0 || bind(s, (void *)&a, sizeof a) < 0 || listen(s, 8) < 0 || getsockname(s, (void *)&a, &al) < 0)
		fail("tcp", "listen on 127.0.0.1");
	port = ntohs(a.sin_port);
	pthread_t t;
	if (pthread_create(&t, NULL, client, NULL) != 0)
		fail("tcp", "pthread_create");
	int c = accept(s, NULL, NULL);
	if (c < 0)
		fail("tcp", "accept");
	char buf[65536];
	long total = 0;
	ssize_t n;
	while ((n = read(c, buf, sizeof buf)) > 0)
		total += n;
	char reply[64];
	int l = snprintf(reply, sizeof reply, "got %ld", total);
	if (write(c, reply, l) != l)
		fail("tcp", "server write");
	close(c);
	pthread_join(t, NULL);
	close(s);
	ok("tcp");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	fork_exec();
	threads();
	files();
	tcp();
	struct utsname u;
	if (uname(&u) < 0)
		fail("uname", "uname");
	printf("release %s\n", u.release);
	printf("workload: ok\n");
	return 0;
}
