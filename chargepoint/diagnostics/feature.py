"""GetDiagnostics.req (§5.9) and the DiagnosticsStatusNotification.req that follow it (§4.4).

The answer names the file at once; packing and uploading follow in the background, and the
station keeps charging meanwhile. One upload runs at a time: a request during one is answered
without a file name, which §5.9 gives for "no diagnostics available", so the CSMS knows no
second file is coming. `retries` counts retries after the first attempt (errata 3.50).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import ClassVar

from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, DiagnosticsStatus

from chargepoint.diagnostics.archive import Contents, write_archive
from chargepoint.diagnostics.window import Window, moment
from chargepoint.infra.clock import Clock
from chargepoint.link.outbox import Delivery, Outbox
from chargepoint.transactions.lifecycle import Transactions
from chargepoint.transfer.files import upload
from chargepoint.transfer.options import TransferOptions
from chargepoint.transfer.retry import attempt
from chargepoint.transfer.urls import protocol_of, redact
from configkeys import Configuration, FeatureProfile

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 2  # "left to the Charge Point" when absent
DEFAULT_RETRY_INTERVAL = 60  # seconds
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class Diagnostics:
    profile: ClassVar[FeatureProfile] = FeatureProfile.FIRMWARE_MANAGEMENT

    def __init__(
        self,
        logs: Contents,
        transactions: Transactions,
        config: Configuration,
        outbox: Outbox,
        options: TransferOptions,
        clock: Clock,
        identity: str,
        scrub: Callable[[str], str],
        spool: Path,
    ) -> None:
        self._logs = logs
        self._transactions = transactions
        self._config = config
        self._options = options
        self._clock = clock
        self._identity = _UNSAFE.sub("_", identity)
        self._scrub = scrub
        self._spool = spool
        self._delivery = Delivery(outbox, "DiagnosticsStatusNotification")
        self._task: asyncio.Task[None] | None = None
        self.status = DiagnosticsStatus.idle

    @on(Action.get_diagnostics, skip_schema_validation=True)
    def get_diagnostics(
        self,
        location: str,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
        stop_time: str | None = None,
    ) -> call_result.GetDiagnostics:
        if self._task is not None and not self._task.done():
            log.warning("GetDiagnostics to %s not taken: an upload is under way", redact(location))
            return call_result.GetDiagnostics()
        name = f"diagnostics-{self._identity}-{self._clock.now():%Y%m%dT%H%M%SZ}.tar.gz"
        tries = 1 + max(0, int(retries)) if retries is not None else 1 + DEFAULT_RETRIES
        interval = max(0, int(retry_interval)) if retry_interval is not None else DEFAULT_RETRY_INTERVAL
        window = Window(moment(start_time), moment(stop_time))
        self._task = asyncio.get_running_loop().create_task(self._send(location, name, window, tries, interval))
        return call_result.GetDiagnostics(file_name=name)

    def summary(self) -> dict[str, str]:
        return {"status": self.status.value}

    @property
    def file_identity(self) -> str:
        """The station's identity as it may appear in a file name."""
        return self._identity

    async def pack(self, archive: Path, window: Window) -> None:
        """The diagnostics file of `window`, for GetDiagnostics and for GetLog DiagnosticsLog."""
        await asyncio.to_thread(write_archive, archive, self._contents(window), window, self._scrub)

    async def _send(self, location: str, name: str, window: Window, tries: int, interval: int) -> None:
        archive = self._spool / name
        try:
            self._spool.mkdir(mode=0o700, exist_ok=True)
            await self.pack(archive, window)
            self._report(DiagnosticsStatus.uploading)
            cause = await self._upload(location, archive, name, tries, interval)
        except OSError as exc:
            cause = f"cannot write {name}: {exc.strerror or exc}"
        finally:
            archive.unlink(missing_ok=True)
        if cause is None:
            log.info("diagnostics %s uploaded to %s", name, redact(location))
        else:
            log.error("diagnostics upload to %s failed: %s", redact(location), cause)
        self._report(DiagnosticsStatus.uploaded if cause is None else DiagnosticsStatus.upload_failed)
        self.status = DiagnosticsStatus.idle

    async def _upload(self, location: str, archive: Path, name: str, tries: int, interval: int) -> str | None:
        if protocol_of(location) not in self._config.csl("SupportedFileTransferProtocols"):
            return "the location's scheme is not one of SupportedFileTransferProtocols"
        what = f"diagnostics upload to {redact(location)}"
        return await attempt(lambda: upload(location, archive, name, self._options), tries, interval, what)

    def _contents(self, window: Window) -> Contents:
        reports, _ = self._config.get()
        transactions = [
            row for row in self._transactions.history()
            if (begin := moment(row["started_at"])) is not None and window.overlaps(begin, moment(row["stopped_at"]))
        ]
        tables = {"configuration": [asdict(report) for report in reports], "transactions": transactions}
        return replace(self._logs, tables=tables)

    def _report(self, status: DiagnosticsStatus) -> None:
        self.status = status
        self._delivery.send(call.DiagnosticsStatusNotification(status=status))
