"""The Firmware Management features built from the settings: where files go, how large they
may be, whom https servers must prove themselves to, and how an image is installed."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable

from chargepoint.app.settings import Settings
from chargepoint.connector.connectors import Connectors
from chargepoint.connector.state import ConnectorState
from chargepoint.diagnostics.archive import Contents
from chargepoint.diagnostics.feature import Diagnostics
from chargepoint.firmware.feature import FirmwareUpdates
from chargepoint.firmware.install import CommandInstall, Installer, SimulatedInstall
from chargepoint.firmware.process import UpdateContext, Verifier
from chargepoint.firmware.store import UpdateStore
from chargepoint.infra.clock import Clock
from chargepoint.infra.database import Database
from chargepoint.link.framelog import FrameLog, rotated
from chargepoint.link.outbox import Outbox
from chargepoint.security.events import SecurityEventSink
from chargepoint.transactions.lifecycle import Transactions
from chargepoint.transfer.options import TransferOptions
from configkeys import Configuration

DISK_RESERVE = 16 * 1024 * 1024  # bytes a download leaves free, for the database and the logs


def transfer_options(settings: Settings, max_bytes: int) -> TransferOptions:
    """https servers are checked against the system's CAs and the CSMS's own (tls_ca), so an
    image on the operator's private server verifies as the CSMS does."""
    @functools.cache
    def trust() -> ssl.SSLContext:
        context = ssl.create_default_context()
        if settings.tls_ca is not None:
            context.load_verify_locations(cafile=settings.tls_ca)
        return context

    return TransferOptions(max_bytes, settings.file_transfer_timeout, trust, DISK_RESERVE)


def installer(settings: Settings) -> Installer:
    if settings.firmware_install_command is None:
        return SimulatedInstall()
    return CommandInstall(settings.firmware_install_command, settings.firmware_install_timeout)


def firmware_updates(
    settings: Settings,
    db: Database,
    parts: tuple[Outbox, Configuration, Clock],
    station: ConnectorState,
    connectors: Connectors,
    running: str,
    restart: Callable[[], None],
    security: tuple[Verifier, SecurityEventSink],
) -> FirmwareUpdates:
    outbox, config, clock = parts
    context = UpdateContext(
        UpdateStore(db),
        settings.data_dir / "firmware",
        transfer_options(settings, settings.firmware_max_bytes),
        installer(settings),
        clock,
        station,
        connectors,
        restart,
        security[0],
    )
    return FirmwareUpdates(context, outbox, config, running, security[1])


def diagnostics(
    settings: Settings,
    parts: tuple[Outbox, Configuration, Clock],
    transactions: Transactions,
    frame_log: FrameLog,
    scrub: Callable[[str], str],
) -> Diagnostics:
    outbox, config, clock = parts
    logs = Contents((rotated(settings.station_log), settings.station_log), frame_log.files)
    return Diagnostics(
        logs, transactions, config, outbox, transfer_options(settings, settings.firmware_max_bytes),
        clock, settings.identity, scrub, settings.data_dir / "diagnostics",
    )
