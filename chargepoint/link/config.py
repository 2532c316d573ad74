"""Where and how the station reaches its CSMS: the installation's part of the link.

These come from the settings and are fixed for the life of the process; what the CSMS may change
(SecurityProfile, AuthorizationKey, intervals) lives in configuration keys instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote


@dataclass(frozen=True)
class LinkConfig:
    csms_url: str  # ws:// or wss://; the identity is appended as the last path segment
    identity: str
    reconnect_max_delay: float = 60.0
    tls_ca: Path | None = None  # the CSMS's CA (profiles 2 and 3)
    tls_cert: Path | None = None  # our client certificate (profile 3)
    tls_key: Path | None = None
    # The `password` setting as typed: profile 0 presents it so (security.basic_password).
    password: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.csms_url.rstrip("/") + "/" + quote(self.identity, safe="")

    @property
    def secure(self) -> bool:
        return self.csms_url.startswith("wss://")
