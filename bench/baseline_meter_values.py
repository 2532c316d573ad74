"""The round-trip limit of one outstanding CALL: the baseline that bench/replay.py measures against.

A bare `ocpp`-library charge point: connect to the URL on the command line (its last path
segment is the identity), send BootNotification, then send the transaction messages in the JSON
file one at a time, each waiting for its answer before the next, exactly as they sit in the
station's queue (StartTransaction, the MeterValues, StopTransaction; snake_case fields, the
transactionId taken from the StartTransaction answer). No database, no queue, no state machine:
whatever the station needs beyond this per message is the price of delivering durably.

Usage: python bench/baseline_meter_values.py ws://127.0.0.1:9000/ocpp/CP001 messages.json
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from ocpp.v16 import ChargePoint, call
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

PAYLOADS = {"StartTransaction": call.StartTransaction, "MeterValues": call.MeterValues, "StopTransaction": call.StopTransaction}


async def run(url: str, messages: list[tuple[str, dict]]) -> None:
    identity = url.rstrip("/").rsplit("/", 1)[-1]
    async with connect(url, subprotocols=[Subprotocol("ocpp1.6")]) as connection:
        station = ChargePoint(identity, connection)
        listener = asyncio.create_task(station.start())
        await station.call(call.BootNotification(charge_point_vendor="Baseline", charge_point_model="ocpp-bare"))
        transaction_id = -1
        for action, fields in messages:
            if action != "StartTransaction":
                fields = {**fields, "transaction_id": transaction_id}
            answer = await station.call(PAYLOADS[action](**fields), suppress=False)
            if action == "StartTransaction":
                transaction_id = answer.transaction_id
        listener.cancel()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], json.loads(Path(sys.argv[2]).read_text())))
