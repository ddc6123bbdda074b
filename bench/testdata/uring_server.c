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
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

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

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int ring_fd;
static unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static unsigned sq_entries, to_submit, sq_local_tail;
static unsigned long enters, cqes_seen;

static int enter(unsigned submit, unsigned wait, unsigned flags)
{
	enters++;
	return (int)syscall(__NR_io_uring_enter, ring_fd, submit, wait, flags, NULL, 0);
}

static struct io_uring_sqe *get_sqe(void)
{
	unsigned head = __atomic_load_n(sq_head, __ATOMIC_ACQUIRE);
	if (sq_local_tail - head >= sq_entries) {
		/* full: hand what is queued to the kernel first */
		__atomic_store_n(sq_tail, sq_local_tail, __ATOMIC_RELEASE);
		if (enter(to_submit, 0, 0) < 0)
			return NULL;
		to_submit = 0;
		head = __atomic_load_n(sq_head, __ATOMIC_ACQUIRE);
		if (sq_local_tail - head >= sq_entries)
			return NULL;
	}
	unsigned idx = sq_local_tail & *sq_mask;
	struct io_uring_sqe *sqe = &sqes[idx];
	memset(sqe, 0, sizeof *sqe);
	sq_array[idx] = idx;
	sq_local_tail++;
	to_submit++;
	return sqe;
}

static uint64_t ud(struct conn *c, int op) { return (uint64_t)(uintptr_t)c | (uint64_t)op; }

static int queue_accept(int srv)
{
	struct io_uring_sqe *s = get_sqe();
	if (!s)
		return -1;
	s->opcode = IORING_OP_ACCEPT;
	s->fd = srv;
	s->user_data = OP_ACCEPT;
	return 0;
}

static int queue_recv(struct conn *c)
{
	struct io_uring_sqe *s = get_sqe();
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
	struct io_uring_sqe *s = get_sqe();
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

/* answer writes the answers to the complete requests in c->in to c->out
 * and returns their length, or -1 for a request it does not serve. */
static int answer(struct conn *c)
{
	int off = 0, n = 0;
	while (c->have - off >= 12) {
		uint8_t *q = c->in + off;
		int len = (q[4] << 8) | q[5];
		if (len != 6 || q[7] != 3)
			return -1;
		int addr = (q[8] << 8) | q[9], qty = (q[10] << 8) | q[11];
		if (qty < 1 || qty > 125 || addr + qty > 10000 || n + 9 + 2 * qty > OUTSZ)
			return -1;
		uint8_t *a = c->out + n;
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
	memmove(c->in, c->in + off, c->have - off);
	c->have -= off;
	return n;
}

static int open_conns;

static void finish(struct conn *c)
{
	c->closing = 1;
	if (c->pending == 0) {
		close(c->fd);
		free(c);
		open_conns--;
	} else if (c->pending > 0) {
		/* a receive still armed: cancel it so that the close can happen */
		struct io_uring_sqe *s = get_sqe();
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
	int w = answer(c);
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
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	if (!strcmp(mode, "defer"))
		p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	else if (!strcmp(mode, "coop"))
		p.flags = IORING_SETUP_COOP_TASKRUN;
	else if (strcmp(mode, "plain")) {
		fprintf(stderr, "uring_server: MODE %s is defer, coop or plain\n", mode);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	unsigned entries = 16;
	while (entries < 2u * (unsigned)maxconns + 16)
		entries <<= 1;
	ring_fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (ring_fd < 0) {
		perror("uring_server: io_uring_setup");
		return 1;
	}
	size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sqsz = cqsz = sqsz > cqsz ? sqsz : cqsz;
	uint8_t *sq = mmap(NULL, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
	uint8_t *cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		cq = mmap(NULL, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    ring_fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		perror("uring_server: mmap");
		return 1;
	}
	sq_head = (unsigned *)(sq + p.sq_off.head);
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	sq_entries = p.sq_entries;
	sq_local_tail = *sq_tail;

	int srv = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sin;
	if (srv == -1 || bind(srv, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(srv, 1024) == -1 ||
	    getsockname(srv, (struct sockaddr *)&sin, &sl) == -1) {
		perror("uring_server: listen");
		return 1;
	}
	printf("READY 127.0.0.1:%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	queue_accept(srv);

	while (!stop) {
		__atomic_store_n(sq_tail, sq_local_tail, __ATOMIC_RELEASE);
		int r = enter(to_submit, 1, IORING_ENTER_GETEVENTS);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("uring_server: io_uring_enter");
			return 1;
		}
		to_submit -= (unsigned)r < to_submit ? (unsigned)r : to_submit;
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
	fprintf(stderr, "uring_server: %lu io_uring_enter calls, %lu completions\n", enters, cqes_seen);
	close(srv);
	return 0;
}
