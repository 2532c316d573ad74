"""The least an OCPP 1.6J charge point can be: the baseline that bench/startup.py measures against.

Written with the bare `ocpp` library, as a CSMS engineer would in an afternoon: connect to the
URL on the command line (its last path segment is the identity), send BootNotification, then a
Heartbeat at the interval the CSMS gives. It registers no handlers, so the library answers every
CSMS request with NotImplemented. Whatever chargepoint costs beyond this in start-up time and
memory is the price of its features.

Usage: python bench/baseline_cp.py ws://127.0.0.1:9000/ocpp/CP001
"""

from __future__ import annotations

import asyncio
import sys

from ocpp.v16 import ChargePoint, call
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol


async def run(url: str) -> None:
    identity = url.rstrip("/").rsplit("/", 1)[-1]
    async with connect(url, subprotocols=[Subprotocol("ocpp1.6")]) as connection:
        station = ChargePoint(identity, connection)
        listener = asyncio.create_task(station.start())
        boot = await station.call(
            call.BootNotification(charge_point_vendor="Baseline", charge_point_model="ocpp-bare")
        )
        while not listener.done():
            await asyncio.sleep(boot.interval)
            await station.call(call.Heartbeat())
        await listener


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1]))
