"""DataTransfer from the CSMS (§5.6, Core profile).

No vendor extension is implemented yet, so the answer says exactly that: another vendor's
message is UnknownVendorId, one of our own vendor's that we do not know is UnknownMessageId.
"""

from __future__ import annotations

import logging

from ocpp.v16 import call_result
from ocpp.v16.enums import DataTransferStatus

log = logging.getLogger(__name__)


class DataTransfers:
    def __init__(self, vendor_id: str) -> None:
        self._vendor_id = vendor_id

    def answer(self, vendor_id: str, message_id: str | None) -> call_result.DataTransfer:
        if vendor_id != self._vendor_id:
            status = DataTransferStatus.unknown_vendor_id
        else:
            status = DataTransferStatus.unknown_message_id
        log.info("DataTransfer %s/%s: %s", vendor_id, message_id, status)
        return call_result.DataTransfer(status=status)
