/*
 * fastopen: open a TCP connection to 169.254.169.254:80 without connect(2),
 * by sendto(2) with MSG_FASTOPEN and the address, and with sendmsg(2) the
 * same way. Under syscage's strict profile connect is proxied and refuses
 * cloud-metadata addresses; these calls must not go around it.
 * Output: "sendto <ret> <errno name>" and "sendmsg <ret> <errno name>".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
	inet_pton(AF_INET, "169.254.169.254", &a.sin_addr);

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	errno = 0;
	ssize_t r = sendto(fd, "GET /", 5, MSG_FASTOPEN, (struct sockaddr *)&a, sizeof a);
	printf("sendto %zd %s\n", r, r < 0 ? strerrorname_np(errno) : "0");
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct iovec iov = {.iov_base = "GET /", .iov_len = 5};
	struct msghdr m = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1};
	errno = 0;
	r = sendmsg(fd, &m, MSG_FASTOPEN);
	printf("sendmsg %zd %s\n", r, r < 0 ? strerrorname_np(errno) : "0");
	close(fd);
	return 0;
}
