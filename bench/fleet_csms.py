"""A lean CSMS for bench/fleet.py, in a process of its own: it accepts every boot (heartbeat
interval 60 s), answers every CALL at once, and asks each station for MeterValues every 10 s
while charging (ChangeConfiguration MeterValueSampleInterval). Plain websockets and json, no
schema validation: the bench measures the stations, not this server.

Usage: python bench/fleet_csms.py PORT   (prints "listening" once it accepts connections)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

HEARTBEAT_S = 60
SAMPLE_S = "10"
_transactions = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _answer(action: str) -> dict[str, Any]:
    accepted = {"status": "Accepted"}
    match action:
        case "BootNotification":
            return {"status": "Accepted", "currentTime": _now(), "interval": HEARTBEAT_S}
        case "Heartbeat":
            return {"currentTime": _now()}
        case "Authorize":
            return {"idTagInfo": accepted}
        case "StartTransaction":
            return {"transactionId": next(_transactions), "idTagInfo": accepted}
        case "DataTransfer":
            return accepted
    return {}


async def _station(connection: ServerConnection) -> None:
    try:
        async for text in connection:
            frame = json.loads(text)
            if frame[0] != 2:
                continue
            await connection.send(json.dumps([3, frame[1], _answer(frame[2])]))
            if frame[2] == "BootNotification":
                change = {"key": "MeterValueSampleInterval", "value": SAMPLE_S}
                await connection.send(json.dumps([2, f"cfg-{frame[1]}", "ChangeConfiguration", change]))
    except ConnectionClosed:
        pass


async def main(port: int) -> None:
    async with serve(_station, "127.0.0.1", port, subprotocols=["ocpp1.6"], backlog=4096, max_queue=4):  # type: ignore[list-item]
        print("listening", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
