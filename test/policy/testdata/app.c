/* app: a small realistic workload for the learn → enforce round trip:
 * files (write, read back, rename, stat, unlink), threads (a pool that
 * sums a shared array under a mutex) and loopback TCP (a server thread
 * echoes what a client sends). It prints one "ok <part>" line per part.
 *
 * With the argument "extra" it then tries what it never does otherwise:
 * mkdir and an IPv6 UDP socket, printing "extra <call> <errno name>".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what) {
	printf("fail %s: %s\n", what, strerror(errno));
	exit(1);
}

static void files(void) {
	FILE *f = fopen("/tmp/app.txt", "w");
	if (!f) die("fopen");
	for (int i = 0; i < 100; i++) fprintf(f, "line %d\n", i);
	if (fclose(f)) die("fclose");
	if (rename("/tmp/app.txt", "/tmp/app2.txt")) die("rename");
	struct stat st;
	if (stat("/tmp/app2.txt", &st)) die("stat");
	f = fopen("/tmp/app2.txt", "r");
	if (!f) die("fopen r");
	char buf[64];
	int n = 0;
	while (fgets(buf, sizeof buf, f)) n++;
	fclose(f);
	if (unlink("/tmp/app2.txt")) die("unlink");
	printf("ok files %d lines %ld bytes\n", n, (long)st.st_size);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *worker(void *arg) {
	long id = (long)arg, sum = 0;
	for (long i = id; i < 1000000; i += 4) sum += i;
	pthread_mutex_lock(&mu);
	total += sum;
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void threads(void) {
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i)) die("pthread_create");
	for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
	printf("ok threads %ld\n", total);
}

static int lfd;

static void *server(void *arg) {
	(void)arg;
	int c = accept(lfd, NULL, NULL);
	if (c < 0) die("accept");
	char buf[128];
	ssize_t n = recv(c, buf, sizeof buf, 0);
	if (n > 0) send(c, buf, n, 0);
	close(c);
	return NULL;
}

static void tcp(void) {
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0) die("socket");
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(lfd, (struct sockaddr *)&a, sizeof a)) die("bind");
	socklen_t len = sizeof a;
	if (getsockname(lfd, (struct sockaddr *)&a, &len)) die("getsockname");
	if (listen(lfd, 1)) die("listen");
	pthread_t t;
	if (pthread_create(&t, NULL, server, NULL)) die("pthread_create");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0) die("socket c");
	if (connect(c, (struct sockaddr *)&a, sizeof a)) die("connect");
	const char *msg = "hello over loopback";
	send(c, msg, strlen(msg), 0);
	char buf[128] = {0};
	ssize_t n = recv(c, buf, sizeof buf - 1, MSG_WAITALL);
	close(c);
	pthread_join(t, NULL);
	close(lfd);
	printf("ok tcp %s\n", n > 0 ? buf : "(nothing)");
}

static const char *ename(int e) {
	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	case EACCES: return "EACCES";
	case EEXIST: return "EEXIST";
	default: return "other";
	}
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	files();
	threads();
	tcp();
	if (argc > 1 && strcmp(argv[1], "extra") == 0) {
		int r = mkdir("/tmp/newdir", 0755);
		printf("extra mkdir %s\n", ename(r < 0 ? errno : 0));
		int s = socket(AF_INET6, SOCK_DGRAM, 0);
		printf("extra socket6 %s\n", ename(s < 0 ? errno : 0));
	}
	return 0;
}
