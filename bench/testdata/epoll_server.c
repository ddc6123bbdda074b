/*
 * epoll_server: the ceiling for bench/'s server rows: the least a Modbus TCP
 * server can do per request under bench/loadgen, so that plcsim's and
 * libmodbus's figures can be read against what the load generator and the
 * kernel allow at all.
 *
 *   epoll_server MAXCONNS [OPTIONS]
 *
 * Listens on 127.0.0.1 on a free port, prints "READY 127.0.0.1:PORT", and
 * serves every connection from one thread with epoll (level-triggered): a
 * readable socket is read once (up to 4 KiB), every complete FC 3 request
 * in it is answered (holding register i = i, 0..9999) in one write, anything
 * else closes the connection. No deadlines, no faults, no logging, no
 * partial-frame handling beyond keeping the bytes for the next read: a
 * floor, not a server to use. Runs until SIGTERM or SIGINT; loopback only.
 *
 * OPTIONS, comma-separated, each a trick to measure on its own (none by
 * default, as bench/servers.sh runs it):
 *   et      EPOLLET: edge-triggered, still one read per wakeup (enough
 *           with one request outstanding per connection)
 *   sock    recv(2)/send(2) instead of read(2)/write(2) (skips the VFS layer)
 *   reno    TCP_CONGESTION "reno" on every connection instead of the
 *           system's default (bbr here)
 *   quickack  TCP_QUICKACK before every read (ack at once, not delayed)
 *   batch   read every ready connection first, then write every answer
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ceiling.h"

#define BUFSZ 4096

static int opt_et, opt_sock, opt_reno, opt_quickack, opt_batch;

struct conn {
	int fd;
	int have;
	uint8_t in[BUFSZ];
};


static void drop(int ep, struct conn *c, int *open)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	(*open)--;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: epoll_server MAXCONNS [et,sock,reno,quickack,batch]\n");
		return 2;
	}
	if (argc == 3) {
		for (char *o = strtok(argv[2], ","); o; o = strtok(NULL, ",")) {
			if (!strcmp(o, "et"))
				opt_et = 1;
			else if (!strcmp(o, "sock"))
				opt_sock = 1;
			else if (!strcmp(o, "reno"))
				opt_reno = 1;
			else if (!strcmp(o, "quickack"))
				opt_quickack = 1;
			else if (!strcmp(o, "batch"))
				opt_batch = 1;
			else {
				fprintf(stderr, "epoll_server: option %s is not et, sock, reno, quickack or batch\n", o);
				return 2;
			}
		}
	}
	int maxconns = atoi(argv[1]);
	if (maxconns < 1 || maxconns > 4096) {
		fprintf(stderr, "epoll_server: MAXCONNS %d outside 1..4096\n", maxconns);
		return 2;
	}
	catch_stop_signals();

	int srv = listen_loopback("epoll_server");
	if (srv < 0)
		return 1;
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev) == -1) {
		perror("epoll_server: epoll");
		return 1;
	}

	int open = 0;
	static uint8_t out[64 * 1024];
	struct epoll_event evs[256];
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("epoll_server: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) {
				int fd = accept(srv, NULL, NULL);
				if (fd == -1)
					continue;
				if (open >= maxconns || (c = calloc(1, sizeof *c)) == NULL) {
					close(fd);
					continue;
				}
				int one = 1;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				if (opt_reno)
					setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4);
				c->fd = fd;
				struct epoll_event cev = {.events = EPOLLIN | (opt_et ? EPOLLET : 0), .data.ptr = c};
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
				open++;
				continue;
			}
			if (opt_quickack) {
				int one = 1;
				setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
			}
			ssize_t r = opt_sock ? recv(c->fd, c->in + c->have, BUFSZ - c->have, 0)
					     : read(c->fd, c->in + c->have, BUFSZ - c->have);
			int w = -1;
			if (r > 0) {
				c->have += (int)r;
				if (opt_batch) {
					/* answered below, after every read of this wakeup */
					evs[i].events = 0xffffffff;
					continue;
				}
				w = canned_answers(c->in, &c->have, out, sizeof out);
			}
			if (w > 0 && (opt_sock ? send(c->fd, out, w, 0) : write(c->fd, out, w)) != w)
				w = -1;
			if (w < 0)
				drop(ep, c, &open);
		}
		for (int i = 0; opt_batch && i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL || evs[i].events != 0xffffffff)
				continue;
			int w = canned_answers(c->in, &c->have, out, sizeof out);
			if (w > 0 && (opt_sock ? send(c->fd, out, w, 0) : write(c->fd, out, w)) != w)
				w = -1;
			if (w < 0)
				drop(ep, c, &open);
		}
	}
	close(srv);
	return 0;
}
