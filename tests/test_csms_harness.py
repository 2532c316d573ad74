"""The test CSMS checked against a minimal `ocpp` client, so station failures are never harness bugs."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from websockets.asyncio.client import ClientConnection, connect

from tests.csms import CALLERROR, CALLRESULT, Csms


class _Station(ChargePoint):
    @on("GetConfiguration")
    def _get_configuration(self, **_: Any) -> call_result.GetConfiguration:
        return call_result.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "60"}]
        )


@asynccontextmanager
async def _station(url: str) -> AsyncIterator[tuple[_Station, ClientConnection]]:
    """Run the station's receive loop in the background, as a real station does."""
    async with connect(url, subprotocols=["ocpp1.6"]) as ws:
        station = _Station(url.rsplit("/", 1)[-1], ws)
        loop = asyncio.create_task(station.start())
        try:
            yield station, ws
        finally:
            loop.cancel()


async def test_boot_is_answered_and_recorded_both_ways() -> None:
    async with Csms(boot_status="Pending", boot_interval=7) as csms, _station(f"{csms.url}/CP1") as (station, _):
        mark = len(csms.frames)
        answer = await station.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        frame = await csms.wait_for("BootNotification", lambda p: p["chargePointModel"] == "M", after=mark)

        assert (answer.status, answer.interval) == ("Pending", 7)
        assert csms.identity == "CP1" and csms.connections == 1
        assert frame.direction == "in" and csms.calls("BootNotification") == [frame.payload]
        reply = next(f for f in csms.frames if f.direction == "out" and f.unique_id == frame.unique_id)
        assert (reply.message_type, reply.action, reply.payload["interval"]) == (CALLRESULT, "BootNotification", 7)


async def test_calls_to_the_station_return_results_and_raw_errors() -> None:
    async with Csms() as csms, _station(f"{csms.url}/CP1"):
        await csms.wait_connected(5)
        result = await csms.call(call.GetConfiguration(key=["HeartbeatInterval"]))
        raw = await csms.call_raw("GetConfiguration", {"key": 5})

        assert result.configuration_key[0]["value"] == "60"
        assert raw[0] == CALLERROR
        answers = [f for f in csms.frames if f.direction == "in"]
        assert [(f.message_type, f.action) for f in answers] == [
            (CALLRESULT, "GetConfiguration"),
            (CALLERROR, "GetConfiguration"),
        ]


async def test_malformed_frames_are_recorded_before_routing() -> None:
    async with Csms() as csms, _station(f"{csms.url}/CP1") as (station, ws):
        await ws.send("not json")
        await station.call(call.Heartbeat())

        assert [(f.direction, f.message_type, f.raw) for f in csms.frames[:1]] == [("in", None, "not json")]
        assert csms.frames[1].action == "Heartbeat"


async def test_wrong_credentials_get_401_on_upgrade() -> None:
    async with Csms(basic_auth=("CP1", "right")) as csms:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(csms.url.replace("//", "//CP1:wrong@") + "/CP1", subprotocols=["ocpp1.6"]):
                pass
        async with connect(csms.url.replace("//", "//CP1:right@") + "/CP1", subprotocols=["ocpp1.6"]):
            await csms.wait_connected(5)

        assert refused.value.response.status_code == 401
        assert (csms.refused, csms.connections) == (1, 1)
        assert csms.last_headers is not None and csms.last_headers["Authorization"].startswith("Basic ")


async def test_disconnect_waits_for_the_station_to_come_back() -> None:
    async with Csms(errors={"StartTransaction": "InternalError"}) as csms:
        async with _station(f"{csms.url}/CP1") as (station, ws):
            await csms.wait_connected(5)
            await csms.disconnect()
            await ws.wait_closed()
        with pytest.raises(TimeoutError):
            await csms.wait_connected(0.1)
        async with _station(f"{csms.url}/CP1") as (station, _):
            await csms.wait_connected(5)
            answer = await station.call(
                call.StartTransaction(connector_id=1, id_tag="T", meter_start=0, timestamp="2024-01-01T00:00:00Z")
            )

        assert answer is None  # the injected CALLERROR, suppressed by the client library
        assert csms.connections == 2 and csms.frames[-1].payload["errorCode"] == "InternalError"
