#!/usr/bin/python3
"""Modbus TCP reference server for the plcctl interoperability suite.

Uses Debian bookworm's python3-pymodbus (3.0.0, reports 3.0.0.rc1).
Run with the system interpreter:

    /usr/bin/python3 testdata/interop/pymodbus_server.py --port 0

Prints exactly one line "READY 127.0.0.1:<port>" on stdout once the socket
accepts connections, then serves until SIGTERM/SIGINT (exit status 0).

Contents (PDU addresses 0..9999 in every table, zero_mode):
  holding register i = i
  input register i   = 10000 + i
  coil i             = (i % 3 == 0)
  discrete input i   = (i % 2 == 1)
Device identification (FC 43/14): VendorName "plcctl-interop",
ProductCode "PYMB", MajorMinorRevision "3.0".

Every unit id is answered (ModbusServerContext(single=True)); see README.md
for the function codes pymodbus 3.0 answers and its quirks.
"""

import argparse
import asyncio
import logging
import signal
import socket
import sys
import time

from pymodbus.datastore import (
    ModbusSequentialDataBlock,
    ModbusServerContext,
    ModbusSlaveContext,
)
from pymodbus.device import ModbusDeviceIdentification
from pymodbus.server.async_io import ModbusTcpServer

SIZE = 10000
HOST = "127.0.0.1"


def build_context():
    """Return the server context with the deterministic initial contents."""
    hr = [i % 65536 for i in range(SIZE)]
    ir = [min(10000 + i, 0xFFFF) for i in range(SIZE)]
    co = [i % 3 == 0 for i in range(SIZE)]
    di = [i % 2 == 1 for i in range(SIZE)]
    slave = ModbusSlaveContext(
        di=ModbusSequentialDataBlock(0, di),
        co=ModbusSequentialDataBlock(0, co),
        hr=ModbusSequentialDataBlock(0, hr),
        ir=ModbusSequentialDataBlock(0, ir),
        zero_mode=True,  # without it pymodbus 3.0 adds 1 to every address
    )
    # single=True: one context, answered for every unit id (1 included).
    return ModbusServerContext(slaves=slave, single=True)


def build_identity():
    ident = ModbusDeviceIdentification(
        info_name={
            "VendorName": "plcctl-interop",
            "ProductCode": "PYMB",
            "MajorMinorRevision": "3.0",
        }
    )
    return ident


def wait_accepting(port, timeout=5.0):
    """Block until a TCP connect to HOST:port succeeds (or raise)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def serve(port):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    server = ModbusTcpServer(
        build_context(),
        identity=build_identity(),
        address=(HOST, port),
        allow_reuse_address=True,
    )
    task = asyncio.create_task(server.serve_forever())
    # serve_forever() resolves server.serving once create_server() returned.
    done, _ = await asyncio.wait(
        {task, server.serving}, return_when=asyncio.FIRST_COMPLETED
    )
    if task in done:  # bind failed
        task.result()  # re-raise the bind error
        raise RuntimeError("server stopped before it was serving")
    # Port 0 is bound by the kernel directly (no probe-and-rebind race);
    # read back the port that was actually chosen.
    actual = server.server.sockets[0].getsockname()[1]
    # Be sure it accepts before announcing (connect from a worker thread so
    # the event loop can run the accept).
    await loop.run_in_executor(None, wait_accepting, actual)
    sys.stdout.write(f"READY {HOST}:{actual}\n")
    sys.stdout.flush()

    await stop.wait()
    await server.shutdown()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True,
                    help="TCP port on 127.0.0.1 (0 = pick a free port)")
    ap.add_argument("--debug", action="store_true",
                    help="log pymodbus frames to stderr")
    args = ap.parse_args()
    if not 0 <= args.port <= 65535:
        ap.error("--port must be 0..65535")
    # pymodbus.constants already called logging.basicConfig() (stderr,
    # WARNING) at import time, so only adjust the level here.
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if args.debug else logging.WARNING)
    if not args.debug:
        # pymodbus 3.0 logs every ordinary client disconnect at ERROR level
        # ("Handler for stream [...] has been canceled"); hide that noise.
        for handler in root.handlers:
            handler.addFilter(
                lambda rec: not rec.getMessage().endswith("has been canceled")
            )
    try:
        asyncio.run(serve(args.port))
    except OSError as exc:
        print(f"pymodbus_server: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
