"""GetLog.req and the LogStatusNotification.req that follow it (whitepaper N01, §5.9-5.14).

The SecurityLog is the security log's lines between oldestTimestamp and latestTimestamp, gzipped;
the DiagnosticsLog is the very file GetDiagnostics uploads, for the same window. Both travel by
the station's file transfer (HTTP(S) PUT or POST, FTP) with the request's retries and
retryInterval, counted as GetDiagnostics counts them (errata 3.50: retries after the first).

One upload at a time: a GetLog during one cancels it and is answered AcceptedCanceled
(N01.FR.11); the cancelled one reports nothing more. A remoteLocation that is no URL is Rejected;
one whose scheme the station cannot upload to is Accepted and ends NotSupportedOperation, as the
brief of N01.FR.10 ("as precise as possible") asks of a failure found once under way.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, Log, LogStatus, UploadLogStatus

from chargepoint.diagnostics.feature import DEFAULT_RETRIES, DEFAULT_RETRY_INTERVAL, Diagnostics
from chargepoint.diagnostics.window import Window, moment
from chargepoint.infra.clock import Clock
from chargepoint.link.outbox import Delivery, Outbox
from chargepoint.security.log import SecurityLog
from chargepoint.transfer.files import upload
from chargepoint.transfer.options import TransferOptions
from chargepoint.transfer.retry import attempt
from chargepoint.transfer.urls import redact
from configkeys import FeatureProfile

log = logging.getLogger(__name__)

# What a failed transfer's cause (TransferFailed's one line) tells the CSMS (N01.FR.10).
_STATUS_OF_CAUSE: tuple[tuple[re.Pattern[str], UploadLogStatus], ...] = (
    (re.compile(r"HTTP (401|403)\b|FTP (530|532|550)\b"), UploadLogStatus.permission_denied),
    (re.compile(r"unsupported scheme|HTTP (405|501)\b|FTP 502\b"), UploadLogStatus.not_supported_operation),
    (re.compile(r"HTTP 400\b|not a usable URL|FTP (500|501)\b"), UploadLogStatus.bad_message),
)


def upload_status(cause: str | None) -> UploadLogStatus:
    """The final LogStatusNotification status of an upload that ended with `cause` (None: done)."""
    if cause is None:
        return UploadLogStatus.uploaded
    for pattern, status in _STATUS_OF_CAUSE:
        if pattern.match(cause):
            return status
    return UploadLogStatus.upload_failure


class LogUploads:
    profile: ClassVar[FeatureProfile] = FeatureProfile.SECURITY  # app.features.WHITEPAPER

    def __init__(
        self,
        security_log: SecurityLog,
        diagnostics: Diagnostics,
        outbox: Outbox,
        options: TransferOptions,
        clock: Clock,
        spool: Path,
    ) -> None:
        self._security_log = security_log
        self._diagnostics = diagnostics
        self._options = options
        self._clock = clock
        self._spool = spool
        self._delivery = Delivery(outbox, "LogStatusNotification")
        self._task: asyncio.Task[None] | None = None
        self._request_id: int | None = None

    @on(Action.get_log, skip_schema_validation=True)  # the endpoint has checked the schema
    def get_log(
        self, log: dict[str, Any], log_type: str, request_id: int, retries: int | None = None,
        retry_interval: int | None = None,
    ) -> call_result.GetLog:
        location = str(log["remote_location"])
        if not urlsplit(location).scheme or not urlsplit(location).netloc:
            return call_result.GetLog(status=LogStatus.rejected)
        canceled = self._task is not None and not self._task.done()
        if self._task is not None and canceled:
            self._task.cancel()
        kind = Log(log_type)
        suffix = "security-log.jsonl.gz" if kind is Log.security_log else "diagnostics.tar.gz"
        name = f"{self._diagnostics.file_identity}-{request_id}-{self._clock.now():%Y%m%dT%H%M%SZ}-{suffix}"
        window = Window(moment(log.get("oldest_timestamp")), moment(log.get("latest_timestamp")))
        tries = 1 + max(0, retries) if retries is not None else 1 + DEFAULT_RETRIES
        interval = max(0, retry_interval) if retry_interval is not None else DEFAULT_RETRY_INTERVAL
        self._request_id = request_id
        self._task = asyncio.get_running_loop().create_task(
            self._send(kind, location, name, window, (tries, interval), request_id)
        )
        return call_result.GetLog(status=LogStatus.accepted_canceled if canceled else LogStatus.accepted, filename=name)

    def status(self) -> call.LogStatusNotification:
        """For ExtendedTriggerMessage LogStatusNotification: Uploading with its requestId, or Idle
        without one (N01.FR.12)."""
        if self._task is not None and not self._task.done() and self._request_id is not None:
            return call.LogStatusNotification(status=UploadLogStatus.uploading, request_id=self._request_id)
        return call.LogStatusNotification(status=UploadLogStatus.idle, request_id=None)

    async def _send(
        self, kind: Log, location: str, name: str, window: Window, tries: tuple[int, int], request_id: int
    ) -> None:
        path = self._spool / name
        try:
            self._spool.mkdir(mode=0o700, exist_ok=True)
            if kind is Log.security_log:
                await asyncio.to_thread(_write_gzip, path, self._security_log.entries(window))
            else:
                await self._diagnostics.pack(path, window)
            self._report(UploadLogStatus.uploading, request_id)
            what = f"{kind.value} upload to {redact(location)}"
            cause = await attempt(lambda: upload(location, path, name, self._options), *tries, what)
        except OSError as exc:
            cause = f"cannot write {name}: {exc.strerror or exc}"
        finally:
            path.unlink(missing_ok=True)
        if cause is None:
            log.info("%s %s uploaded to %s", kind.value, name, redact(location))
        else:
            log.error("%s upload to %s failed: %s", kind.value, redact(location), cause)
        self._report(upload_status(cause), request_id)

    def _report(self, status: UploadLogStatus, request_id: int) -> None:
        self._delivery.send(call.LogStatusNotification(status=status, request_id=request_id))


def _write_gzip(path: Path, lines: Iterable[str]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(lines)
