/*
 * ceiling.h: what bench/'s ceiling servers (epoll_server.c, uring_server.c)
 * share: the stop signals (stopsig.h), a listening socket on 127.0.0.1,
 * and the canned answers (holding register i = i, 0..9999).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "stopsig.h"

/* listen_loopback listens on 127.0.0.1 on a port the kernel picks and
 * prints "READY 127.0.0.1:PORT" on stdout; -1 after a message naming who. */
static int listen_loopback(const char *who)
{
	int srv = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sin;
	if (srv == -1 || bind(srv, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(srv, 1024) == -1 ||
	    getsockname(srv, (struct sockaddr *)&sin, &sl) == -1) {
		fprintf(stderr, "%s: listen on 127.0.0.1: ", who);
		perror(NULL);
		return -1;
	}
	printf("READY 127.0.0.1:%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	return srv;
}

/* canned_answers appends to out (room bytes) the answers to the complete
 * FC 3 requests in in[0:*have], keeps the bytes of an incomplete one at the
 * start of in, and returns the answers' length: -1 for a request it does
 * not serve (not FC 3, a length field other than 6, registers out of
 * 1..125 or past 9999) or answers that do not fit. */
static int canned_answers(uint8_t *in, int *have, uint8_t *out, int room)
{
	int off = 0, n = 0;
	while (*have - off >= 12) {
		uint8_t *q = in + off;
		int len = (q[4] << 8) | q[5];
		if (len != 6 || q[7] != 3)
			return -1;
		int addr = (q[8] << 8) | q[9], qty = (q[10] << 8) | q[11];
		if (qty < 1 || qty > 125 || addr + qty > 10000 || n + 9 + 2 * qty > room)
			return -1;
		uint8_t *a = out + n;
		a[0] = q[0], a[1] = q[1], a[2] = 0, a[3] = 0;
		a[4] = (uint8_t)((3 + 2 * qty) >> 8), a[5] = (uint8_t)(3 + 2 * qty);
		a[6] = q[6], a[7] = 3, a[8] = (uint8_t)(2 * qty);
		for (int i = 0; i < qty; i++) {
			a[9 + 2 * i] = (uint8_t)((addr + i) >> 8);
			a[10 + 2 * i] = (uint8_t)(addr + i);
		}
		n += 9 + 2 * qty;
		off += 12;
	}
	memmove(in, in + off, (size_t)(*have - off));
	*have -= off;
	return n;
}
