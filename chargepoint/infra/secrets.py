"""Keeping secrets out of every output: logs, the frame log, status and config answers.

The AuthorizationKey reaches the station inside a ChangeConfiguration frame, before any
handler has seen it, so besides scrubbing the values we know we also mask the value field of
any frame that carries a write-only key.
"""

from __future__ import annotations

import logging
import re

MASK = "********"
WRITE_ONLY_KEYS = ("AuthorizationKey",)
_Q = "[\"']"  # JSON frames use double quotes, Python reprs in library logs single ones
# One flat object naming a write-only key, whatever the field order or letter case.
_WRITE_ONLY_OBJECT = re.compile(
    r"\{[^{}]*" + _Q + r"key" + _Q + r"\s*:\s*" + _Q + "(?:" + "|".join(WRITE_ONLY_KEYS) + ")" + _Q + r"[^{}]*\}",
    re.IGNORECASE,
)
# The user:password@ of a URL (ftp://user:pass@host/ in UpdateFirmware, GetDiagnostics).
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s@\"']+@")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)
_VALUE_FIELD = re.compile(r"(" + _Q + r"value" + _Q + r"\s*:\s*)(" + _Q + r")(?:\\.|(?!\2).)*\2", re.IGNORECASE)


class SecretScrubber:
    """Replaces known secret values and write-only key values in text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret:
            self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        text = _WRITE_ONLY_OBJECT.sub(lambda m: _VALUE_FIELD.sub(rf"\1\2{MASK}\2", m.group(0)), text)
        text = _URL_CREDENTIALS.sub(MASK + "@", text)
        text = _PRIVATE_KEY.sub(MASK, text)
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


class ScrubbingFilter(logging.Filter):
    """Rewrites every record passing a handler, whatever logger produced it."""

    def __init__(self, scrubber: SecretScrubber) -> None:
        super().__init__()
        self._scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self._scrubber.scrub(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self._scrubber.scrub(record.exc_text)
        return True
