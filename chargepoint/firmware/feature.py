"""UpdateFirmware.req (§5.19) and the FirmwareStatusNotification.req that follow it (§4.5);
the whitepaper's SignedUpdateFirmware (security/signed_firmware.py) hands its updates to the
same process, and their progress goes out as SignedFirmwareStatusNotification with requestId.

The conf has no status, so every well-formed request is taken. A new one replaces an update
still waiting, downloading or waiting for the transactions to end (the latest instruction
wins), but not one being installed: an install cannot be taken back halfway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from ocpp.exceptions import TypeConstraintViolationError
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, FirmwareStatus

from chargepoint.firmware.process import UpdateContext, UpdateProcess
from chargepoint.firmware.store import Phase, Signed, Update
from chargepoint.link.outbox import Delivery, Outbox
from chargepoint.security.events import SecurityEvent, SecurityEventSink
from chargepoint.transfer.urls import protocol_of, redact
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)

DEFAULT_TRIES = 3  # "left to the Charge Point" when retries is absent
DEFAULT_RETRY_INTERVAL = 60  # seconds
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# What a TriggerMessage hears in each phase; Idle when nothing is under way (§4.5, errata).
_REPORTED = {
    Phase.DOWNLOADING: FirmwareStatus.downloading,
    Phase.DOWNLOADED: FirmwareStatus.downloaded,
    Phase.INSTALLING: FirmwareStatus.installing,
    Phase.RESTARTING: FirmwareStatus.installing,
}


class Taken(Enum):
    """What became of a new update (SignedUpdateFirmware.conf tells the CSMS)."""

    STARTED = "started"
    REPLACED = "replaced"  # an update under way was cancelled for it (L01.FR.26)
    REFUSED = "refused"  # one is being installed (L01.FR.27)


class FirmwareUpdates:
    profile: ClassVar[FeatureProfile] = FeatureProfile.FIRMWARE_MANAGEMENT

    def __init__(
        self, context: UpdateContext, outbox: Outbox, config: Configuration, running: str, events: SecurityEventSink
    ) -> None:
        self._context = context
        self._config = config
        self._running = running
        self._events = events
        self._delivery = Delivery(outbox, "FirmwareStatusNotification")
        self._process: UpdateProcess | None = None
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        for connector in context.connectors:
            connector.on_status(lambda *_: self._idle.set())

    @on(Action.update_firmware, skip_schema_validation=True)
    async def update_firmware(
        self, location: str, retrieve_date: str, retries: int | None = None, retry_interval: int | None = None
    ) -> call_result.UpdateFirmware:
        await self.begin(new_update(location, retrieve_date, retries, retry_interval), "UpdateFirmware")
        return call_result.UpdateFirmware()

    async def begin(self, update: Update, what: str) -> Taken:
        """Carry `update` out in place of any update still under way, unless one is installing."""
        current = self._process.update if self._process is not None else None
        if current is not None and current.phase in (Phase.INSTALLING, Phase.RESTARTING):
            log.warning("%s from %s ignored: firmware %s is being installed", what, redact(update.location), current.version)
            return Taken.REFUSED
        under_way = current is not None and current.phase is not Phase.DONE
        await self._stop_current()
        log.info("%s: %s from %s after %s", what, update.image, redact(update.location), update.retrieve_at.isoformat())
        self._start(self._context.store.replace(update))
        return Taken.REPLACED if under_way else Taken.STARTED

    @property
    def status(self) -> FirmwareStatus:
        update = self._process.update if self._process is not None else None
        return _REPORTED.get(update.phase, FirmwareStatus.idle) if update is not None else FirmwareStatus.idle

    def summary(self) -> dict[str, str | None]:
        """For `chargepoint status`: what runs, and what is on its way."""
        update = self._process.update if self._process is not None else None
        return {
            "version": self._running,
            "status": self.status.value,
            "image": update.image if update else None,
            "image_version": update.version if update else None,
        }

    async def run(self) -> None:
        """Take up the stored update where the last run left it, then serve until cancelled."""
        stored = self._context.store.load()
        try:
            if stored is not None:
                self._resume(stored)
            await asyncio.Event().wait()
        finally:
            await self._stop_current()

    def _resume(self, update: Update) -> None:
        if update.phase in (Phase.INSTALLING, Phase.RESTARTING):
            outcome = FirmwareStatus.installed if update.version == self._running else FirmwareStatus.installation_failed
            log.warning("firmware %s: %s after the restart (running %s)", update.version, outcome.value, self._running)
            UpdateProcess(self._context, self, update, self._idle).finish(outcome)
            return
        if update.phase is Phase.DONE:
            self.finished(update)
            return
        if update.phase is Phase.DOWNLOADING:
            update = _forgive_interrupted_attempt(update)
        self._start(update)

    def _start(self, update: Update) -> None:
        if protocol_of(update.location) not in self._config.csl("SupportedFileTransferProtocols"):
            log.error("firmware location %s: not one of SupportedFileTransferProtocols", redact(update.location))
            UpdateProcess(self._context, self, update, self._idle).finish(FirmwareStatus.download_failed)
            return
        self._process = UpdateProcess(self._context, self, update, self._idle)
        self._task = asyncio.get_running_loop().create_task(self._carry(self._process))

    async def _carry(self, process: UpdateProcess) -> None:
        try:
            await process.run()
        except Exception:
            log.exception("firmware update failed")
            process.finish(FirmwareStatus.installation_failed if process.update.version else FirmwareStatus.download_failed)
            await self._context.hold(False)
        if process.update.phase is Phase.DONE and self._process is process:
            self._process = None

    async def _stop_current(self) -> None:
        task, process = self._task, self._process
        self._task = self._process = None
        if task is None or process is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        (self._context.directory / process.update.image).unlink(missing_ok=True)
        await self._context.hold(False)

    def report(self, update: Update, status: FirmwareStatus) -> None:
        self._delivery.send(notification(update, status))

    def finished(self, update: Update) -> None:
        """An outcome the CSMS has not had yet: its row goes once the CSMS has it. A signed
        image installed is a FirmwareUpdated event then, with the CSMS there to hear it."""
        assert update.outcome is not None

        def delivered() -> None:
            self._context.store.forget(update)
            if update.signed is not None and update.outcome == FirmwareStatus.installed:
                self._events.raise_event(SecurityEvent.firmware_updated, f"firmware {update.version} installed")

        self._delivery.send(notification(update, FirmwareStatus(update.outcome)), delivered=delivered)

    async def flush(self, timeout: float) -> None:
        await self._delivery.flush(timeout)


def notification(update: Update, status: FirmwareStatus) -> Any:
    """L01.FR.01, FR.10: a signed update's every status goes with its requestId."""
    if update.signed is not None:
        return call.SignedFirmwareStatusNotification(status=status, request_id=update.signed.request_id)
    return call.FirmwareStatusNotification(status=status)


def new_update(
    location: str, retrieve_date: str, retries: int | None, retry_interval: int | None, signed: Signed | None = None
) -> Update:
    return Update(
        location=location,
        retrieve_at=moment(retrieve_date),
        tries=max(1, int(retries)) if retries is not None else DEFAULT_TRIES,
        retry_interval=max(0, int(retry_interval)) if retry_interval is not None else DEFAULT_RETRY_INTERVAL,
        image=image_name(location),
        signed=signed,
    )


def _forgive_interrupted_attempt(update: Update) -> Update:
    """A power cut is not the server's failure: the attempt it cut short is made again."""
    return replace(update, attempts=max(0, update.attempts - 1))


def image_name(location: str) -> str:
    """The file the image is kept in: the URL's last path segment, made safe for a file name
    (its X.Y.Z names the version when the image carries no other)."""
    name = _UNSAFE.sub("_", PurePosixPath(unquote(urlsplit(location).path)).name)
    return name.strip("._") or "firmware.bin"


def moment(text: str, field: str = "retrieveDate") -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TypeConstraintViolationError(description=f"{field}: {text!r} is not a dateTime") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
