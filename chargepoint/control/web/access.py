"""Who may reach the page: where it listens, and the password it asks for off loopback.

A bench page presses buttons on a station, so it is served to the network only behind a
password, and a page of another site open in the same browser may not drive it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

PASSWORD_SETTING = "web_password"
LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class Bind:
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_bind(text: str) -> Bind:
    """HOST:PORT, an IPv6 host in brackets ([::1]:8080)."""
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port.isdecimal() or not 0 <= int(port) < 65536 or any(c in host for c in "[]/ "):
        raise ValueError(f"must be HOST:PORT with a port of 0 to 65535 (0: any free port), e.g. 127.0.0.1:8080 (got {text!r})")
    return Bind(host, int(port))


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


def password_problem(bind: Bind, password: str | None) -> str | None:
    """Why the page may not be served on `bind`, naming the setting that would allow it."""
    if password or bind.loopback:
        return None
    return (f"{PASSWORD_SETTING}: needed to serve the web page on {bind}; without one it binds only to loopback"
            " (127.0.0.1, ::1, localhost)")


def authorized(header: str | None, password: str) -> bool:
    """HTTP Basic with any user name: the page has one password, compared in constant time."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        _, _, given = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), password.encode())


def same_origin(origin: str | None, host: str) -> bool:
    """A WebSocket opened by this page, not by a page of another site the browser has open
    (browsers send Origin on every WebSocket; tools that send none are not a browser's tab)."""
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == host.lower()


def loopback_host(host: str) -> bool:
    """The Host a browser sent names loopback: without a password the page answers only to
    those, so a site that makes its name resolve to 127.0.0.1 still cannot read it."""
    return is_loopback(urlsplit(f"//{host}").hostname or "")


def bind_argument(text: str) -> str:
    """`run --web` and `fleet run --web`: HOST:PORT, or argparse's one line saying why not."""
    try:
        parse_bind(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def page_problem(web: str | None, password: str | None) -> str | None:
    """Why the page may not be served on `web` (None: no page, or it may)."""
    return password_problem(parse_bind(web), password) if web else None
