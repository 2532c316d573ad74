"""Why a connect to the CSMS failed, in one line a technician can act on.

asyncio, ssl and websockets name the mechanism that broke ("[Errno -2] Name or service not
known", a bare "ConnectionResetError", "timed out during opening handshake"), not what to
check; on a board in the field the log is often all there is to go on.
"""

from __future__ import annotations

import socket
import ssl
from http import HTTPStatus
from urllib.parse import urlsplit

from websockets.exceptions import InvalidMessage, InvalidStatus

_UPGRADE_REFUSALS = {
    401: "credentials refused (check identity and AuthorizationKey)",
    403: "this station is not allowed to connect",
    404: "no OCPP endpoint at this URL (check csms_url and identity)",
}


def describe(exc: BaseException, url: str) -> str:
    """The cause of a failed connect to `url`; exceptions it does not know keep their own text."""
    parts = urlsplit(url)
    host = parts.hostname or url
    address = f"{host}:{parts.port or (443 if parts.scheme == 'wss' else 80)}"
    match exc:
        case InvalidStatus():
            return _refused_upgrade(exc.response.status_code)
        case socket.gaierror():
            return f"cannot resolve host {host} (DNS: {exc.strerror})"
        case ConnectionRefusedError():
            return f"connection refused: nothing listens on {address} (CSMS down, or wrong port)"
        case ssl.SSLError():
            return f"TLS handshake failed: {getattr(exc, 'verify_message', None) or exc.reason or _first_line(exc)}"
        case ConnectionResetError() if exc.errno is None and parts.scheme == "wss":
            # asyncio's own, args-less error for an end of stream inside the TLS handshake.
            return f"TLS handshake failed: the server closed the connection (does {address} speak TLS?)"
        case TimeoutError():
            return "no WebSocket handshake within MessageTimeout: the connection or the upgrade went unanswered"
        case InvalidMessage() if isinstance(exc.__cause__, EOFError):
            return "the server closed the connection before answering the WebSocket upgrade"
        case OSError() if exc.strerror:
            return f"cannot connect to {address}: {exc.strerror}"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def _refused_upgrade(code: int) -> str:
    try:
        status = f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        status = f"HTTP {code}"
    cause = _UPGRADE_REFUSALS.get(code)
    return f"CSMS refused the WebSocket upgrade with {status}" + (f": {cause}" if cause else "")
