/*
 * libmodbus_oneshot: the one-shot read of libmodbus's C client, the peer of
 * `plcctl -a ADDR read-holding-registers 0 10` in bench/run.sh's one-shot
 * table (issue 10).
 *
 *   libmodbus_oneshot HOST PORT
 *
 * Connects to HOST:PORT (plcsim on 127.0.0.1), reads 10 holding registers
 * from 0 with FC 3, prints them as plcctl's text output does ("0  VALUE"
 * per line), and closes with modbus_close (shutdown(SHUT_RDWR) and close(2):
 * libmodbus does not wait for the peer's FIN, which plcctl's graceful close
 * does). Built as libmodbus's users build it: dynamically linked against the
 * system's libmodbus. Every wait is bounded (1 s response timeout). Any
 * error exits 1 with a message on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <modbus.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: libmodbus_oneshot HOST PORT\n");
		return 2;
	}
	modbus_t *ctx = modbus_new_tcp(argv[1], atoi(argv[2]));
	if (ctx == NULL) {
		fprintf(stderr, "libmodbus_oneshot: modbus_new_tcp: %s\n", modbus_strerror(errno));
		return 1;
	}
	modbus_set_response_timeout(ctx, 1, 0);
	if (modbus_connect(ctx) == -1) {
		fprintf(stderr, "libmodbus_oneshot: connect: %s\n", modbus_strerror(errno));
		modbus_free(ctx);
		return 1;
	}
	uint16_t regs[10];
	if (modbus_read_registers(ctx, 0, 10, regs) != 10) {
		fprintf(stderr, "libmodbus_oneshot: read: %s\n", modbus_strerror(errno));
		modbus_close(ctx);
		modbus_free(ctx);
		return 1;
	}
	for (int i = 0; i < 10; i++)
		printf("%d  %u\n", i, (unsigned)regs[i]);
	modbus_close(ctx);
	modbus_free(ctx);
	return 0;
}
