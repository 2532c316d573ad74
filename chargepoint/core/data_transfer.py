"""DataTransfer from the CSMS (§5.6, Core): one registry of vendor extensions.

A vendor package registers a handler for a (vendorId, messageId) pair, for a whole vendorId
with messageId None, or for a messageId whatever the vendorId with vendorId None (WEMOB
documents that its stations ignore vendorId for their own messages). The handler gets the
request's data and answers with a status and optional data. A handler registered with
`json_data` also takes the bare JSON its vendor's manual shows in place of text: `lenience`
turns it into text before the schema check, so the handler always reads a string.
With nothing registered the answer says exactly that: an unknown vendorId is UnknownVendorId,
a known vendor's unknown message is UnknownMessageId.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

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
        self._handlers: dict[tuple[str | None, str | None], VendorHandler] = {}
        self._json_data: set[tuple[str | None, str | None]] = set()

    def register(
        self, vendor_id: str | None, message_id: str | None, handler: VendorHandler, json_data: bool = False
    ) -> None:
        """Most specific first: (vendor, message), then (vendor, None), then (None, message)."""
        if vendor_id is None and message_id is None:
            raise ValueError("a DataTransfer handler needs a vendorId, a messageId or both")
        key = (vendor_id, message_id)
        if key in self._handlers:
            raise ValueError(f"DataTransfer {vendor_id}/{message_id} already has a handler")
        if vendor_id is not None:
            self._vendors.add(vendor_id)
        self._handlers[key] = handler
        if json_data:
            self._json_data.add(key)

    def _owner(self, vendor_id: str, message_id: str | None) -> tuple[str | None, str | None] | None:
        keys = ((vendor_id, message_id), (vendor_id, None), (None, message_id))
        return next((key for key in keys if key in self._handlers), None)

    def lenience(self, call: Any) -> None:
        """For the link: a DataTransfer whose handler takes JSON data gets it as JSON text."""
        payload = call.payload
        if call.action != "DataTransfer" or not isinstance(payload, dict) or not isinstance(payload.get("vendorId"), str):
            return
        message_id, data = payload.get("messageId"), payload.get("data")
        if isinstance(message_id, (str, type(None))) and data is not None and not isinstance(data, str):
            if self._owner(payload["vendorId"], message_id) in self._json_data:
                payload["data"] = json.dumps(data)

    def reply(self, vendor_id: str, message_id: str | None, data: str | None) -> Reply:
        owner = self._owner(vendor_id, message_id)
        if owner is not None:
            return self._handlers[owner](message_id, data)
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
