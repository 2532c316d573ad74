"""Deciding whether an idTag may charge.

Today the CSMS decides through Authorize.req; the local list, cache and offline rules of
spec §3.5 plug in here, in front of that request.
"""

from __future__ import annotations

import logging

from ocpp.v16 import call
from ocpp.v16.enums import AuthorizationStatus

from chargepoint.session import CallFailed, NotAccepted, Session

log = logging.getLogger(__name__)


class Authorizer:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def authorize(self, id_tag: str) -> AuthorizationStatus:
        """The idTag's status; Invalid when the CSMS cannot be asked."""
        try:
            answer = await self._session.request(call.Authorize(id_tag=id_tag))
        except (NotAccepted, CallFailed) as exc:
            log.warning("idTag %s not authorized: %s", id_tag, exc)
            return AuthorizationStatus.invalid
        status = AuthorizationStatus(answer.id_tag_info["status"])
        log.info("idTag %s: %s", id_tag, status)
        return status
