/*
 * syscost: what a system call and a loopback TCP exchange cost on this
 * machine, in CPU time (CLOCK_PROCESS_CPUTIME_ID), one thread:
 *
 *   syscost [N]     (default 1000000 getppid calls; N/10 of the others)
 *
 *   getppid            a bare system call (entry, exit, mitigations)
 *   recv EAGAIN        a receive on an empty non-blocking TCP socket
 *   request round trip send 12, receive 12, send 29, receive 29 on the two
 *                      ends of one loopback connection: both sides of one
 *                      FC 3 x 10 exchange, no waiting, no wakeup (each
 *                      send also runs the other end's TCP input, in
 *                      softirq; each answer carries the request's ACK)
 *
 * Loopback only (127.0.0.1, a port the kernel picks).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double cpu(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000000;
	if (n < 10 || n > 100000000) {
		fprintf(stderr, "syscost: N %d outside 10..100000000\n", n);
		return 2;
	}
	int m = n / 10;
	double t0 = cpu();
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("getppid             %7.3f us\n", (cpu() - t0) / n * 1e6);

	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof a;
	if (l < 0 || bind(l, (void *)&a, sizeof a) < 0 || listen(l, 1) < 0 || getsockname(l, (void *)&a, &sl) < 0)
		die("syscost: listen");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&a, sizeof a) < 0)
		die("syscost: connect");
	int s = accept(l, NULL, NULL);
	if (s < 0)
		die("syscost: accept");
	int one = 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(s, F_SETFL, O_NONBLOCK);
	fcntl(c, F_SETFL, O_NONBLOCK);
	char req[12] = {0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10}, ans[29] = {0}, buf[512];

	t0 = cpu();
	for (int i = 0; i < m; i++)
		if (recv(s, buf, sizeof buf, 0) != -1 || errno != EAGAIN)
			die("syscost: recv on an empty socket");
	printf("recv EAGAIN         %7.3f us\n", (cpu() - t0) / m * 1e6);
	t0 = cpu();
	for (int i = 0; i < m; i++)
		if (send(c, req, 12, 0) != 12 || recv(s, buf, sizeof buf, 0) != 12 || send(s, ans, 29, 0) != 29 ||
		    recv(c, buf, sizeof buf, 0) != 29)
			die("syscost: round trip");
	printf("request round trip  %7.3f us\n", (cpu() - t0) / m * 1e6);
	return 0;
}
