/*
 * uring_server: an io_uring "ceiling" for bench/'s server rows, next to
 * epoll_server.c: the same canned answers (FC 3, holding register i = i),
 * but every receive and send of every ready connection goes to the kernel
 * in one io_uring_enter, which also waits for the next completions: one
 * system call per batch instead of epoll_wait + read + write per request.
 *
 *   uring_server MAXCONNS [MODE [reno]]
 *
 * MODE (default "defer"):
 *   defer   IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN: the
 *           completions of receives that had to wait for data run only when
 *           this thread enters the kernel to wait (batched)
 *   coop    IORING_SETUP_COOP_TASKRUN (no interrupting signal, but work runs
 *           at any kernel entry)
 *   plain   no setup flags
 *
 * "reno" sets TCP_CONGESTION "reno" on every connection (the system's
 * default here is bbr).
 *
 * Raw system calls on <linux/io_uring.h>: no liburing. Listens on 127.0.0.1
 * on a free port, prints "READY 127.0.0.1:PORT", runs until SIGTERM or
 * SIGINT. A floor, not a server to use: no deadlines, no partial sends (a
 * short send closes the connection), anything but a well-formed FC 3
 * request closes it. Loopback only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ceiling.h"
#include "uring_ring.h"

#define BUFSZ 4096
#define OUTSZ 8192

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };

struct conn {
	int fd;
	int have;    /* request bytes kept for the next receive */
	int pending; /* operations in flight */
	int sending; /* a send is in flight: out is busy */
	int closing;
	int outlen;
	uint8_t in[BUFSZ];
	uint8_t out[OUTSZ];
};


static uint64_t ud(struct conn *c, int op) { return (uint64_t)(uintptr_t)c | (uint64_t)op; }

static int queue_accept(int srv)
{
	struct io_uring_sqe *s = ring_sqe();
	if (!s)
		return -1;
	s->opcode = IORING_OP_ACCEPT;
	s->fd = srv;
	s->user_data = OP_ACCEPT;
	return 0;
}

static int queue_recv(struct conn *c)
{
	struct io_uring_sqe *s = ring_sqe();
	if (!s)
		return -1;
	s->opcode = IORING_OP_RECV;
	s->fd = c->fd;
	s->addr = (uint64_t)(uintptr_t)(c->in + c->have);
	s->len = BUFSZ - c->have;
	s->user_data = ud(c, OP_RECV);
	c->pending++;
	return 0;
}

static int queue_send(struct conn *c)
{
	struct io_uring_sqe *s = ring_sqe();
	if (!s)
		return -1;
	s->opcode = IORING_OP_SEND;
	s->fd = c->fd;
	s->addr = (uint64_t)(uintptr_t)c->out;
	s->len = c->outlen;
	s->user_data = ud(c, OP_SEND);
	c->pending++;
	c->sending = 1;
	return 0;
}

static int open_conns;
static unsigned long cqes_seen; /* completions handled */

static void finish(struct conn *c)
{
	c->closing = 1;
	if (c->pending == 0) {
		close(c->fd);
		free(c);
		open_conns--;
	} else if (c->pending > 0) {
		/* a receive still armed: cancel it so that the close can happen */
		struct io_uring_sqe *s = ring_sqe();
		if (s) {
			s->opcode = IORING_OP_ASYNC_CANCEL;
			s->addr = ud(c, OP_RECV);
			s->user_data = 0;
		}
	}
}

/* serve answers what c has and queues a send, if it is not sending. */
static void serve(struct conn *c)
{
	if (c->sending || c->closing)
		return;
	int w = canned_answers(c->in, &c->have, c->out, OUTSZ);
	if (w < 0) {
		finish(c);
		return;
	}
	if (w > 0) {
		c->outlen = w;
		if (queue_send(c) < 0)
			finish(c);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4 || (argc == 4 && strcmp(argv[3], "reno"))) {
		fprintf(stderr, "usage: uring_server MAXCONNS [defer|coop|plain [reno]]\n");
		return 2;
	}
	int maxconns = atoi(argv[1]);
	if (maxconns < 1 || maxconns > 4096) {
		fprintf(stderr, "uring_server: MAXCONNS %d outside 1..4096\n", maxconns);
		return 2;
	}
	const char *mode = argc >= 3 ? argv[2] : "defer";
	int reno = argc == 4;
	unsigned flags = 0;
	if (!strcmp(mode, "defer"))
		flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	else if (!strcmp(mode, "coop"))
		flags = IORING_SETUP_COOP_TASKRUN;
	else if (strcmp(mode, "plain")) {
		fprintf(stderr, "uring_server: MODE %s is defer, coop or plain\n", mode);
		return 2;
	}
	catch_stop_signals();

	unsigned entries = 16;
	while (entries < 2u * (unsigned)maxconns + 16)
		entries <<= 1;
	if (ring_setup(entries, flags) < 0) {
		perror("uring_server: io_uring_setup");
		return 1;
	}

	int srv = listen_loopback("uring_server");
	if (srv < 0)
		return 1;
	queue_accept(srv);

	while (!stop) {
		if (ring_submit_wait(1) < 0) {
			if (errno == EINTR)
				continue;
			perror("uring_server: io_uring_enter");
			return 1;
		}
		unsigned head = *cq_head, tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			struct io_uring_cqe *e = &cqes[head & *cq_mask];
			uint64_t u = e->user_data;
			int res = e->res;
			cqes_seen++;
			if (u == 0)
				continue; /* a cancel's own completion */
			if (u == OP_ACCEPT) {
				queue_accept(srv);
				if (res < 0)
					continue;
				struct conn *c = NULL;
				if (open_conns >= maxconns || (c = calloc(1, sizeof *c)) == NULL) {
					close(res);
					continue;
				}
				int one = 1;
				setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				if (reno)
					setsockopt(res, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
				c->fd = res;
				open_conns++;
				if (queue_recv(c) < 0)
					finish(c);
				continue;
			}
			struct conn *c = (struct conn *)(uintptr_t)(u & ~(uint64_t)7);
			int op = (int)(u & 7);
			c->pending--;
			if (op == OP_SEND) {
				c->sending = 0;
				if (res != c->outlen || c->closing)
					finish(c);
				else
					serve(c);
				continue;
			}
			/* OP_RECV */
			if (res <= 0 || c->closing) {
				finish(c);
				continue;
			}
			c->have += res;
			serve(c);
			if (!c->closing && queue_recv(c) < 0)
				finish(c);
		}
		__atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
	}
	fprintf(stderr, "uring_server: %lu io_uring_enter calls, %lu completions\n", ring_enters, cqes_seen);
	close(srv);
	return 0;
}
