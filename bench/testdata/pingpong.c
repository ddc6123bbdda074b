/*
 * pingpong: the physical floor for bench/: two processes exchange frames
 * of a Modbus round trip's sizes over one loopback TCP connection, with no
 * protocol work at all.
 *
 *   pingpong N REQ_BYTES RESP_BYTES
 *
 * The parent listens on 127.0.0.1 (a free port), forks a child that
 * connects, then writes REQ_BYTES and reads exactly RESP_BYTES N times
 * (TCP_NODELAY on both ends, blocking sockets, one write and as many reads
 * as it takes per side). It prints one line:
 *
 *   pingpong n=N req=REQ resp=RESP ns_per_op=X ops_per_s=Y
 *
 * Placement is the caller's (taskset): pinned to one CPU it is the cost of
 * one round trip through the kernel on one core.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int full(int fd, char *buf, int n, int reading)
{
	for (int done = 0; done < n;) {
		ssize_t r = reading ? read(fd, buf + done, n - done) : write(fd, buf + done, n - done);
		if (r <= 0)
			return -1;
		done += (int)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: pingpong N REQ_BYTES RESP_BYTES\n");
		return 2;
	}
	long n = atol(argv[1]);
	int req = atoi(argv[2]), resp = atoi(argv[3]);
	if (n < 1 || n > 100000000 || req < 1 || req > 260 || resp < 1 || resp > 260) {
		fprintf(stderr, "pingpong: N 1..1e8, sizes 1..260\n");
		return 2;
	}
	int ln = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sin;
	if (ln == -1 || bind(ln, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(ln, 1) == -1 ||
	    getsockname(ln, (struct sockaddr *)&sin, &sl) == -1) {
		perror("pingpong: listen");
		return 1;
	}
	int one = 1;
	char buf[260];
	memset(buf, 0x5A, sizeof buf);
	pid_t child = fork();
	if (child == 0) { /* the client */
		close(ln);
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c == -1 || connect(c, (struct sockaddr *)&sin, sizeof sin) == -1) {
			perror("pingpong: connect");
			_exit(1);
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long i = 0; i < n; i++) {
			if (full(c, buf, req, 0) || full(c, buf, resp, 1)) {
				fprintf(stderr, "pingpong: client i/o failed at %ld\n", i);
				_exit(1);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
		printf("pingpong n=%ld req=%d resp=%d ns_per_op=%.0f ops_per_s=%.0f\n", n, req, resp, ns / n,
		       n / (ns / 1e9));
		fflush(stdout);
		close(c);
		_exit(0);
	}
	int s = accept(ln, NULL, NULL);
	if (s == -1) {
		perror("pingpong: accept");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (long i = 0; i < n; i++) {
		if (full(s, buf, req, 1) || full(s, buf, resp, 0))
			break;
	}
	int status = 0;
	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
