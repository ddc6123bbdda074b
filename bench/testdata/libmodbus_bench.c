/*
 * libmodbus_bench: the libmodbus side of the plcctl benchmarks (bench/).
 *
 *   libmodbus_bench HOST PORT OP ADDR COUNT N SEED
 *
 * Connects once to HOST:PORT (plcsim on 127.0.0.1), sends one untimed
 * request (a warm-up that also checks the answer), then N timed requests on
 * the same connection, and prints one line to stdout:
 *
 *   elapsed_ns <total nanoseconds for the N requests>
 *
 * OP is "read" (FC 3: COUNT holding registers from ADDR, whose values must be
 * SEED, SEED+1, ...) or "write" (FC 16: the values SEED, SEED+1, ... to COUNT
 * registers from ADDR; the Go side reads them back). Any error exits 1 with a
 * message on stderr. Timing uses CLOCK_MONOTONIC around the loop only, so
 * process start-up and connecting are not counted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <modbus.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int one(modbus_t *ctx, int write, int addr, int count, uint16_t *regs)
{
	if (write)
		return modbus_write_registers(ctx, addr, count, regs);
	return modbus_read_registers(ctx, addr, count, regs);
}

static int check(const uint16_t *regs, int count, unsigned seed)
{
	for (int i = 0; i < count; i++) {
		if (regs[i] != (uint16_t)(seed + i)) {
			fprintf(stderr, "libmodbus_bench: register %d = %u, want %u\n", i, regs[i],
				(unsigned)(uint16_t)(seed + i));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: libmodbus_bench HOST PORT read|write ADDR COUNT N SEED\n");
		return 2;
	}
	const char *host = argv[1];
	int port = atoi(argv[2]);
	int write = strcmp(argv[3], "write") == 0;
	int addr = atoi(argv[4]);
	int count = atoi(argv[5]);
	long long n = atoll(argv[6]);
	unsigned seed = (unsigned)strtoul(argv[7], NULL, 0);
	if ((!write && strcmp(argv[3], "read") != 0) || count < 1 || count > 125 || n < 1) {
		fprintf(stderr, "libmodbus_bench: bad arguments\n");
		return 2;
	}

	uint16_t regs[125];
	for (int i = 0; i < count; i++)
		regs[i] = (uint16_t)(seed + i);

	modbus_t *ctx = modbus_new_tcp(host, port);
	if (ctx == NULL || modbus_set_slave(ctx, 1) == -1 || modbus_connect(ctx) == -1) {
		fprintf(stderr, "libmodbus_bench: connect %s:%d: %s\n", host, port, modbus_strerror(errno));
		return 1;
	}
	modbus_set_response_timeout(ctx, 1, 0); /* 1 s, as plcctl's default */

	int rc = 0;
	if (one(ctx, write, addr, count, regs) != count || (!write && check(regs, count, seed) != 0)) {
		fprintf(stderr, "libmodbus_bench: warm-up %s: %s\n", argv[3], modbus_strerror(errno));
		rc = 1;
		goto out;
	}
	long long start = now_ns();
	for (long long i = 0; i < n; i++) {
		if (one(ctx, write, addr, count, regs) != count) {
			fprintf(stderr, "libmodbus_bench: %s %lld: %s\n", argv[3], i, modbus_strerror(errno));
			rc = 1;
			goto out;
		}
	}
	long long elapsed = now_ns() - start;
	if (!write && check(regs, count, seed) != 0) {
		rc = 1;
		goto out;
	}
	printf("elapsed_ns %lld\n", elapsed);
out:
	modbus_close(ctx); /* close(2) after the last answer: a plain FIN */
	modbus_free(ctx);
	return rc;
}
