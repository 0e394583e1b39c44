// findsentry.h: find_sentry, the pid (in the caller's pid namespace) of
// the process whose command line names syscage-sentry, or 0: the sentry
// of a container whose sentry serves from inside its pid namespace.
// Shared by the attack programs that go after their own sentry.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int find_sentry(void) {
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d))) {
		int pid = atoi(e->d_name);
		if (pid <= 1)
			continue;
		char path[64], buf[256];
		snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		int n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (strstr(buf, "syscage-sentry")) {
			found = pid;
			break;
		}
	}
	if (d)
		closedir(d);
	return found;
}
