/*
 * eintr: calls the kernel never interrupts, made many times while a
 * 10 kHz SIGALRM (handler without SA_RESTART) fires. A call the sandbox
 * notified could fail with EINTR (the signal interrupts the wait for the
 * sentry) — which no program expects of kill or getpid. Prints
 *   kill_eintr=N getpid_bad=N rounds=N
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks;
static void tick(int s) { (void)s; ticks++; }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = tick; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 100}, {0, 100}};
	setitimer(ITIMER_REAL, &it, NULL);
	long kill_eintr = 0, getpid_bad = 0, rounds = 50000;
	pid_t self = getpid();
	for (long i = 0; i < rounds; i++) {
		if (syscall(SYS_kill, 1, 0) < 0 && errno == EINTR)
			kill_eintr++;
		if (syscall(SYS_getpid) != self)
			getpid_bad++;
	}
	printf("kill_eintr=%ld getpid_bad=%ld rounds=%ld ticks=%d\n", kill_eintr, getpid_bad, rounds, (int)ticks);
	return 0;
}
