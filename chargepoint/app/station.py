"""The composition root: the only place that knows every part, and it only wires them.

A Station is a library object: several can run in one event loop (the tests run two against
one CSMS). Process concerns (logging, signals, sd_notify, re-executing on a soft reset) belong
to the `run` command in `cli`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ocpp.v16 import call
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus, MessageTrigger, ResetType

from chargepoint.app.configuration import client_certificate_files, link_config, open_configuration
from chargepoint.app.features import FEATURES, WHITEPAPER, Feature
from chargepoint.app.file_jobs import diagnostics, firmware_updates, transfer_options
from chargepoint.app.hardware import meter_for, reading_figures, simulated_emergency_stop, simulated_evse
from chargepoint.app.settings import Settings
from chargepoint.app.signed_values import meter_signer
from chargepoint.app.vendor_parts import vehicle_ids, vendor_parts
from chargepoint.authorization.authorizer import AuthorizationMode, Authorizer
from chargepoint.authorization.cache import AuthorizationCache
from chargepoint.authorization.id_tags import IdTagStore
from chargepoint.authorization.local_list import LocalListManagement
from chargepoint.connector.connector import Connector
from chargepoint.connector.connectors import Connectors
from chargepoint.connector.state import ConnectorState
from chargepoint.connector.station_wide import StationWide
from chargepoint.control.commands import BenchCommands
from chargepoint.control.server import ControlServer
from chargepoint.core.availability import Availability, AvailabilityTable
from chargepoint.core.configuration import ConfigurationService
from chargepoint.core.data_transfer import DataTransferRegistry
from chargepoint.core.remote import RemoteTransactions
from chargepoint.core.reset import ResetService
from chargepoint.core.status_notifications import StatusReporter
from chargepoint.core.unlock import Unlocking
from chargepoint.firmware.version import STATE_KEY, running_version
from chargepoint.infra.clock import Clock
from chargepoint.infra.database import Database
from chargepoint.infra.secrets import SecretScrubber
from chargepoint.infra.state import StateTable
from chargepoint.link.connection import Connection
from chargepoint.link.endpoint import merge_routes
from chargepoint.link.framelog import FrameLog
from chargepoint.link.observer import LinkObserver
from chargepoint.link.security import SecurityProfiles
from chargepoint.metering.aligned import ClockAlignedSampler
from chargepoint.metering.sampled import TransactionSampler
from chargepoint.metering.values import MeterValueBuilder
from chargepoint.metering.watch import MeterWatch
from chargepoint.remote_trigger.trigger import Triggers
from chargepoint.reservation.feature import Reservations
from chargepoint.reservation.store import ReservationStore
from chargepoint.security.bench import SecurityBench
from chargepoint.security.certificate_feature import CertificateManagement
from chargepoint.security.certificates import CertificateStore
from chargepoint.security.client_certificate import ClientCertificate
from chargepoint.security.csms_trust import CentralSystemTrust
from chargepoint.security.events import SecurityEvent
from chargepoint.security.extended_trigger import ExtendedTriggers
from chargepoint.security.get_log import LogUploads
from chargepoint.security.log import SecurityLog
from chargepoint.security.notifications import SecurityEvents, link_report
from chargepoint.security.signed_firmware import FirmwareSignatures, SignedFirmwareUpdates
from chargepoint.security.system import DiskWatch, watch_clock
from chargepoint.smart_charging.enforcement import LimitEnforcer
from chargepoint.smart_charging.feature import SmartCharging
from chargepoint.smart_charging.schedule import Limits
from chargepoint.smart_charging.store import ProfileStore
from chargepoint.transactions.answers import route_answers
from chargepoint.transactions.lifecycle import Transactions
from chargepoint.transactions.queue import TransactionQueue
from chargepoint.transactions.recovery import recover
from configkeys import boot_notification_fields

log = logging.getLogger(__name__)

class Station:
    def __init__(
        self, settings: Settings, scrubber: SecretScrubber | None = None, observer: LinkObserver | None = None,
        control_socket: bool = True, fsync: bool = True,
    ) -> None:
        """`observer` watches the link (a fleet's figures); a fleet's stations take their bench
        commands from `self.commands` in process, without a control socket each, and write
        without fsync (infra.database.Database, drivers.register)."""
        scrubber = scrubber or SecretScrubber()
        self._control_socket = control_socket
        self._fsync = fsync
        self.settings = settings
        self.db = Database(settings.database_path, fsync)
        self.config = open_configuration(settings, self.db)
        scrubber.add(self.config.value("AuthorizationKey"))
        self.config.subscribe("AuthorizationKey", scrubber.add)
        self.clock = Clock()
        self.frame_log = FrameLog(
            settings.frame_log_path, self.clock, scrubber, settings.frame_log_max_bytes, settings.frame_log_files
        )
        self.restart: asyncio.Future[ResetType] | None = None
        self._state = StateTable(self.db)
        model = settings.station_model
        self.firmware_version = running_version(settings.firmware_version_file, self._state.get(STATE_KEY), model.firmware_version)
        self._boot = call.BootNotification(
            **boot_notification_fields(model, settings.identity, firmware_version=self.firmware_version)
        )
        self._link_parts(settings, scrubber, observer)
        self.reporter = StatusReporter(self.link, self.config, self.clock)
        self.link.on_registered(self.reporter.registered)
        builder = self._charging(settings)
        self.resets = ResetService(self.connectors, self.queue, self._state, self._request_restart)
        self.data_transfer = DataTransferRegistry(settings.station_model.charge_point_vendor)
        self.vendor = vendor_parts(settings, self.config, self._state, self.connectors, self.clock, self.data_transfer)
        self._profile_features(scrubber)
        served = {*self.config.csl("SupportedFeatureProfiles"), WHITEPAPER}
        triggers = Triggers(self.link, self.config, self.reporter, self.connectors, builder, self._boot, self._job_status(served))
        self.link.serve(
            merge_routes(f for f in self._features(triggers, served) if f.profile in served), self.data_transfer.lenience
        )
        self.aligned = ClockAlignedSampler(self.config, self.clock, builder, self.transactions, self.link, self.connectors)
        bench = BenchCommands(
            self.link, self.queue, self.config, self.station_status, self.connectors, self._reports, self.vendor.panel,
            self.emergency_button,
        )
        # the control socket's, also what a fleet's drivers and a scenario run call
        self.commands = bench.handlers() | self.vendor.handlers | SecurityBench(self.security_events).handlers()
        self.control = ControlServer(settings.control_socket, self.commands)

    def _charging(self, settings: Settings) -> MeterValueBuilder:
        """Connector 0 and the connectors with what a session needs: authorization, the durable
        transaction queue, the meter values (signed where set)."""
        self._availability = AvailabilityTable(self.db)
        stored = self._availability.load()
        operative = stored.get(0) != "Inoperative"
        initial = ChargePointStatus.available if operative else ChargePointStatus.unavailable
        self.station_status = ConnectorState(0, initial, operative)
        self.reporter.watch(self.station_status)
        self._id_tags = IdTagStore(self.db)
        mode = AuthorizationMode(settings.authorization_mode)
        self.authorizer = Authorizer(
            self.link, self.config, self._id_tags, mode, settings.free_vend_id_tag, self._list_conflict, clock=self.clock
        )
        self.queue = TransactionQueue(self.db, self.link, self.config)
        self.transactions = Transactions(self.db, self.queue, self.config)
        signer = meter_signer(settings, vars(self._boot), self._state, self.clock)
        builder = MeterValueBuilder(self.config, self.clock, signer)
        self._vehicle_ids = vehicle_ids(settings, self.config)
        self._sampler = TransactionSampler(self.transactions, self.config, builder)
        self.connectors = self._connectors(self._sampler, stored)
        self.emergency_button = simulated_emergency_stop(self._state)
        self.station_wide = StationWide(self.station_status, self.connectors, self.emergency_button)
        route_answers(self.queue, self.transactions, self.authorizer, self.connectors)
        return builder

    def _link_parts(self, settings: Settings, scrubber: SecretScrubber, observer: LinkObserver | None) -> None:
        """The link, and the whitepaper's parts around it: the CSMS roots and the client
        certificate its TLS uses, and the security events it and the clock report."""
        link = link_config(settings)
        self.client_files = client_certificate_files(settings)
        self.certificates = CertificateStore(settings.certificate_dir)
        security = SecurityProfiles(  # each asked at connect
            self.config, link, self._state, lambda: self.client_files.in_use(self.clock.now()),
            lambda: self.client_certificate.refused(), lambda: self._csms_trust.pem(),
        )
        self.link = Connection(link, security, self.config, self.clock, self._boot, self.frame_log, observer)
        security.watch(self.link.renew)
        self.security_events = SecurityEvents(
            self.db, self.link, self.clock, SecurityLog(settings.data_dir / "security.log"), scrubber.scrub
        )
        security.report_to(self.security_events)
        self.link.report_to(link_report(self.security_events))
        watch_clock(self.clock, self.security_events)
        self._disk = DiskWatch(settings.data_dir, self.security_events)
        self._csms_trust = CentralSystemTrust(self.certificates, self.security_events, settings.tls_ca)
        self.link.on_registered(lambda _: self._csms_trust.registered())
        self.client_certificate = ClientCertificate(
            self.link, self.config, self.client_files, self._csms_trust.roots, self.security_events, self.clock,
            settings.identity, settings.client_key_type,
        )
        self.client_certificate.watch(self.link.renew)
        self.link.on_registered(self.client_certificate.registered)
        self.link.on_registered(self.security_events.registered)  # before the StatusNotifications

    def _profile_features(self, scrubber: SecretScrubber) -> None:
        """Smart Charging, Firmware Management and Reservation: the features with parts of their own."""
        settings = self.settings
        limits = Limits(settings.max_current_a, voltage=settings.nominal_voltage)
        profiles = ProfileStore(self.db)
        self.enforcer = LimitEnforcer(profiles, self.connectors, limits, self.clock)
        self.smart_charging = SmartCharging(profiles, self.connectors, self.config, limits, self.clock, self.enforcer)
        parts = (self.link, self.config, self.clock)
        self._signatures = FirmwareSignatures(self.certificates, self.clock, self.security_events)
        self.firmware = firmware_updates(
            settings, self.db, parts, self.station_status, self.connectors, self.firmware_version,
            lambda: self._request_restart(ResetType.hard), (self._signatures, self.security_events),
        )
        self.diagnostics = diagnostics(settings, parts, self.transactions, self.frame_log, scrubber.scrub)
        self.log_uploads = LogUploads(
            self.security_events.log, self.diagnostics, self.link, transfer_options(settings, settings.firmware_max_bytes),
            self.clock, settings.data_dir / "log-upload",
        )
        self.reservations = Reservations(ReservationStore(self.db), self.station_status, self.connectors, self.config, self.clock)

    def _connectors(self, sampler: TransactionSampler, availability: dict[int, str]) -> Connectors:
        connectors = []
        for number, spec in enumerate(self.settings.meter_specs, start=1):
            evse = simulated_evse(self.settings, number, self._state)
            driver = meter_for(self.settings, number, spec, evse, self._fsync)
            meter = MeterWatch(driver, reading_figures(self.settings, spec), name=f"connector {number} meter")
            connector = Connector(
                number, evse, meter, self.authorizer, self.transactions, sampler, self.config, self.clock,
                self.settings.max_current_a,
                shares_reader=self.settings.connector_count > 1,
                operative=availability.get(number) != "Inoperative",
                vehicle_ids=self._vehicle_ids,
            )
            self.reporter.watch(connector)
            connectors.append(connector)
        return Connectors(connectors)

    def _features(self, triggers: Triggers, served: set[str]) -> list[Feature]:
        """Every feature the station has; only those of served profiles get their actions. Each
        must be in `features.FEATURES`, where SupportedFeatureProfiles is derived from."""
        tx_profiles = self.smart_charging if self.smart_charging.profile in served else None
        features: list[Feature] = [
            ConfigurationService(self.config),
            RemoteTransactions(self.connectors, self.link, self.authorizer, self.config, tx_profiles),
            Availability(self.station_status, self.connectors, self._availability),
            Unlocking(self.connectors),
            self.resets,
            AuthorizationCache(self._id_tags, self.config),
            self.data_transfer,
            LocalListManagement(self._id_tags, self.config),
            triggers,
            self.smart_charging,
            self.firmware,
            self.diagnostics,
            self.reservations,
            CertificateManagement(self.certificates, self.config, self.clock, self.security_events),
            SignedFirmwareUpdates(self.firmware, self._signatures, self.security_events),
            self.client_certificate,
            ExtendedTriggers(
                self.link, triggers, self.client_certificate, lambda: self.firmware.status, self.log_uploads.status
            ),
            self.log_uploads,
        ]
        unlisted = sorted({type(f).__name__ for f in features} - {f.__name__ for f in FEATURES})
        if unlisted:
            raise ValueError(f"features missing from app.features.FEATURES: {', '.join(unlisted)}")
        return features

    def _job_status(self, served: set[str]) -> dict[MessageTrigger, Any]:
        """TriggerMessage asks the owner of each job (MicroOcpp's shape); none where unserved."""
        if self.firmware.profile not in served:
            return {}
        return {
            MessageTrigger.firmware_status_notification: lambda: call.FirmwareStatusNotification(self.firmware.status),
            MessageTrigger.diagnostics_status_notification: lambda: call.DiagnosticsStatusNotification(self.diagnostics.status),
        }

    def _reports(self) -> dict[str, Any]:
        """What `status` shows beyond the link and the connectors, each part in its own words."""
        return {
            "firmware": self.firmware.summary(),
            "diagnostics": self.diagnostics.summary(),
            "client_certificate": self.client_certificate.summary(),
            **self.reservations.summary(),
            **self.vendor.status(),
        }

    @property
    def status_text(self) -> str:
        """The STATUS line systemd shows."""
        return self.link.status_text

    def _list_conflict(self, info: str) -> None:
        """§3.5.4: a CSMS answer contradicting the local list is reported on connector 0."""
        self.station_status.notice(ChargePointErrorCode.local_list_conflict, info)

    def _request_restart(self, kind: ResetType) -> None:
        if self.restart is not None and not self.restart.done():
            self.security_events.raise_event(SecurityEvent.reset_or_reboot, f"{kind.value} reset")
            self.restart.set_result(kind)

    async def run(self) -> ResetType | None:
        """Serve until cancelled (None) or until a Reset asks for a restart (its type)."""
        self.restart = asyncio.get_running_loop().create_future()
        workers: list[asyncio.Task[Any]] = []
        try:
            await self.station_wide.start()
            recovered = recover(
                self.resets, self.transactions, self.connectors, self.config, self._reboots, self._sampler.interrupted
            )
            if recovered is not None:
                return ResetType.hard  # a Hard reset a crash cut short still reboots the board
            self.security_events.raise_event(
                SecurityEvent.startup_of_the_device, f"{self.settings.station_model.name} firmware {self.firmware_version}"
            )
            if self._control_socket:
                await self.control.start()
            settings = self.settings
            log.info(
                "station %s (%s %s, connectors: %d) starting; CSMS %s",
                settings.identity, settings.profile, settings.station_model.name, len(self.connectors), self.link.url,
            )
            loop = asyncio.get_running_loop()
            workers = [loop.create_task(c.meter.run()) for c in self.connectors]
            workers += [
                loop.create_task(w)
                for w in (
                    self.link.run(), self.queue.run(), self.aligned.run(), self.enforcer.run(), self.firmware.run(),
                    self.reservations.run(), self.db.watch(), self.security_events.run(),
                    self._disk.run(), self.client_certificate.run(),
                )
            ]
            workers += [loop.create_task(worker()) for worker in self.vendor.workers]
            await asyncio.wait([*workers, self.restart], return_when=asyncio.FIRST_COMPLETED)
            for worker in workers:
                if worker.done():
                    worker.result()  # workers never end on their own: surface the error
            return self.restart.result()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            for part in (self.station_status, *self.connectors):
                await part.end_work()
            await self.control.close()
            self.frame_log.close()
            self.security_events.log.close()
            with contextlib.suppress(Exception):
                self.db.close()

    @property
    def _reboots(self) -> bool:
        return self.settings.reboot_command is not None
