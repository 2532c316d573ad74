"""Latency of one meter read through the project's Modbus driver, against a bare pymodbus client.

Why: the station polls each meter about once a second and MeterValues, meterStart and
meterStop all come from those polls, so a read must cost little beyond the Modbus exchange
itself. The driver adds a lock, pacing, decoding of every figure and the honesty checks; the
bare client in the same run does only the exchange (the same requests) and decodes the energy
register, and the ratio of the two is the driver's overhead. On a real RS-485 line the floor
is the wire time — computed here for 9600 and 19200 baud, since a pty has no baud rate.

One SDM630 register image is served by a pymodbus server in this process: over TCP on
loopback and over RTU on a pseudo-terminal pair joined by a relay (tests/test_modbus_meters.py).
Driver and bare client take turns read by read, so drift hits both alike; between RTU reads
the bench waits out the driver's pacing interval (outside the timing) so that latency, not
pacing, is measured. One line per figure.

Usage: .venv/bin/python bench/meter.py [--reads 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pymodbus import FramerType
from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers.modbus import ModbusMeter, wire_time  # noqa: E402  (needs ROOT on sys.path)
from drivers.registers import SDM630, Function, model_blocks  # noqa: E402
from tests.test_modbus_meters import FIGURES, MeterImage, PtyLine, start_rtu_server, start_tcp_server  # noqa: E402

MODEL = SDM630
UNIT = 1
PTY_BAUD = 19200  # what the driver paces for on the pty; the pty itself does not slow bytes down


async def bare_read(client: ModbusBaseClient) -> float:
    """What a minimal poller does: the same requests as the driver, then the energy figure."""
    words = {}
    for block in model_blocks(MODEL):
        read = client.read_input_registers if block.function is Function.INPUT else client.read_holding_registers
        response = await read(block.address, count=block.count, device_id=UNIT)
        words[block] = response.registers
    block = next(b for b in words if b.holds(MODEL.energy))
    return MODEL.energy.decode(block.words(MODEL.energy, words[block]))


async def timed(read: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await read()
    return time.perf_counter() - start


async def compare(link: str, meter: ModbusMeter, client: ModbusBaseClient, reads: int, gap: float) -> None:
    await client.connect()
    await meter.read()  # connect and take the reference reading outside the timing
    await bare_read(client)
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(reads):
        await asyncio.sleep(gap)
        ours.append(await timed(meter.read))
        await asyncio.sleep(gap)
        bare.append(await timed(lambda: bare_read(client)))
    await meter.close()
    client.close()
    for name, samples in (("driver", ours), ("bare-pymodbus", bare)):
        print(f"{link} {name} median={statistics.median(samples) * 1e3:.3f} ms")
        print(f"{link} {name} p99={statistics.quantiles(samples, n=100)[98] * 1e3:.3f} ms")
    print(f"{link} ratio driver/bare median={statistics.median(ours) / statistics.median(bare):.2f}")


async def main(reads: int) -> None:
    image = MeterImage(MODEL, UNIT)
    image.set_figures(FIGURES)

    server, port = await start_tcp_server(image)
    await compare(
        "tcp-loopback",
        ModbusMeter.tcp("127.0.0.1", port, UNIT, MODEL),
        AsyncModbusTcpClient("127.0.0.1", port=port, reconnect_delay=0),
        reads,
        gap=0.0,
    )
    await server.shutdown()

    # Two readers on one tty would steal each other's bytes: each client gets its own line
    # and server, over the same register image.
    lines = [PtyLine(), PtyLine()]
    servers = [await start_rtu_server(image, line) for line in lines]
    meter = ModbusMeter.rtu(lines[0].client_port, UNIT, MODEL, baudrate=PTY_BAUD)
    client = AsyncModbusSerialClient(lines[1].client_port, framer=FramerType.RTU, baudrate=PTY_BAUD, reconnect_delay=0)
    await compare("rtu-pty", meter, client, reads, gap=meter.min_interval)
    for server, line in zip(servers, lines):
        await server.shutdown()
        line.close()

    blocks = model_blocks(MODEL)
    shape = f"{len(blocks)} requests, {sum(b.count for b in blocks)} registers"
    for baud in (9600, 19200):
        print(f"wire-time {MODEL.name} one read ({shape}) 8N1 {baud} baud={wire_time(MODEL, baud, 'N', 1) * 1e3:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200)
    asyncio.run(main(parser.parse_args().reads))
