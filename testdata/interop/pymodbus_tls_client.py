#!/usr/bin/env python3
"""pymodbus 3.0 (Debian python3-pymodbus) as a Modbus/TCP Security client of
plcsim, for interop/pymodbus_tls_test.go. It prints one JSON object per
operation on stdout.

It uses AsyncModbusTlsClient. The sync ModbusTlsClient of 3.0 is not used:
its recv() waits in select() on the TLS socket, which does not see bytes
already decrypted into the TLS buffer, so an answer that arrives in one TLS
record is often reported as "No Response received" after the timeout (and a
TLS 1.3 session ticket can surface as SSLWantReadError); see
testdata/interop/README.md.

--framer tls     pymodbus's default for TLS, ModbusTlsFramer: the bare PDU,
                 no MBAP header, inside TLS.
--framer socket  framer=ModbusSocketFramer: the MBAP header inside TLS, as
                 Modbus/TCP Security specifies (MODBUS-NOTES §4.4).
--verify         a verifying SSLContext (our CA, host name checked); without
                 it, pymodbus's default: CERT_NONE, no host name check.
"""
import argparse
import asyncio
import json
import logging
import ssl
import sys

from pymodbus.client import AsyncModbusTlsClient
from pymodbus.framer.socket_framer import ModbusSocketFramer
from pymodbus.framer.tls_framer import ModbusTlsFramer


def out(**kw):
    print(json.dumps(kw), flush=True)


async def run(a):
    sslctx = None
    if a.verify:
        sslctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        sslctx.minimum_version = ssl.TLSVersion.TLSv1_2
        sslctx.load_verify_locations(cafile=a.ca)
        sslctx.load_cert_chain(certfile=a.cert, keyfile=a.key)
    framer = ModbusSocketFramer if a.framer == "socket" else ModbusTlsFramer
    c = AsyncModbusTlsClient(a.host, port=a.port, framer=framer, sslctx=sslctx,
                             certfile=a.cert, keyfile=a.key, server_hostname=a.host,
                             timeout=a.timeout, retries=0, reconnect_delay=0)
    try:
        await c.connect()
    except Exception as e:  # pylint: disable=broad-except
        out(op="connect", ok=False, error=f"{type(e).__name__}: {e}")
        return
    if not c.protocol:
        out(op="connect", ok=False, error="not connected")
        return
    out(op="connect", ok=True, verify=c.sslctx.verify_mode == ssl.CERT_REQUIRED)
    for op in a.ops.split(","):
        try:
            if op == "read":
                r = await c.read_holding_registers(0, 2, slave=1)
            elif op == "write":
                r = await c.write_register(5, 1234, slave=1)
            elif op == "readback":
                r = await c.read_holding_registers(5, 1, slave=1)
            else:
                continue
        except Exception as e:  # pylint: disable=broad-except
            out(op=op, ok=False, error=f"{type(e).__name__}: {e}")
            continue
        if r.isError():
            out(op=op, ok=False, exception=getattr(r, "exception_code", None), error=str(r))
        else:
            out(op=op, ok=True, registers=getattr(r, "registers", None))
    closed = c.close()
    if asyncio.iscoroutine(closed):
        await closed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca")
    ap.add_argument("--framer", choices=["tls", "socket"], default="socket")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--timeout", type=float, default=2)
    ap.add_argument("--ops", default="read,write,readback")
    a = ap.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    asyncio.run(run(a))


if __name__ == "__main__":
    sys.exit(main())
