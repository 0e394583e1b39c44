/* atk: one attack per mode (argv[1]) for test/attacks/run.sh; prints the outcome. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/mman.h>
#include <unistd.h>
#include <netinet/in.h>
int main(int argc, char **argv) {
	const char *m = argv[1];
	if (!strcmp(m, "packet")) {
		int s = socket(AF_INET, SOCK_PACKET, htons(3));
		printf("socket(AF_INET, SOCK_PACKET): %s\n", s >= 0 ? "CREATED (a packet socket)" : strerror(errno));
	} else if (!strcmp(m, "memfd")) {
		long r = syscall(SYS_memfd_create, "x", 0);
		printf("memfd_create under a profile naming nothing above 318: %s\n", r >= 0 ? "SUCCEEDED" : strerror(errno));
	} else if (!strcmp(m, "uname")) {
		struct utsname u; memset(&u, 0, sizeof u);
		long r = syscall(SYS_uname, &u);
		printf("uname: %s\n", r == 0 ? u.release : strerror(errno));
	} else if (!strcmp(m, "keyctl")) {
		long r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
		struct utsname u; uname(&u);
		printf("keyctl (denied by default): %s; release %s\n", r >= 0 ? "ALLOWED" : strerror(errno), u.release);
	} else if (!strcmp(m, "stdout")) {
		struct stat st; fstat(1, &st);
		char p[256] = ""; readlink("/proc/self/fd/1", p, sizeof p - 1);
		fprintf(stderr, "fd 1: %s (%s)\n", S_ISFIFO(st.st_mode) ? "a pipe" : S_ISREG(st.st_mode) ? "THE CALLER'S REGULAR FILE" : "other", p);
	}
	return 0;
}
