"""What a file-transfer URL says: its protocol, its target, and what may be logged of it."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

SCHEMES = {"http": "HTTP", "https": "HTTPS", "ftp": "FTP"}  # scheme -> SupportedFileTransferProtocols
_USERINFO = re.compile(r"(?<=://)[^/@]*@")


def protocol_of(url: str) -> str | None:
    return SCHEMES.get(urlsplit(url).scheme.lower())


def redact(url: str) -> str:
    """The URL as a log may show it: user and password masked."""
    return _USERINFO.sub("********@", url, count=1)


def upload_target(location: str, file_name: str) -> str:
    """GetDiagnostics' location is a directory: the file goes in it. An HTTP location without
    a trailing slash is the upload URL itself (the server names the file)."""
    parts = urlsplit(location)
    if parts.scheme.lower() in ("http", "https") and not parts.path.endswith("/") and parts.path:
        return location
    path = (parts.path or "/").rstrip("/") + "/" + quote(file_name)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
