"""DataTransfer from the CSMS (§5.6, Core): one registry of vendor extensions.

A vendor package registers a handler for a (vendorId, messageId) pair, or for a whole vendorId
with messageId None, and gets the request's data; it answers with a status and optional data.
With nothing registered the answer says exactly that: an unknown vendorId is UnknownVendorId,
a known vendor's unknown message is UnknownMessageId.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, DataTransferStatus

from configkeys import FeatureProfile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    status: DataTransferStatus
    data: str | None = None


VendorHandler = Callable[[str | None, str | None], Reply]  # (messageId, data) -> reply


class DataTransferRegistry:
    profile: ClassVar[FeatureProfile] = FeatureProfile.CORE

    def __init__(self, own_vendor_id: str) -> None:
        self._vendors = {own_vendor_id}
        self._handlers: dict[tuple[str, str | None], VendorHandler] = {}

    def register(self, vendor_id: str, message_id: str | None, handler: VendorHandler) -> None:
        """`message_id` None takes every message of `vendor_id` that has no handler of its own."""
        key = (vendor_id, message_id)
        if key in self._handlers:
            raise ValueError(f"DataTransfer {vendor_id}/{message_id} already has a handler")
        self._vendors.add(vendor_id)
        self._handlers[key] = handler

    def reply(self, vendor_id: str, message_id: str | None, data: str | None) -> Reply:
        handler = self._handlers.get((vendor_id, message_id)) or self._handlers.get((vendor_id, None))
        if handler is not None:
            return handler(message_id, data)
        if vendor_id not in self._vendors:
            return Reply(DataTransferStatus.unknown_vendor_id)
        return Reply(DataTransferStatus.unknown_message_id)

    @on(Action.data_transfer, skip_schema_validation=True)
    def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> call_result.DataTransfer:
        reply = self.reply(vendor_id, message_id, data)
        log.info("DataTransfer %s/%s: %s", vendor_id, message_id, reply.status)
        return call_result.DataTransfer(status=reply.status, data=reply.data)
