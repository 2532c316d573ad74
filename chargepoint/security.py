"""Rules of the OCPP 1.6 Security Whitepaper that guard configuration changes.

SecurityProfile may only go up, and only to a profile whose prerequisites this installation
has (whitepaper §2, A05): a downgrade would let an attacker with CSMS access weaken the link.
"""

from __future__ import annotations

from collections.abc import Callable

from chargepoint.settings import Settings
from configkeys import Configuration


def security_profile_rule(config: Configuration, settings: Settings) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        wanted, current = int(value), config.integer("SecurityProfile")
        if wanted <= current:
            return f"SecurityProfile only goes up (now {current})"
        if wanted in (1, 2) and not config.value("AuthorizationKey"):
            return f"profile {wanted} needs an AuthorizationKey for HTTP Basic auth"
        if wanted >= 2 and (not settings.csms_url.startswith("wss://") or settings.tls_ca is None):
            return f"profile {wanted} needs a wss:// csms_url and the CSMS's CA (tls_ca)"
        if wanted == 3 and settings.tls_cert is None:
            return "profile 3 needs a client certificate (tls_cert, tls_key)"
        return None

    return check
