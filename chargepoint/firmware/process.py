"""One firmware update carried through its phases, from wherever a restart left it.

Every phase is stored before it is reported, and the version a bench install puts in place
is stored together with the Restarting phase, so after a power cut the station knows whether
the new image is running (Installed) or the old one still is (InstallationFailed).

A signed update (whitepaper L01) adds its own steps: DownloadScheduled while it waits for
retrieveDateTime (L01.FR.13), the signature checked before every install attempt, a restart
included (SignatureVerified, or a failure end state), and InstallScheduled until
installDateTime (L01.FR.16).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from ocpp.v16.enums import FirmwareStatus

from chargepoint.connector.connector import Connector
from chargepoint.connector.state import ConnectorState
from chargepoint.firmware.install import InstallFailed, Installer
from chargepoint.firmware.store import Phase, Update, UpdateStore
from chargepoint.firmware.version import STATE_KEY, image_version, sha256_of
from chargepoint.infra.clock import Clock
from chargepoint.transfer.files import download
from chargepoint.transfer.options import TransferOptions
from chargepoint.transfer.retry import attempt
from chargepoint.transfer.urls import redact

log = logging.getLogger(__name__)

CLOCK_RECHECK = 60.0  # s: the CSMS may correct the clock while an update waits for retrieveDate
FLUSH_BEFORE_RESTART = 5.0  # s the Installing notification gets to leave before the restart


class Verifier(Protocol):
    """Judges a signed update's image (the security package, which holds the trusted roots)."""

    async def verify(self, update: Update, image: Path) -> FirmwareStatus:
        """SignatureVerified, or the failure end state to report."""
        ...


@dataclass(frozen=True)
class UpdateContext:
    """What an update needs from the station, handed over by the feature."""

    store: UpdateStore
    directory: Path
    options: TransferOptions
    installer: Installer
    clock: Clock
    station: ConnectorState  # connector 0: held with the others while an install waits or runs
    connectors: Sequence[Connector]
    restart: Callable[[], None]
    verifier: Verifier | None = None  # without one, a signed update is never installed

    async def hold(self, held: bool) -> None:
        for connector in (self.station, *self.connectors):
            await connector.hold_for_update(held)


class Reporter(Protocol):
    """Where the progress goes (the feature, which owns FirmwareStatusNotification)."""

    def report(self, update: Update, status: FirmwareStatus) -> None: ...

    def finished(self, update: Update) -> None:
        """`update` is Done; its outcome must reach the CSMS, even after a restart."""
        ...

    async def flush(self, timeout: float) -> None: ...


class UpdateProcess:
    def __init__(self, context: UpdateContext, reporter: Reporter, update: Update, idle: asyncio.Event) -> None:
        self._context = context
        self._reporter = reporter
        self.update = update
        self._idle = idle  # set when a connector's status changed: a transaction may have ended

    @property
    def image(self) -> Path:
        return self._context.directory / self.update.image

    def _move(self, update: Update) -> None:
        self.update = update
        self._context.store.save(update)

    async def run(self) -> None:
        if self.update.phase in (Phase.SCHEDULED, Phase.DOWNLOADING):
            await self._wait_for_retrieve_date()
            if not await self._download():
                return
        await self._install()

    async def _wait_for_retrieve_date(self) -> None:
        if self.update.signed and self.update.phase is Phase.SCHEDULED and self.update.retrieve_at > self._context.clock.now():
            self._reporter.report(self.update, FirmwareStatus.download_scheduled)
        await self._wait_until(self.update.retrieve_at)

    async def _wait_until(self, moment: datetime) -> None:
        while (delay := (moment - self._context.clock.now()).total_seconds()) > 0:
            await asyncio.sleep(min(delay, CLOCK_RECHECK))

    async def _download(self) -> bool:
        context = self._context
        self._move(replace(self.update, phase=Phase.DOWNLOADING))
        self._reporter.report(self.update, FirmwareStatus.downloading)
        context.directory.mkdir(mode=0o700, exist_ok=True)
        where = redact(self.update.location)
        cause = await attempt(
            lambda: download(self.update.location, self.image, context.options),
            self.update.tries,
            self.update.retry_interval,
            f"firmware download from {where}",
            done=self.update.attempts,
            counted=lambda number: self._move(replace(self.update, attempts=number)),
        )
        if cause is not None:
            log.error("firmware download from %s failed: %s", where, cause)
            self.finish(FirmwareStatus.download_failed)
            return False
        version = image_version(self.update.image, await asyncio.to_thread(sha256_of, self.image))
        self._move(replace(self.update, phase=Phase.DOWNLOADED, version=version))
        log.info("firmware %s downloaded (%d bytes)", version, self.image.stat().st_size)
        self._reporter.report(self.update, FirmwareStatus.downloaded)
        return True

    async def _install(self) -> None:
        context = self._context
        if not await self._verified():
            return
        await self._wait_for_install_date()
        await context.hold(True)
        await self._wait_until_idle()
        self._move(replace(self.update, phase=Phase.INSTALLING))
        self._reporter.report(self.update, FirmwareStatus.installing)
        try:
            await context.installer.install(self.image)
        except InstallFailed as exc:
            log.error("firmware %s not installed: %s", self.update.version, exc)
            self.finish(FirmwareStatus.installation_failed)
            await context.hold(False)
            return
        self.update = replace(self.update, phase=Phase.RESTARTING)
        bench_version = self.update.version if context.installer.simulated else None
        context.store.save(self.update, STATE_KEY if bench_version else None, bench_version)
        log.warning("firmware %s installed; restarting into it", self.update.version)
        await self._reporter.flush(FLUSH_BEFORE_RESTART)
        context.restart()

    async def _verified(self) -> bool:
        """L01.FR.04, FR.12: a signed image is installed only once its signature verifies."""
        if self.update.signed is None:
            return True
        verifier = self._context.verifier
        verdict = FirmwareStatus.install_verification_failed if verifier is None else await verifier.verify(self.update, self.image)
        if verdict is not FirmwareStatus.signature_verified:
            log.error("firmware %s not installed: %s", self.update.version, verdict.value)
            self.finish(verdict)
            return False
        self._reporter.report(self.update, verdict)
        return True

    async def _wait_for_install_date(self) -> None:
        signed = self.update.signed
        if signed is None or signed.install_at is None:
            return
        moment = datetime.fromisoformat(signed.install_at)
        if moment > self._context.clock.now():
            self._reporter.report(self.update, FirmwareStatus.install_scheduled)
            await self._wait_until(moment)

    async def _wait_until_idle(self) -> None:
        """§5.19 (errata 3.49): a running session is not cut short; the install waits for it."""
        while busy := [c.id for c in self._context.connectors if c.transaction is not None]:
            log.info("firmware %s waits for the transactions on connectors %s", self.update.version, busy)
            self._idle.clear()
            await self._idle.wait()

    def finish(self, outcome: FirmwareStatus) -> None:
        """Stored, then reported; the row goes once the CSMS has the outcome (the feature)."""
        self._move(replace(self.update, phase=Phase.DONE, outcome=outcome.value))
        self.image.unlink(missing_ok=True)
        self._reporter.finished(self.update)
