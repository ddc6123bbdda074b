/*
 * libmodbus_server: the libmodbus C server that bench/ measures plcsim
 * against (bench/run.sh, bench/loadgen).
 *
 *   libmodbus_server MAXCONNS
 *
 * Listens on 127.0.0.1 on a free port, prints "READY 127.0.0.1:PORT" on
 * stdout, and serves every connection from one thread with select(2), the
 * way libmodbus's own many-clients example does: a readable client socket is
 * handed to modbus_receive, and a complete request is answered by
 * modbus_reply from one mapping (10000 holding and input registers, holding
 * register i = i). It runs until SIGTERM or SIGINT. Only loopback: the
 * address is fixed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <modbus.h>

#include "stopsig.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: libmodbus_server MAXCONNS\n");
		return 2;
	}
	int maxconns = atoi(argv[1]);
	if (maxconns < 1 || maxconns > FD_SETSIZE - 16) {
		fprintf(stderr, "libmodbus_server: MAXCONNS %d outside 1..%d\n", maxconns, FD_SETSIZE - 16);
		return 2;
	}
	catch_stop_signals();

	/* Port 0: the kernel picks a free one, read back with getsockname. */
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", 0);
	if (ctx == NULL) {
		fprintf(stderr, "libmodbus_server: modbus_new_tcp: %s\n", modbus_strerror(errno));
		return 1;
	}
	modbus_mapping_t *map = modbus_mapping_new(0, 0, 10000, 10000);
	if (map == NULL) {
		fprintf(stderr, "libmodbus_server: modbus_mapping_new: %s\n", modbus_strerror(errno));
		return 1;
	}
	for (int i = 0; i < 10000; i++) {
		map->tab_registers[i] = (uint16_t)i;
		map->tab_input_registers[i] = (uint16_t)(10000 + i);
	}
	int srv = modbus_tcp_listen(ctx, maxconns);
	if (srv == -1) {
		fprintf(stderr, "libmodbus_server: listen: %s\n", modbus_strerror(errno));
		return 1;
	}
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	if (getsockname(srv, (struct sockaddr *)&sin, &sl) == -1) {
		perror("libmodbus_server: getsockname");
		return 1;
	}
	printf("READY 127.0.0.1:%d\n", ntohs(sin.sin_port));
	fflush(stdout);

	fd_set all;
	FD_ZERO(&all);
	FD_SET(srv, &all);
	int fdmax = srv, open = 0;
	uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
	while (!stop) {
		fd_set rd = all;
		if (select(fdmax + 1, &rd, NULL, NULL, NULL) == -1) {
			if (errno == EINTR)
				continue;
			perror("libmodbus_server: select");
			return 1;
		}
		for (int fd = 0; fd <= fdmax; fd++) {
			if (!FD_ISSET(fd, &rd))
				continue;
			if (fd == srv) {
				int c = accept(srv, NULL, NULL);
				if (c == -1)
					continue;
				if (open >= maxconns || c >= FD_SETSIZE) {
					close(c);
					continue;
				}
				FD_SET(c, &all);
				fdmax = c > fdmax ? c : fdmax;
				open++;
				continue;
			}
			modbus_set_socket(ctx, fd);
			int rc = modbus_receive(ctx, query);
			if (rc > 0) {
				modbus_reply(ctx, query, rc, map);
			} else if (rc == -1) {
				close(fd);
				FD_CLR(fd, &all);
				open--;
			}
		}
	}
	close(srv);
	modbus_mapping_free(map);
	modbus_free(ctx);
	return 0;
}
