/*
 * uring_loadgen: a leaner load generator than bench/loadgen, for the same
 * load: FC 3 requests, exact frames, ONE request outstanding per connection
 * (a polling client), every answer checked (length field, transaction id,
 * unit id, function code, byte count, register i = i), a wrong answer or a
 * broken connection an error that ends the connection. What it saves: the
 * sends and receives of every connection whose answer came go to the kernel
 * in one io_uring_enter, which also waits for the next answers, instead of
 * epoll_wait + recvfrom + sendto per answer; and no Go runtime. Each side
 * still pays the kernel's TCP work for what it sends.
 *
 *   uring_loadgen -addr 127.0.0.1:PORT -conns 64 -duration 2s [-regs 10] [-max N] [-mode coop|defer|plain]
 *
 * Prints the same JSON object as bench/loadgen:
 *   {"conns":..,"regs":..,"requests":..,"errors":..,"seconds":..,"rps":..,
 *    "p50_us":..,"p99_us":..,"cpu_us_per_req":..,"wakeups":..,"engine":"uring-c","depth":1}
 * A receive asks for no more than the answer due, so a byte past an answer
 * shows as the start of a wrong next one. Latency is taken once per batch
 * of completions (clock_gettime after io_uring_enter returns). Loopback
 * IPv4 only; at most 60 s and -max requests (default 5000000).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uring_ring.h"

enum { OP_SEND = 1, OP_RECV = 2, OP_STOP = 3 };

struct conn {
	int fd;
	int idx;
	uint16_t tid;
	int have;
	int done;
	int64_t sent_ns;
	uint8_t req[12];
	uint8_t buf[260];
};

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static uint64_t ud(int idx, int op) { return ((uint64_t)idx << 2) | (uint64_t)op; }

static int regs, want;
static uint8_t values[250];

/* send_next sends c's next request and arms the receive of its answer. */
static int send_next(struct conn *c, int64_t t)
{
	c->tid++;
	c->req[0] = (uint8_t)(c->tid >> 8), c->req[1] = (uint8_t)c->tid;
	c->sent_ns = t;
	c->have = 0;
	struct io_uring_sqe *s = ring_sqe();
	if (!s)
		return -1;
	s->opcode = IORING_OP_SEND;
	s->fd = c->fd;
	s->addr = (uint64_t)(uintptr_t)c->req;
	s->len = 12;
	s->user_data = ud(c->idx, OP_SEND);
	s = ring_sqe();
	if (!s)
		return -1;
	s->opcode = IORING_OP_RECV;
	s->fd = c->fd;
	s->addr = (uint64_t)(uintptr_t)c->buf;
	s->len = (unsigned)want;
	s->user_data = ud(c->idx, OP_RECV);
	return 0;
}

static int recv_rest(struct conn *c)
{
	struct io_uring_sqe *s = ring_sqe();
	if (!s)
		return -1;
	s->opcode = IORING_OP_RECV;
	s->fd = c->fd;
	s->addr = (uint64_t)(uintptr_t)(c->buf + c->have);
	s->len = (unsigned)(want - c->have);
	s->user_data = ud(c->idx, OP_RECV);
	return 0;
}

/* check_answer: NULL if c->buf is the answer to c->tid, else what is wrong. */
static const char *check_answer(struct conn *c)
{
	const uint8_t *a = c->buf;
	if (((a[0] << 8) | a[1]) != c->tid)
		return "wrong transaction id";
	if (a[2] != 0 || a[3] != 0 || ((a[4] << 8) | a[5]) != want - 6 || a[6] != 1 || a[7] != 3 || a[8] != 2 * regs)
		return "not FC 3 with the registers asked for";
	if (memcmp(a + 9, values, (size_t)(2 * regs)) != 0)
		return "wrong register values (register i = i)";
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static void usage(void)
{
	fprintf(stderr, "usage: uring_loadgen -addr 127.0.0.1:PORT [-conns N] [-duration Ns] [-regs N] [-max N] "
			"[-mode coop|defer|plain]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *mode = "coop";
	int conns = 1;
	double dur = 3;
	long long maxreq = 5000000;
	regs = 10;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *k = argv[i], *v = argv[++i];
		if (!strcmp(k, "-addr"))
			addr = v;
		else if (!strcmp(k, "-conns"))
			conns = atoi(v);
		else if (!strcmp(k, "-duration"))
			dur = atof(v); /* "2s" parses as 2 */
		else if (!strcmp(k, "-regs"))
			regs = atoi(v);
		else if (!strcmp(k, "-max"))
			maxreq = atoll(v);
		else if (!strcmp(k, "-mode"))
			mode = v;
		else
			usage();
	}
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	char host[64];
	if (!colon || colon - addr >= (long)sizeof host) {
		fprintf(stderr, "uring_loadgen: -addr %s is not HOST:PORT\n", addr ? addr : "(none)");
		return 2;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 || (ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "uring_loadgen: -addr %s: only loopback IPv4 addresses are allowed\n", addr);
		return 2;
	}
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	if (conns < 1 || conns > 1000 || dur <= 0 || dur > 60 || regs < 1 || regs > 125 || maxreq < 1) {
		fprintf(stderr, "uring_loadgen: -conns 1..1000, -duration (0, 60s], -regs 1..125, -max >= 1\n");
		return 2;
	}
	want = 9 + 2 * regs;
	for (int i = 0; i < 125; i++)
		values[2 * i] = (uint8_t)(i >> 8), values[2 * i + 1] = (uint8_t)i;

	unsigned flags = 0;
	if (!strcmp(mode, "coop"))
		flags = IORING_SETUP_COOP_TASKRUN;
	else if (!strcmp(mode, "defer"))
		flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	else if (strcmp(mode, "plain")) {
		fprintf(stderr, "uring_loadgen: -mode %s is coop, defer or plain\n", mode);
		return 2;
	}
	unsigned entries = 16;
	while (entries < 2u * (unsigned)conns + 8)
		entries <<= 1;
	if (ring_setup(entries, flags) < 0) {
		perror("uring_loadgen: io_uring_setup");
		return 1;
	}

	struct conn *cs = calloc((size_t)conns, sizeof *cs);
	size_t latcap = maxreq < (1 << 22) ? (size_t)maxreq : (1 << 22);
	uint32_t *lat = malloc(latcap * sizeof *lat);
	if (!cs || !lat) {
		fprintf(stderr, "uring_loadgen: out of memory\n");
		return 1;
	}
	for (int i = 0; i < conns; i++) {
		struct conn *c = &cs[i];
		c->idx = i;
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct timeval tv = {.tv_sec = 5};
		int one = 1;
		if (c->fd < 0 || setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
		    connect(c->fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
		    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
			fprintf(stderr, "uring_loadgen: connection %d of %d to %s: %s\n", i + 1, conns, addr, strerror(errno));
			return 1;
		}
		c->req[4] = 0, c->req[5] = 6, c->req[6] = 1, c->req[7] = 3;
		c->req[8] = 0, c->req[9] = 0, c->req[10] = 0, c->req[11] = (uint8_t)regs;
	}

	long long budget = maxreq, nlat = 0, errs = 0, wakeups = 0;
	double cpu0 = cpu_s();
	int64_t t0 = now_ns(), deadline = t0 + (int64_t)(dur * 1e9);
	/* the hard stop: answers still due 2 s after the end are errors */
	struct __kernel_timespec hard = {.tv_sec = (long long)dur + 2, .tv_nsec = (long)((dur - (long long)dur) * 1e9)};
	struct io_uring_sqe *s = ring_sqe();
	s->opcode = IORING_OP_TIMEOUT;
	s->addr = (uint64_t)(uintptr_t)&hard;
	s->len = 1;
	s->user_data = OP_STOP;
	int active = 0;
	for (int i = 0; i < conns; i++) {
		if (budget <= 0)
			break;
		budget--;
		if (send_next(&cs[i], t0) < 0) {
			fprintf(stderr, "uring_loadgen: submission queue full\n");
			return 1;
		}
		active++;
	}
	int stopped = 0;
	while (active > 0 && !stopped) {
		if (ring_submit_wait(1) < 0) {
			if (errno == EINTR)
				continue;
			perror("uring_loadgen: io_uring_enter");
			return 1;
		}
		wakeups++;
		int64_t t = now_ns();
		unsigned head = *cq_head, tail = __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			struct io_uring_cqe *e = &cqes[head & *cq_mask];
			int op = (int)(e->user_data & 3), res = e->res;
			if (op == OP_STOP) {
				stopped = 1;
				continue;
			}
			struct conn *c = &cs[e->user_data >> 2];
			if (c->done)
				continue;
			const char *bad = NULL;
			if (op == OP_SEND) {
				if (res != 12) {
					fprintf(stderr, "uring_loadgen: connection %d: send of request %u: %s\n", c->idx, c->tid,
						res < 0 ? strerror(-res) : "short send");
					bad = "";
				}
			} else if (res < 0) {
				fprintf(stderr, "uring_loadgen: connection %d: read answer to tid %u: %s\n", c->idx, c->tid,
					strerror(-res));
				bad = "";
			} else if (res == 0) {
				fprintf(stderr, "uring_loadgen: connection %d: read answer to tid %u: closed after %d bytes\n",
					c->idx, c->tid, c->have);
				bad = "";
			} else {
				c->have += res;
				if (c->have < want) {
					if (recv_rest(c) < 0)
						bad = "submission queue full";
				} else if ((bad = check_answer(c)) == NULL) {
					if (nlat < (long long)latcap) {
						int64_t d = t - c->sent_ns;
						lat[nlat] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
					}
					nlat++;
					if (t < deadline && budget > 0) {
						budget--;
						if (send_next(c, t) < 0)
							bad = "submission queue full";
					} else {
						c->done = 1;
						active--;
					}
				}
				if (bad && *bad)
					fprintf(stderr, "uring_loadgen: connection %d: answer to tid %u: %s\n", c->idx, c->tid, bad);
			}
			if (bad) {
				errs++;
				c->done = 1;
				active--;
			}
		}
		__atomic_store_n(cq_head, head, __ATOMIC_RELEASE);
	}
	int64_t t1 = now_ns();
	double cpu = cpu_s() - cpu0;
	if (active > 0) {
		fprintf(stderr, "uring_loadgen: %d connections had no answer 2 s after the end\n", active);
		errs += active;
	}
	for (int i = 0; i < conns; i++) {
		shutdown(cs[i].fd, SHUT_WR);
		close(cs[i].fd);
	}
	long long nl = nlat < (long long)latcap ? nlat : (long long)latcap;
	qsort(lat, (size_t)nl, sizeof *lat, cmp_u32);
	double secs = (double)(t1 - t0) / 1e9;
	printf("{\"conns\":%d,\"regs\":%d,\"requests\":%lld,\"errors\":%lld,\"seconds\":%.6f,\"rps\":%.1f,"
	       "\"p50_us\":%.3f,\"p99_us\":%.3f,\"cpu_us_per_req\":%.4f,\"wakeups\":%lld,\"engine\":\"uring-c-%s\",\"depth\":1}\n",
	       conns, regs, nlat, errs, secs, nlat / secs, nl ? lat[nl / 2] / 1e3 : 0, nl ? lat[nl * 99 / 100] / 1e3 : 0,
	       nlat ? cpu * 1e6 / nlat : 0, wakeups, mode);
	if (nlat == 0) {
		fprintf(stderr, "uring_loadgen: no request was answered\n");
		return 1;
	}
	return 0;
}
