"""The charging flow, the outbox and the durable queue, in process: no daemon, no socket, the
parts wired by hand as the composition root wires them, with a scripted CSMS behind the
Outbox interface (the one thing a feature may use to reach the CSMS)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call, call_result
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from chargepoint.authorization.authorizer import AuthorizationMode, Authorizer
from chargepoint.authorization.id_tags import IdTagStore
from chargepoint.connector.connector import Connector
from chargepoint.connector.connectors import Connectors
from chargepoint.infra.clock import Clock
from chargepoint.infra.database import Database
from chargepoint.infra.state import KeyTable
from chargepoint.link.outbox import CallFailed, NotAccepted, post
from chargepoint.metering.sampled import TransactionSampler
from chargepoint.metering.values import MeterValueBuilder
from chargepoint.metering.watch import MeterWatch
from chargepoint.transactions.answers import route_answers
from chargepoint.transactions.lifecycle import Transactions
from chargepoint.transactions.queue import TransactionQueue
from configkeys import Configuration, catalogue_for, get_profile
from drivers.simulated import SimulatedEvse, SimulatedMeter

S = ChargePointStatus


@dataclass
class ScriptedCsms:
    """An Outbox: `online` says whether messages may leave; `failures` CALLERRORs come first."""

    online: bool = True
    failures: int = 0
    sent: list[Any] = field(default_factory=list)
    _up: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def accepted(self) -> bool:
        return self.online

    def go_online(self) -> None:
        self.online = True
        self._up.set()

    async def wait_accepted(self) -> None:
        while not self.online:
            self._up.clear()
            await self._up.wait()

    async def request(self, payload: Any) -> Any:
        if not self.online:
            raise NotAccepted("offline")
        if self.failures:
            self.failures -= 1
            raise CallFailed("InternalError from the CSMS")
        self.sent.append(payload)
        if isinstance(payload, call.StartTransaction):
            return call_result.StartTransaction(transaction_id=7, id_tag_info={"status": "Accepted"})
        if isinstance(payload, call.Authorize):
            return call_result.Authorize(id_tag_info={"status": "Accepted"})
        return call_result.StopTransaction() if isinstance(payload, call.StopTransaction) else None

    def enqueue(self, payload: Any) -> asyncio.Future[Any]:
        if not self.online:
            raise NotAccepted("offline")
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.failures:
            self.failures -= 1
            answer.set_exception(CallFailed("InternalError from the CSMS"))
        else:
            self.sent.append(payload)
            answer.set_result(None)
        return answer


@dataclass
class Rig:
    csms: ScriptedCsms
    config: Configuration
    queue: TransactionQueue
    connector: Connector
    evse: SimulatedEvse
    reported: list[tuple[S, ChargePointErrorCode, str | None]]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    db = Database(tmp_path / "chargepoint.db")
    wemob = get_profile("wemob")
    config = Configuration(catalogue_for(wemob, wemob.model(None)), KeyTable(db))
    csms, clock = ScriptedCsms(), Clock()
    authorizer = Authorizer(csms, config, IdTagStore(db), AuthorizationMode.OCPP_SERVER, "FREEVEND", lambda _: None)
    queue = TransactionQueue(db, csms, config)
    transactions = Transactions(db, queue, config)
    sampler = TransactionSampler(transactions, config, MeterValueBuilder(config, clock))
    evse = SimulatedEvse(7400.0, tethered=False)
    meter = MeterWatch(SimulatedMeter(lambda: evse.power_w))
    connector = Connector(1, evse, meter, authorizer, transactions, sampler, config, clock, 32.0, False, True)
    route_answers(queue, transactions, authorizer, Connectors([connector]))
    reported: list[tuple[S, ChargePointErrorCode, str | None]] = []
    connector.on_status(lambda _, status, error, info: reported.append((status, error, info)))
    yield Rig(csms, config, queue, connector, evse, reported)
    db.close()


async def until_delivered(queue: TransactionQueue) -> None:
    """Let the queue's delivery run until it holds nothing more (or a second has passed)."""
    for _ in range(100):
        if not len(queue):
            return
        await asyncio.sleep(0.01)


async def settled() -> None:
    """Let the connector's spawned work (pilot events) run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_session_walks_the_statuses_and_queues_its_messages_in_order(rig: Rig) -> None:
    rig.evse.plug()
    await settled()
    assert await rig.connector.identification.present("TAG1") == "transaction started"
    rig.evse.ev_charge()
    await settled()
    assert (rig.evse.offered_current, rig.evse.power_w > 0) == (32.0, True)
    rig.evse.unplug()  # StopTransactionOnEVSideDisconnect: true on WEMOB
    await settled()
    assert [r[0] for r in rig.reported] == [S.preparing, S.suspended_ev, S.charging, S.available]
    assert rig.reported[-1] == (S.available, ChargePointErrorCode.no_error, "EV side disconnected")
    assert (rig.evse.offered_current, rig.evse.power_w) == (0.0, 0.0)

    delivering = asyncio.create_task(rig.queue.run())
    try:
        await until_delivered(rig.queue)
    finally:
        delivering.cancel()
    kinds = [type(p).__name__ for p in rig.csms.sent]
    assert kinds == ["Authorize", "StartTransaction", "StopTransaction"]
    assert rig.csms.sent[-1].transaction_id == 7 and rig.csms.sent[-1].reason == "EVDisconnected"


async def test_the_start_answer_reaches_the_running_transaction(rig: Rig) -> None:
    rig.evse.plug()
    await settled()
    await rig.connector.identification.present("TAG1")
    delivering = asyncio.create_task(rig.queue.run())
    try:
        for _ in range(100):
            running = rig.connector.transaction
            if running is not None and running.transaction_id == 7:
                break
            await asyncio.sleep(0.01)
    finally:
        delivering.cancel()
    assert rig.connector.transaction is not None and rig.connector.transaction.transaction_id == 7


async def test_offline_time_costs_no_attempt_and_a_callerror_does(rig: Rig) -> None:
    """§4.10: messages wait out the link; a CALLERROR is an attempt, retried after the interval."""
    assert rig.config.change("TransactionMessageRetryInterval", "0") == "Accepted"
    assert rig.config.change("AllowOfflineTxForUnknownId", "true") == "Accepted"
    rig.csms.online = False
    rig.evse.plug()
    await settled()
    assert await rig.connector.identification.present("TAG1") == "transaction started"  # §3.5.4: offline, unknown idTags may charge
    delivering = asyncio.create_task(rig.queue.run())
    try:
        await asyncio.sleep(0.05)
        assert len(rig.queue) == 1 and rig.csms.sent == []
        rig.csms.failures = 1
        rig.csms.go_online()
        await until_delivered(rig.queue)
    finally:
        delivering.cancel()
    assert [type(p).__name__ for p in rig.csms.sent] == ["StartTransaction"]


async def test_post_says_whether_a_message_left_and_logs_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    csms = ScriptedCsms(online=False)
    caplog.set_level(logging.INFO, "chargepoint.link.outbox")
    assert post(csms, call.Heartbeat(), "Heartbeat") is False
    csms.online, csms.failures = True, 1
    assert post(csms, call.Heartbeat(), "Heartbeat") is True
    await asyncio.sleep(0)
    assert "Heartbeat not sent: the CSMS is not reachable" in caplog.text
    assert "Heartbeat not delivered: InternalError from the CSMS" in caplog.text
