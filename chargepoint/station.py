"""The composition root: the only place that knows every part and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, Reason, ResetType
from websockets.asyncio.client import ClientConnection

from chargepoint.authorization import Authorizer
from chargepoint.bench import BenchCommands
from chargepoint.charging import Connector
from chargepoint.clock import Clock
from chargepoint.configuration import ConfigurationService
from chargepoint.data_transfer import DataTransfers
from chargepoint.connector import ConnectorStatus
from chargepoint.control import ControlServer
from chargepoint.framelog import FrameLog
from chargepoint.id_tags import IdTagStore
from chargepoint.metering import (
    MEASURAND_KEYS,
    ClockAlignedSampler,
    MeterValueBuilder,
    MeterWatch,
    TransactionSampler,
    capability_rule,
)
from chargepoint.protocol import Features, StationEndpoint
from chargepoint.redaction import SecretScrubber
from chargepoint.security import SecurityProfiles, security_profile_rule
from chargepoint.service_manager import ServiceManager
from chargepoint.session import LinkConfig, NotAccepted, Session
from chargepoint.settings import Settings
from chargepoint.status_reports import StatusReporter
from chargepoint.store import AvailabilityTable, Database, KeyTable, StateTable
from chargepoint.remote import RemoteControl
from chargepoint.reset import ResetService
from chargepoint.smart_charging import ChargingProfiles
from chargepoint.transaction_queue import START, TransactionQueue
from chargepoint.triggers import Triggers
from chargepoint.transactions import Transactions
from configkeys import Configuration, boot_notification_fields, catalogue_for, get_profile
from drivers.evse import PilotState
from drivers.meter import Meter
from drivers.meter_url import MeterSpec, SimSpec, figures_of, open_meter
from drivers.simulated import SimulatedEvse, SimulatedMeter

log = logging.getLogger(__name__)

MAX_CURRENT_A = 32.0


def open_configuration(settings: Settings, db: Database) -> Configuration:
    """The station's keys; also used by `chargepoint config` when no daemon is running."""
    profile = get_profile(settings.profile)
    model = profile.model(settings.model)
    initial = {"MessageTimeout": str(settings.response_timeout)}
    if settings.password:
        initial["AuthorizationKey"] = settings.password.get_secret_value()
    config = Configuration(catalogue_for(profile, model, settings.connector_count), KeyTable(db), initial=initial)
    config.add_validator("SecurityProfile", security_profile_rule(config, settings))
    rule = capability_rule(meter_figures(settings))
    for key in MEASURAND_KEYS:
        if config.has(key):
            config.add_validator(key, rule)
    return config


def meter_figures(settings: Settings) -> frozenset[str]:
    """What every configured meter can measure: a measurand key may name only those."""
    return frozenset.intersection(*(figures_of(spec) for spec in settings.meter_specs))


class Station:
    def __init__(self, settings: Settings, scrubber: SecretScrubber) -> None:
        self.settings = settings
        self.db = Database(settings.database_path)
        self.config = open_configuration(settings, self.db)
        scrubber.add(self.config.value("AuthorizationKey"))
        self.config.subscribe("AuthorizationKey", scrubber.add)
        self.clock = Clock()
        self.frame_log = FrameLog(settings.frame_log, self.clock, scrubber)
        self.restart: asyncio.Future[ResetType] | None = None
        self.service_manager = ServiceManager()
        model = settings.station_model
        self._boot_payload = call.BootNotification(**boot_notification_fields(model, settings.identity))
        state = StateTable(self.db)
        security = SecurityProfiles(self.config, settings, state)
        self.session = Session(
            LinkConfig(settings.csms_url, settings.identity, settings.reconnect_max_delay),
            security,
            self.config,
            self.clock,
            self._boot_payload,
            self._endpoint,
            self._registered,
        )
        security.watch(self.session.renew)
        self.reporter = StatusReporter(self.session, self.config, self.clock)
        availability = AvailabilityTable(self.db)
        stored = availability.load()
        self.station_status = self._status(0, stored)
        self.authorizer = Authorizer(
            self.session, self.config, IdTagStore(self.db), settings, self._list_conflict, clock=self.clock
        )
        self.queue = TransactionQueue(self.db, self.session, self.config)
        self.queue.on_answer(self._transaction_answer)
        self.transactions = Transactions(self.db, self.queue, self.config)
        builder = MeterValueBuilder(self.config, self.clock)
        sampler = TransactionSampler(self.transactions, self.config, builder)
        self.connectors: list[Connector] = []
        for number, spec in enumerate(settings.meter_specs, start=1):
            evse = self._simulated_evse(number, state)
            meter = MeterWatch(self._meter(spec, evse), figures_of(spec))
            status = self._status(number, stored, evse.pilot in (PilotState.B, PilotState.C))
            self.connectors.append(
                Connector(
                    status,
                    evse,
                    meter,
                    self.authorizer,
                    self.transactions,
                    sampler,
                    self.config,
                    self.clock,
                    MAX_CURRENT_A,
                    shares_reader=settings.connector_count > 1,
                    operative=status.status != ChargePointStatus.unavailable,
                )
            )
        self.resets = ResetService(self.connectors, self.queue, state, self._request_restart)
        self.features = Features(
            configuration=ConfigurationService(self.config),
            remote=RemoteControl(
                self.connectors,
                self.station_status,
                self.session,
                self.authorizer,
                self.config,
                ChargingProfiles(),
                availability,
            ),
            reset=self.resets,
            authorization=self.authorizer,
            data_transfer=DataTransfers(model.charge_point_vendor),
            triggers=Triggers(
                self.session, self.config, self.reporter, self.connectors, builder, self._boot_payload
            ),
        )
        self.aligned = ClockAlignedSampler(
            self.config,
            self.clock,
            builder,
            self.transactions,
            self._send_meter_values,
            lambda: [(c.id, c.meter, lambda c=c: c.transaction) for c in self.connectors],
        )
        bench = BenchCommands(self.session, self.queue, self.config, self.station_status, self.connectors)
        self.control = ControlServer(settings.control_socket, bench.handlers())

    @staticmethod
    def _meter(spec: MeterSpec, evse: SimulatedEvse) -> Meter:
        if isinstance(spec, SimSpec):
            return SimulatedMeter(lambda: evse.power_w)
        return open_meter(spec)

    def _simulated_evse(self, number: int, state: StateTable) -> SimulatedEvse:
        """The bench's EV and cable, where they were when the station stopped."""
        name = f"simulated-pilot-{number}"
        evse = SimulatedEvse(
            self.settings.ev_power_w,
            tethered=not self.settings.station_model.has_lock,
            pilot=PilotState(state.get(name) or PilotState.A),
        )
        evse.on_pilot_change(lambda pilot: state.set(name, pilot.value))
        return evse

    def _status(self, number: int, availability: dict[int, str], plugged: bool = False) -> ConnectorStatus:
        if availability.get(number) == "Inoperative":
            initial = ChargePointStatus.unavailable
        else:
            initial = ChargePointStatus.preparing if plugged else ChargePointStatus.available
        self.reporter.start_at(number, initial)
        return ConnectorStatus(number, initial, self.reporter)

    def _endpoint(self, connection: ClientConnection, answering: Callable[[], bool], timeout: int) -> StationEndpoint:
        return StationEndpoint(self.settings.identity, connection, timeout, self.frame_log, answering, self.features)

    async def _registered(self, first_time: bool) -> None:
        if first_time:
            self.reporter.report_all()
        else:
            self.reporter.report_changed()

    def _service_status(self) -> str:
        """The STATUS line systemd shows: link state as the Wallbox app names it, and registration."""
        registration = self.session.registration.value if self.session.registration else "not registered"
        return f"link {self.session.link_state.value}, {registration}"

    def _list_conflict(self, info: str) -> None:
        """§3.5.4: a CSMS answer contradicting the local list is reported on connector 0."""
        self.connectors[0].spawn(self.station_status.warn(ChargePointErrorCode.local_list_conflict, info))

    def _transaction_answer(self, action: str, local_id: int, answer: Any) -> None:
        """Start and Stop answers feed the cache (§3.5.1); a Start answer also reaches its connector."""
        id_tag_info = getattr(answer, "id_tag_info", None)
        id_tag = self.transactions.id_tag_of(local_id)
        if id_tag_info and id_tag is not None:
            self.authorizer.record(id_tag, id_tag_info)
        if action != START:
            return
        for connector in self.connectors:
            running = connector.transaction
            if running is not None and running.local_id == local_id:
                running.transaction_id = answer.transaction_id  # at once: a RemoteStop may follow
                connector.spawn(connector.start_answered(local_id, answer.transaction_id, answer.id_tag_info))

    def _send_meter_values(self, connector_id: int, meter_value: dict[str, Any]) -> None:
        """Values outside a transaction are not queued: stale ones would mislead more than help."""
        try:
            answer = self.session.enqueue(call.MeterValues(connector_id=connector_id, meter_value=[meter_value]))
        except NotAccepted:
            log.info("connector %d: clock-aligned MeterValues dropped while offline", connector_id)
            return
        answer.add_done_callback(lambda done: _log_failure(done, f"connector {connector_id}: clock-aligned MeterValues"))

    def _request_restart(self, kind: ResetType) -> None:
        if self.restart is not None and not self.restart.done():
            if kind == ResetType.soft:
                self.service_manager.restarting_in_place()
            self.restart.set_result(kind)

    def _recover_after_power_loss(self) -> None:
        """Transactions a crash left open end with their last stored reading, as PowerLoss, or
        as the reset a crash cut short (a Hard one with a reboot command still reboots); each
        connector then picks up where its cable is (WEMOB §4.4.5 AllowChargeAfterBrownOut)."""
        reset = self.resets.interrupted()
        reason = {None: Reason.power_loss, ResetType.soft: Reason.soft_reset, ResetType.hard: Reason.hard_reset}[reset]
        resumed: dict[int, str] = {}
        for transaction in self.transactions.interrupted():
            log.warning(
                "connector %d: transaction (local %d) was interrupted; stopping it as %s",
                transaction.connector,
                transaction.local_id,
                reason.value,
            )
            self.transactions.close_interrupted(transaction, reason)
            resumed[transaction.connector] = transaction.id_tag
        self.resets.completed()
        if reset == ResetType.hard and self.settings.reboot_command is not None:
            self._request_restart(ResetType.hard)
            return
        brown_out = self.config.has("AllowChargeAfterBrownOut") and self.config.boolean("AllowChargeAfterBrownOut")
        for connector in self.connectors:
            connector.spawn(connector.after_restart(resumed.get(connector.id) if brown_out else None))

    async def run(self) -> ResetType | None:
        """Serve until cancelled (None) or until a Reset asks for a restart (its type)."""
        self.restart = asyncio.get_running_loop().create_future()
        self._recover_after_power_loss()
        await self.control.start()
        log.info(
            "station %s (%s %s, connectors: %d) starting; CSMS %s",
            self.settings.identity,
            self.settings.profile,
            self.settings.station_model.name,
            len(self.connectors),
            self.session.url,
        )
        loop = asyncio.get_running_loop()
        workers = [loop.create_task(c.meter.run()) for c in self.connectors]
        workers += [loop.create_task(w) for w in (self.session.run(), self.queue.run(), self.aligned.run())]
        workers.append(loop.create_task(self.service_manager.run(self._service_status)))
        try:
            await asyncio.wait([*workers, self.restart], return_when=asyncio.FIRST_COMPLETED)
            for worker in workers:
                if worker.done():
                    worker.result()  # workers never end on their own: surface the error
            return self.restart.result()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await self.control.close()
            self.frame_log.close()
            with contextlib.suppress(Exception):
                self.db.close()


def _log_failure(done: asyncio.Future[Any], what: str) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("%s not delivered: %s", what, done.exception())
