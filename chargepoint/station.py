"""The composition root: the only place that knows every part and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from typing import Any

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointStatus
from websockets.asyncio.client import ClientConnection

from chargepoint.authorization import Authorizer
from chargepoint.bench import BenchCommands
from chargepoint.charging import Connector
from chargepoint.clock import Clock
from chargepoint.configuration import ConfigurationService
from chargepoint.connector import ConnectorStatus
from chargepoint.control import ControlServer
from chargepoint.framelog import FrameLog
from chargepoint.metering import MeterWatch, TransactionSampler
from chargepoint.protocol import Features, StationEndpoint
from chargepoint.redaction import SecretScrubber
from chargepoint.security import security_profile_rule
from chargepoint.session import LinkConfig, Session
from chargepoint.settings import Settings
from chargepoint.status_reports import StatusReporter
from chargepoint.store import AvailabilityTable, Database, KeyTable, TransactionTable
from chargepoint.transactions import Transactions
from configkeys import Configuration, boot_notification_fields, catalogue_for, get_profile
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
    return config


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The CSMS's CA and our client certificate, when the installation provides them."""
    if settings.tls_ca is None and settings.tls_cert is None:
        return None
    context = ssl.create_default_context(cafile=settings.tls_ca)
    if settings.tls_cert is not None:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


class Station:
    def __init__(self, settings: Settings, scrubber: SecretScrubber) -> None:
        self.settings = settings
        self.db = Database(settings.database_path)
        self.config = open_configuration(settings, self.db)
        scrubber.add(self.config.value("AuthorizationKey"))
        self.config.subscribe("AuthorizationKey", scrubber.add)
        self.clock = Clock()
        self.frame_log = FrameLog(settings.frame_log, self.clock, scrubber)
        model = settings.station_model
        features = Features(configuration=ConfigurationService(self.config))
        self.session = Session(
            LinkConfig(
                settings.csms_url,
                settings.identity,
                settings.reconnect_max_delay,
                tls_context(settings),
            ),
            self.config,
            self.clock,
            call.BootNotification(**boot_notification_fields(model, settings.identity)),
            lambda connection, answering, timeout: self._endpoint(connection, answering, timeout, features),
            self._registered,
        )
        self.reporter = StatusReporter(self.session, self.config, self.clock)
        availability = AvailabilityTable(self.db).load()
        self.station_status = self._status(0, availability)
        authorizer = Authorizer(self.session)
        transactions = Transactions(self.session, TransactionTable(self.db), self.clock)
        sampler = TransactionSampler(self.session, self.config, self.clock)
        self.connectors: list[Connector] = []
        for number in range(1, settings.connector_count + 1):
            evse = SimulatedEvse(settings.ev_power_w, tethered=not model.has_lock)
            meter = MeterWatch(SimulatedMeter(lambda evse=evse: evse.power_w))
            self.connectors.append(
                Connector(
                    self._status(number, availability), evse, meter, authorizer, transactions, sampler, MAX_CURRENT_A
                )
            )
        bench = BenchCommands(self.session, self.config, self.station_status, self.connectors)
        self.control = ControlServer(settings.control_socket, bench.handlers())

    def _status(self, number: int, availability: dict[int, str]) -> ConnectorStatus:
        inoperative = availability.get(number) == "Inoperative"
        initial = ChargePointStatus.unavailable if inoperative else ChargePointStatus.available
        self.reporter.start_at(number, initial)
        return ConnectorStatus(number, initial, self.reporter)

    def _endpoint(
        self, connection: ClientConnection, answering: Any, timeout: int, features: Features
    ) -> StationEndpoint:
        return StationEndpoint(self.settings.identity, connection, timeout, self.frame_log, answering, features)

    async def _registered(self, first_time: bool) -> None:
        if first_time:
            self.reporter.report_all()
        else:
            self.reporter.report_changed()

    async def run(self) -> None:
        """Serve until cancelled; every background task ends with the station."""
        await self.control.start()
        log.info(
            "station %s (%s %s, connectors: %d) starting; CSMS %s",
            self.settings.identity,
            self.settings.profile,
            self.settings.station_model.name,
            len(self.connectors),
            self.session.url,
        )
        try:
            async with asyncio.TaskGroup() as tasks:
                for connector in self.connectors:
                    tasks.create_task(connector.meter.run())
                tasks.create_task(self.session.run())
        finally:
            await self.control.close()
            self.frame_log.close()
            with contextlib.suppress(Exception):
                self.db.close()
