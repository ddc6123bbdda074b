/*
 * libmodbus_client: interoperability client for plcsim (plcctl interop suite).
 *
 * Exercises every Modbus function the libmodbus 3.1.6 client API offers
 * against a Modbus TCP server and checks every value it reads back.
 *
 *   gcc -Wall -Wextra -O2 -o libmodbus_client libmodbus_client.c \
 *       $(pkg-config --cflags --libs libmodbus)
 *   ./libmodbus_client HOST PORT [--pymodbus]
 *
 * Target server (default): plcsim, all tables ALL ZERO at start, 65536 items
 * per table, unit id 1, FC 17 either served or refused with exception 01.
 *
 * --pymodbus: the peer is testdata/interop/pymodbus_server.py instead
 * (10000 items per table, discrete input i = i%2==1, input register
 * i = 10000+i); only the expectations for the input tables and for the
 * last address (65535) change.
 *
 * Write checks are server-agnostic: each one reads the target window first,
 * computes the expected contents (untouched neighbours included), writes,
 * and reads the whole window back.
 *
 * Output: one line per check, "ok <name>" or "FAIL <name>: details", then
 * "N passed, M failed"; informational lines start with "#".
 * Exit status 0 only if every check passed (1 otherwise, 2 on bad usage).
 * Set LIBMODBUS_DEBUG=1 to have libmodbus dump every frame to stdout/stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modbus.h>

static modbus_t *ctx;
static int n_pass, n_fail;
static int pymodbus_mode;

static void ok(const char *name)
{
    n_pass++;
    printf("ok %s\n", name);
}

static void fail(const char *name, const char *fmt, ...)
{
    va_list ap;

    n_fail++;
    printf("FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* "rc=-1 errno=112345680 (Illegal data address)" */
static const char *err_text(int rc)
{
    static char buf[160];

    snprintf(buf, sizeof buf, "rc=%d errno=%d (%s)", rc, errno,
             modbus_strerror(errno));
    return buf;
}

/* Compare an expected and an actual bit array; report the first mismatch. */
static int cmp_bits(const char *name, int addr, int nb, const uint8_t *want,
                    const uint8_t *got)
{
    for (int i = 0; i < nb; i++) {
        if (!!want[i] != !!got[i]) {
            fail(name, "bit at address %d: got %d, want %d", addr + i,
                 !!got[i], !!want[i]);
            return 0;
        }
    }
    return 1;
}

static int cmp_regs(const char *name, int addr, int nb, const uint16_t *want,
                    const uint16_t *got)
{
    for (int i = 0; i < nb; i++) {
        if (want[i] != got[i]) {
            fail(name, "register at address %d: got 0x%04X, want 0x%04X",
                 addr + i, got[i], want[i]);
            return 0;
        }
    }
    return 1;
}

/* read_bits/read_registers wrappers that record a FAIL on a short read. */
static int rd_bits(const char *name, int addr, int nb, uint8_t *dest)
{
    int rc = modbus_read_bits(ctx, addr, nb, dest);

    if (rc != nb) {
        fail(name, "read_bits(%d, %d): %s", addr, nb, err_text(rc));
        return 0;
    }
    return 1;
}

static int rd_regs(const char *name, int addr, int nb, uint16_t *dest)
{
    int rc = modbus_read_registers(ctx, addr, nb, dest);

    if (rc != nb) {
        fail(name, "read_registers(%d, %d): %s", addr, nb, err_text(rc));
        return 0;
    }
    return 1;
}

/* FC 05 + FC 01: set one coil inside a window and check the whole window. */
static void test_write_bit(const char *name, int addr, int value)
{
    uint8_t before[5], after[5];
    int lo = addr - 2, rc;

    if (!rd_bits(name, lo, 5, before))
        return;
    rc = modbus_write_bit(ctx, addr, value);
    if (rc != 1) {
        fail(name, "write_bit(%d, %d): %s", addr, value, err_text(rc));
        return;
    }
    before[2] = (uint8_t)value;
    if (!rd_bits(name, lo, 5, after))
        return;
    if (cmp_bits(name, lo, 5, before, after))
        ok(name);
}

/* FC 15 + FC 01 */
static void test_write_bits(const char *name, int addr, int nb)
{
    static uint8_t before[MODBUS_MAX_READ_BITS], after[MODBUS_MAX_READ_BITS];
    static uint8_t data[MODBUS_MAX_WRITE_BITS];
    int lo = addr - 3, win = nb + 6, rc;

    if (win > MODBUS_MAX_READ_BITS) {
        fail(name, "test bug: window %d too large", win);
        return;
    }
    if (!rd_bits(name, lo, win, before))
        return;
    for (int i = 0; i < nb; i++) {
        /* even offsets: flip what is there (so at least half the bits
         * change on any server); odd offsets: an irregular fixed pattern */
        data[i] = (i % 2 == 0) ? (uint8_t)!before[3 + i]
                               : (uint8_t)((i * 7) % 5 < 2);
        before[3 + i] = data[i];
    }
    rc = modbus_write_bits(ctx, addr, nb, data);
    if (rc != nb) {
        fail(name, "write_bits(%d, %d): %s", addr, nb, err_text(rc));
        return;
    }
    if (!rd_bits(name, lo, win, after))
        return;
    if (cmp_bits(name, lo, win, before, after))
        ok(name);
}

/* FC 06 + FC 03 */
static void test_write_register(const char *name, int addr, uint16_t value)
{
    uint16_t before[3], after[3];
    int rc;

    if (!rd_regs(name, addr - 1, 3, before))
        return;
    rc = modbus_write_register(ctx, addr, value);
    if (rc != 1) {
        fail(name, "write_register(%d, 0x%04X): %s", addr, value, err_text(rc));
        return;
    }
    before[1] = value;
    if (!rd_regs(name, addr - 1, 3, after))
        return;
    if (cmp_regs(name, addr - 1, 3, before, after))
        ok(name);
}

/* FC 16 + FC 03: nb registers at addr, read back addr-1 .. addr+nb. */
static void test_write_registers(const char *name, int addr, int nb)
{
    uint16_t before[MODBUS_MAX_READ_REGISTERS], after[MODBUS_MAX_READ_REGISTERS];
    uint16_t data[MODBUS_MAX_WRITE_REGISTERS];
    int win = nb + 2, rc;

    if (!rd_regs(name, addr - 1, win, before))
        return;
    for (int i = 0; i < nb; i++) {
        data[i] = (uint16_t)(0xA000 + i * 0x0101);
        before[1 + i] = data[i];
    }
    rc = modbus_write_registers(ctx, addr, nb, data);
    if (rc != nb) {
        fail(name, "write_registers(%d, %d): %s", addr, nb, err_text(rc));
        return;
    }
    if (!rd_regs(name, addr - 1, win, after))
        return;
    if (cmp_regs(name, addr - 1, win, before, after))
        ok(name);
}

/* FC 22: set the register to start, mask it, read back, compare with want. */
static void test_mask_write(const char *name, int addr, uint16_t start,
                            uint16_t and_mask, uint16_t or_mask, uint16_t want)
{
    uint16_t got;
    int rc;

    rc = modbus_write_register(ctx, addr, start);
    if (rc != 1) {
        fail(name, "write_register(%d, 0x%04X): %s", addr, start, err_text(rc));
        return;
    }
    rc = modbus_mask_write_register(ctx, addr, and_mask, or_mask);
    if (rc != 1) {
        fail(name, "mask_write_register(%d, and=0x%04X, or=0x%04X): %s", addr,
             and_mask, or_mask, err_text(rc));
        return;
    }
    if (!rd_regs(name, addr, 1, &got))
        return;
    if (got != want) {
        fail(name, "0x%04X AND 0x%04X OR 0x%04X: got 0x%04X, want 0x%04X",
             start, and_mask, or_mask, got, want);
        return;
    }
    ok(name);
}

/*
 * FC 23: write wn registers at waddr and read rn at raddr in one request.
 * The spec says the write happens first, so the read must already see it.
 * The whole read window is predicted from a prior FC 03 read.
 */
static void test_write_and_read(const char *name, int waddr, int wn, int raddr,
                                int rn)
{
    uint16_t before[MODBUS_MAX_WR_READ_REGISTERS];
    uint16_t got[MODBUS_MAX_WR_READ_REGISTERS];
    uint16_t data[MODBUS_MAX_WR_WRITE_REGISTERS];
    uint16_t after[MODBUS_MAX_WR_READ_REGISTERS];
    int rc;

    if (!rd_regs(name, raddr, rn, before))
        return;
    for (int i = 0; i < wn; i++) {
        data[i] = (uint16_t)(0x5A00 + i);
        if (waddr + i >= raddr && waddr + i < raddr + rn)
            before[waddr + i - raddr] = data[i];
    }
    rc = modbus_write_and_read_registers(ctx, waddr, wn, data, raddr, rn, got);
    if (rc != rn) {
        fail(name, "write_and_read_registers(w %d/%d, r %d/%d): %s", waddr, wn,
             raddr, rn, err_text(rc));
        return;
    }
    if (!cmp_regs(name, raddr, rn, before, got))
        return;
    /* and the write really landed: */
    if (!rd_regs(name, waddr, wn, after))
        return;
    if (cmp_regs(name, waddr, wn, data, after))
        ok(name);
}

/* FC 02: compare with the server's initial contents. */
static void test_read_input_bits(const char *name, int addr, int nb)
{
    static uint8_t want[MODBUS_MAX_READ_BITS], got[MODBUS_MAX_READ_BITS];
    int rc;

    for (int i = 0; i < nb; i++)
        want[i] = pymodbus_mode ? (uint8_t)((addr + i) % 2 == 1) : 0;
    rc = modbus_read_input_bits(ctx, addr, nb, got);
    if (rc != nb) {
        fail(name, "read_input_bits(%d, %d): %s", addr, nb, err_text(rc));
        return;
    }
    if (cmp_bits(name, addr, nb, want, got))
        ok(name);
}

/* FC 04 */
static void test_read_input_registers(const char *name, int addr, int nb)
{
    uint16_t want[MODBUS_MAX_READ_REGISTERS], got[MODBUS_MAX_READ_REGISTERS];
    int rc;

    for (int i = 0; i < nb; i++)
        want[i] = pymodbus_mode ? (uint16_t)(10000 + addr + i) : 0;
    rc = modbus_read_input_registers(ctx, addr, nb, got);
    if (rc != nb) {
        fail(name, "read_input_registers(%d, %d): %s", addr, nb, err_text(rc));
        return;
    }
    if (cmp_regs(name, addr, nb, want, got))
        ok(name);
}

/* FC 17: a valid answer or exception 01 are both acceptable. */
static void test_report_slave_id(void)
{
    const char *name = "report_slave_id";
    uint8_t buf[MODBUS_MAX_PDU_LENGTH];
    int rc = modbus_report_slave_id(ctx, sizeof buf, buf);

    if (rc >= 2) {
        printf("# report_slave_id answered: %d bytes, slave id 0x%02X, "
               "run indicator 0x%02X\n", rc, buf[0], buf[1]);
        ok(name);
    } else if (rc == -1 && errno == EMBXILFUN) {
        printf("# report_slave_id refused with exception 01 (illegal function)\n");
        ok(name);
    } else if (rc >= 0) {
        fail(name, "answer too short: %d bytes", rc);
    } else {
        fail(name, "want a valid answer or EMBXILFUN: %s", err_text(rc));
    }
}

/* Expect a read to fail with exception 02 (EMBXILADD). */
enum { RD_BITS, RD_INPUT_BITS, RD_REGS, RD_INPUT_REGS };

static void test_illegal_read(const char *name, int kind, int addr, int nb)
{
    uint8_t bits[8];
    uint16_t regs[8];
    int rc = -1;

    errno = 0;
    switch (kind) {
    case RD_BITS: rc = modbus_read_bits(ctx, addr, nb, bits); break;
    case RD_INPUT_BITS: rc = modbus_read_input_bits(ctx, addr, nb, bits); break;
    case RD_REGS: rc = modbus_read_registers(ctx, addr, nb, regs); break;
    case RD_INPUT_REGS: rc = modbus_read_input_registers(ctx, addr, nb, regs); break;
    }
    if (rc == -1 && errno == EMBXILADD)
        ok(name);
    else if (rc >= 0)
        fail(name, "read at %d count %d succeeded (rc=%d), want EMBXILADD",
             addr, nb, rc);
    else
        fail(name, "want EMBXILADD (%d): %s", EMBXILADD, err_text(rc));
}

/* The last address of a 65536-item table (illegal on the 10000-item pymodbus server). */
static void test_last_address(void)
{
    uint16_t reg = 0;
    uint8_t bit = 0;
    int rc;

    if (pymodbus_mode) {
        errno = 0;
        rc = modbus_write_register(ctx, 65535, 0xBEEF);
        if (rc == -1 && errno == EMBXILADD)
            ok("write_register last address 65535 (EMBXILADD on 10000 items)");
        else
            fail("write_register last address 65535 (EMBXILADD on 10000 items)",
                 "%s", err_text(rc));
        errno = 0;
        rc = modbus_write_bit(ctx, 65535, 1);
        if (rc == -1 && errno == EMBXILADD)
            ok("write_bit last address 65535 (EMBXILADD on 10000 items)");
        else
            fail("write_bit last address 65535 (EMBXILADD on 10000 items)",
                 "%s", err_text(rc));
        return;
    }
    rc = modbus_write_register(ctx, 65535, 0xBEEF);
    if (rc != 1)
        fail("write_register last address 65535", "%s", err_text(rc));
    else if (rd_regs("write_register last address 65535", 65535, 1, &reg)) {
        if (reg == 0xBEEF)
            ok("write_register last address 65535");
        else
            fail("write_register last address 65535", "got 0x%04X, want 0xBEEF", reg);
    }
    rc = modbus_write_bit(ctx, 65535, 1);
    if (rc != 1)
        fail("write_bit last address 65535", "%s", err_text(rc));
    else if (rd_bits("write_bit last address 65535", 65535, 1, &bit)) {
        if (bit == 1)
            ok("write_bit last address 65535");
        else
            fail("write_bit last address 65535", "got %d, want 1", bit);
    }
}

/* The connection must stay usable after exception responses. */
static void test_alive_after_exception(void)
{
    uint16_t reg;
    int rc = modbus_read_registers(ctx, 0, 1, &reg);

    if (rc == 1)
        ok("connection usable after exceptions");
    else
        fail("connection usable after exceptions", "%s", err_text(rc));
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s HOST PORT [--pymodbus]\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    char *end;
    long port;

    if (argc < 3 || argc > 4)
        usage(argv[0]);
    port = strtol(argv[2], &end, 10);
    if (*end != '\0' || port < 1 || port > 65535)
        usage(argv[0]);
    if (argc == 4) {
        if (strcmp(argv[3], "--pymodbus") != 0)
            usage(argv[0]);
        pymodbus_mode = 1;
    }

    printf("# libmodbus %u.%u.%u (headers %s), server %s:%ld%s\n",
           libmodbus_version_major, libmodbus_version_minor,
           libmodbus_version_micro, LIBMODBUS_VERSION_STRING, argv[1], port,
           pymodbus_mode ? ", pymodbus_server.py expectations" : "");

    ctx = modbus_new_tcp(argv[1], (int)port);
    if (ctx == NULL) {
        printf("FAIL modbus_new_tcp: %s\n", modbus_strerror(errno));
        printf("0 passed, 1 failed\n");
        return 1;
    }
    if (getenv("LIBMODBUS_DEBUG") != NULL)
        modbus_set_debug(ctx, 1);
    modbus_set_response_timeout(ctx, 2, 0);
    modbus_set_slave(ctx, 1);
    if (modbus_connect(ctx) == -1) {
        printf("FAIL connect: %s\n", modbus_strerror(errno));
        printf("0 passed, 1 failed\n");
        modbus_free(ctx);
        return 1;
    }
    ok("connect");

    /* FC 05 + FC 01 */
    test_write_bit("write_bit on + read_bits", 10, 1);
    test_write_bit("write_bit off + read_bits", 10, 0);
    test_write_bit("write_bit on at 7 + read_bits", 7, 1);
    /* FC 15 + FC 01 (odd count, then the maximum 1968) */
    test_write_bits("write_bits 37 + read_bits", 100, 37);
    test_write_bits("write_bits 1968 (max) + read_bits", 3000, MODBUS_MAX_WRITE_BITS);
    /* FC 06 + FC 03 */
    test_write_register("write_register + read_registers", 20, 0x1234);
    test_write_register("write_register 0xFFFF + read_registers", 21, 0xFFFF);
    /* FC 16 + FC 03 (small, then the maximum 123 with a 125-register read) */
    test_write_registers("write_registers 10 + read_registers", 30, 10);
    test_write_registers("write_registers 123 (max) + read_registers 125", 1000,
                         MODBUS_MAX_WRITE_REGISTERS);
    /* FC 22: the spec example, then set-all and keep-all masks */
    test_mask_write("mask_write_register spec example 0x12 -> 0x17", 40, 0x0012,
                    0x00F2, 0x0025, 0x0017);
    test_mask_write("mask_write_register and=0 or=0xFFFF", 41, 0x1234, 0x0000,
                    0xFFFF, 0xFFFF);
    test_mask_write("mask_write_register and=0xFFFF keeps value", 42, 0xA5C3,
                    0xFFFF, 0x0F0F, 0xA5C3);
    /* FC 23: overlapping windows (write before read), then maximum sizes */
    test_write_and_read("write_and_read_registers overlap", 50, 3, 48, 6);
    test_write_and_read("write_and_read_registers max (w121 r125)", 2000,
                        MODBUS_MAX_WR_WRITE_REGISTERS, 1999,
                        MODBUS_MAX_WR_READ_REGISTERS);
    /* FC 02, FC 04: initial contents (all zero on plcsim) */
    test_read_input_bits("read_input_bits 0..1999", 0, MODBUS_MAX_READ_BITS);
    test_read_input_bits("read_input_bits 9990..9999", 9990, 10);
    test_read_input_registers("read_input_registers 0..124", 0, MODBUS_MAX_READ_REGISTERS);
    test_read_input_registers("read_input_registers 9900..9999", 9900, 100);
    /* FC 17 */
    test_report_slave_id();
    /* Exception 02 for a range that runs past 65535 */
    test_illegal_read("read_registers 65535 count 2 -> EMBXILADD", RD_REGS, 65535, 2);
    test_illegal_read("read_bits 65535 count 2 -> EMBXILADD", RD_BITS, 65535, 2);
    test_illegal_read("read_input_bits 65535 count 2 -> EMBXILADD", RD_INPUT_BITS, 65535, 2);
    test_illegal_read("read_input_registers 65535 count 2 -> EMBXILADD", RD_INPUT_REGS, 65535, 2);
    test_last_address();
    test_alive_after_exception();

    modbus_close(ctx);
    modbus_free(ctx);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail == 0 ? 0 : 1;
}
