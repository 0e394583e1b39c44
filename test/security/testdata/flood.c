/*
 * flood: starts up to N threads (argv[1]) that each make a blocking
 * connect to a loopback listener whose accept queue is full, so the
 * connects never complete (the kernel drops their SYNs). Under strict
 * every connect is proxied by the sentry. It prints
 *   started <threads created> <first pthread_create error>
 * once it cannot or need not start more, then
 *   ready
 * and, while the connects hang, answers each line on stdin with
 *   uname <ret> <release>
 * (its own sentry must still answer). It starts flooding when its stdin
 * gives it a first line. Each connect that returns prints
 * "connect <errno name or ok>".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

static struct sockaddr_in addr;

static void *conn(void *arg)
{
	(void)arg;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (void *)&addr, sizeof addr) < 0)
		printf("connect %s\n", strerrorname_np(errno));
	else
		printf("connect ok\n");
	fflush(stdout);
	pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	setvbuf(stdout, NULL, _IOLBF, 0);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof addr;
	if (bind(l, (void *)&addr, sizeof addr) < 0 || listen(l, 0) < 0 || getsockname(l, (void *)&addr, &alen) < 0) {
		perror("listener");
		return 1;
	}
	/* Fill the accept queue (backlog 0 holds one connection, never
	 * accepted): the SYNs of every later connect are dropped. */
	int f = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(f, (void *)&addr, sizeof addr) < 0) {
		perror("filling the accept queue");
		return 1;
	}
	char line[64];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	int started = 0, err = 0;
	for (; started < n; started++) {
		pthread_t t;
		if ((err = pthread_create(&t, &at, conn, NULL)) != 0)
			break;
	}
	printf("started %d %s\n", started, err ? strerrorname_np(err) : "none");
	printf("ready\n");
	while (fgets(line, sizeof line, stdin)) {
		struct utsname u;
		int r = uname(&u);
		printf("uname %d %s\n", r, r == 0 ? u.release : strerrorname_np(errno));
	}
	pause();
	return 0;
}
