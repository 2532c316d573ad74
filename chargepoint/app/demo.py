"""`chargepoint demo`: one complete charging session on this machine, narrated.

A small CSMS built with the `ocpp` library listens on loopback, the station runs with
simulated hardware in a scratch data directory, and the bench drives it through the real
control socket, exactly as `chargepoint plug` and friends would.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from collections.abc import Callable
from typing import Any

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import ServerConnection, serve

from chargepoint.control.server import send_command
from chargepoint.app.logs import setup_logging
from chargepoint.infra.secrets import SecretScrubber
from chargepoint.app.settings import Settings
from chargepoint.app.station import Station
from drivers.sdm630_sim import Sdm630Simulator

ID_TAG = "DEMO-CARD-01"
SAMPLE_INTERVAL = "2"
CHARGE_SECONDS = 7
LIMIT_A = 10.0  # about 6.9 kW on three phases at 230 V, under the EV's 11 kW
DEADLINE = 50.0


class _Narrator:
    def __init__(self) -> None:
        self._start = time.monotonic()
        self.messages = 0

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self._start:5.1f}s] {text}", flush=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start


class DemoCentralSystem(ChargePoint):
    """Accepts everything and tells the narrator what arrived."""

    def __init__(self, identity: str, connection: Any, narrator: _Narrator) -> None:
        super().__init__(identity, connection)
        self._narrator = narrator
        self.meter_start: int | None = None
        self.meter_stop: int | None = None
        self.statuses: dict[int, str] = {}
        self.stopped = asyncio.Event()

    async def route_message(self, raw_msg: str) -> None:
        self._narrator.messages += 1
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        self._narrator.messages += 1
        await super()._send(message)

    def _hear(self, text: str) -> None:
        self._narrator.say(f"CSMS <- {text}")

    @on(Action.boot_notification)
    def on_boot(self, charge_point_vendor: str, charge_point_model: str, **_: Any) -> call_result.BootNotification:
        self._hear(f"BootNotification from {charge_point_vendor} {charge_point_model}: Accepted")
        return call_result.BootNotification(current_time=_now(), interval=60, status=RegistrationStatus.accepted)

    @after(Action.boot_notification)
    async def after_boot(self, **_: Any) -> None:
        answer = await self.call(call.ChangeConfiguration(key="MeterValueSampleInterval", value=SAMPLE_INTERVAL))
        self._narrator.say(f"CSMS -> ChangeConfiguration MeterValueSampleInterval={SAMPLE_INTERVAL}: {answer.status}")

    @on(Action.status_notification)
    def on_status(self, connector_id: int, status: str, error_code: str, **_: Any) -> call_result.StatusNotification:
        self.statuses[connector_id] = status
        self._hear(f"StatusNotification connector {connector_id}: {status} ({error_code})")
        return call_result.StatusNotification()

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> call_result.Authorize:
        self._hear(f"Authorize {id_tag}: Accepted")
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start(self, connector_id: int, id_tag: str, meter_start: int, **_: Any) -> call_result.StartTransaction:
        self.meter_start = meter_start
        self._hear(f"StartTransaction connector {connector_id}, {id_tag}, meterStart {meter_start} Wh: transaction 1")
        return call_result.StartTransaction(transaction_id=1, id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]], **_: Any) -> call_result.MeterValues:
        values = ", ".join(
            f"{v.get('measurand', 'Energy.Active.Import.Register')} {v['value']} {v.get('unit', 'Wh')}"
            for sample in meter_value
            for v in sample["sampled_value"]
        )
        self._hear(f"MeterValues connector {connector_id}: {values}")
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop(self, meter_stop: int, reason: str = "Local", **_: Any) -> call_result.StopTransaction:
        self.meter_stop = meter_stop
        self._hear(f"StopTransaction meterStop {meter_stop} Wh, reason {reason}")
        self.stopped.set()
        return call_result.StopTransaction()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


async def _power(narrator: _Narrator, settings: Settings) -> None:
    reply = await asyncio.to_thread(send_command, settings.control_socket, {"command": "status"})
    connector = reply["connectors"][0]
    narrator.say(f"station: power {connector['power_w']:.0f} W, offered {connector['offered_a']:g} A")


async def _limit(narrator: _Narrator, csms: DemoCentralSystem, amps: float) -> None:
    """Halfway through, the CSMS limits the transaction with a TxProfile (Smart Charging)."""
    profile = {
        "charging_profile_id": 1,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "transaction_id": 1,
        "charging_schedule": {"charging_rate_unit": "A", "charging_schedule_period": [{"start_period": 0, "limit": amps}]},
    }
    answer = await csms.call(call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile))
    narrator.say(f"CSMS -> SetChargingProfile TxProfile {amps:g} A: {answer.status}")


class DemoStuck(Exception):
    """A step of the session did not happen in time."""


def run_demo(base: Settings) -> int:
    try:
        return asyncio.run(asyncio.wait_for(_demo(base), DEADLINE))
    except DemoStuck as exc:
        print(f"demo stopped: no {exc} in time")
    except TimeoutError:
        print(f"demo did not complete within {DEADLINE:.0f} s")
    return 1


async def _demo(base: Settings) -> int:
    narrator = _Narrator()
    setup_logging("WARNING", SecretScrubber())
    central: list[DemoCentralSystem] = []

    async def accept(connection: ServerConnection) -> None:
        identity = (connection.request.path if connection.request else "/").rsplit("/", 1)[-1]
        central.append(DemoCentralSystem(identity, connection, narrator))
        with contextlib.suppress(websockets.exceptions.ConnectionClosed):
            await central[-1].start()

    with tempfile.TemporaryDirectory(prefix="chargepoint-demo-") as data_dir:
        async with serve(accept, "127.0.0.1", 0, subprotocols=[websockets.Subprotocol("ocpp1.6")]) as server:
            port = server.sockets[0].getsockname()[1]
            url = f"ws://127.0.0.1:{port}/ocpp"
            narrator.say(f"local CSMS listening on {url}")
            # The meter is a real Modbus TCP device: an SDM630 whose load is the simulated EV.
            load: list[Callable[[], float]] = [lambda: 0.0]
            meter = Sdm630Simulator(power=lambda: load[0]())
            meter_url = f"modbus-tcp://127.0.0.1:{await meter.start()}?unit=1&model=sdm630"
            narrator.say(f"SDM630 meter simulator on {meter_url}")
            settings = Settings(
                csms_url=url,
                identity="DEMO-CP",
                profile=base.profile,
                model=base.model,
                connectors=1,
                meters=[meter_url],
                data_dir=Path(data_dir),
                ev_power_w=11000,
            )
            station = Station(settings, SecretScrubber())
            load[0] = lambda: station.connectors[0].evse.power_w
            narrator.say(f"station {settings.profile}/{settings.station_model.name} starting")
            running = asyncio.create_task(station.run())
            try:
                return await _session(narrator, settings, central, station)
            finally:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
                await meter.stop()


async def _session(narrator: _Narrator, settings: Settings, central: list[DemoCentralSystem], station: Station) -> int:
    async def bench(**request: Any) -> None:
        reply = await asyncio.to_thread(send_command, settings.control_socket, request)
        narrator.say(f"bench: {reply.get('message') or reply.get('error')}")

    async def until(condition: Any, what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise DemoStuck(what)
            await asyncio.sleep(0.05)

    await until(lambda: central and central[-1].statuses.get(1) == "Available", "station registered")
    csms = central[-1]
    await asyncio.sleep(0.3)  # let the CSMS's ChangeConfiguration land first
    await bench(command="plug", connector=1)
    await bench(command="ev", connector=1, action="charge")
    await bench(command="swipe", id_tag=ID_TAG, connector=1)
    await until(lambda: csms.statuses.get(1) == "Charging", "charging")
    await asyncio.sleep(CHARGE_SECONDS / 2)
    await _power(narrator, settings)
    await _limit(narrator, csms, LIMIT_A)
    await asyncio.sleep(CHARGE_SECONDS / 2)
    await _power(narrator, settings)
    await bench(command="swipe", id_tag=ID_TAG, connector=1)
    await until(csms.stopped.is_set, "StopTransaction")
    await bench(command="unplug", connector=1)
    await until(lambda: csms.statuses.get(1) == "Available", "connector available again")
    delivered = (csms.meter_stop or 0) - (csms.meter_start or 0)
    print()
    print("session complete")
    print(f"  energy delivered:  {delivered} Wh")
    print(f"  messages exchanged: {narrator.messages}")
    print(f"  duration:          {narrator.elapsed:.1f} s")
    return 0 if delivered > 0 else 1
