"""OCPP-J framing: turning CSMS text into messages, or into the CALLERROR it deserves.

The `ocpp` library drops frames it cannot unpack and names errors with OCPP 2.0 codes; a 1.6
station must answer with the 1.6 codes of OCPP-J §4.2.3, keeping the two spelling mistakes the
errata sheet (§5.1, §5.2) says are part of the wire format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema.exceptions import ValidationError
from ocpp.messages import Call, CallError, CallResult
from ocpp.v16.enums import Action

from chargepoint.link.datatypes import validator

FORMATION_VIOLATION = "FormationViolation"
OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
PROTOCOL_ERROR = "ProtocolError"
PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
NOT_IMPLEMENTED = "NotImplemented"
NOT_SUPPORTED = "NotSupported"

# jsonschema keyword that failed -> the §4.2.3 code describing that kind of fault.
_CODE_BY_KEYWORD = {
    "type": TYPE_CONSTRAINT_VIOLATION,
    "maxLength": TYPE_CONSTRAINT_VIOLATION,  # CiStringNType length is part of the data type
    "required": PROTOCOL_ERROR,  # "payload for Action is incomplete"
    "minItems": OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": OCCURENCE_CONSTRAINT_VIOLATION,
    "additionalProperties": FORMATION_VIOLATION,
    "format": TYPE_CONSTRAINT_VIOLATION,  # a dateTime that is none: the data type, as for maxLength
}
_KNOWN_ACTIONS = frozenset(action.value for action in Action)
MAX_UNIQUE_ID = 36  # characters (§4.1.4)
DESCRIPTION_LIMIT = 200  # characters of a CALLERROR's errorDescription
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class FrameRejected(Exception):
    """A frame we cannot process; `unique_id` is None when there is nobody to answer."""

    def __init__(self, unique_id: str | None, code: str, description: str) -> None:
        super().__init__(description)
        self.unique_id = unique_id
        self.code = code
        self.description = description

    def call_error(self) -> str:
        assert self.unique_id is not None
        return CallError(self.unique_id, self.code, self.description, {}).to_json()


def parse_frame(text: str | bytes) -> Call | CallResult | CallError:
    """Unpack one WebSocket message; raises FrameRejected for anything not a valid RPC frame."""
    try:
        text = text.decode("utf-8") if isinstance(text, bytes) else text
        frame = json.loads(text, parse_constant=_not_json)
    except ValueError:  # UnicodeDecodeError included
        raise FrameRejected(None, FORMATION_VIOLATION, "not JSON") from None
    except RecursionError:
        raise FrameRejected(None, FORMATION_VIOLATION, "not JSON the station can read: nested too deep") from None
    if not isinstance(frame, list) or not frame:
        raise FrameRejected(None, FORMATION_VIOLATION, "not a JSON array")
    unique_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) else None
    if unique_id is None:
        raise FrameRejected(None, PROTOCOL_ERROR, "no UniqueId (a string)")
    if _SURROGATE_ESCAPE.search(text) and _lone_surrogate(frame):
        # Valid JSON escapes, but no Unicode text: SQLite and the log could not store it.
        raise FrameRejected(unique_id if frame[0] == 2 else None, FORMATION_VIOLATION, "a string holds a lone surrogate")
    match frame:
        case [2, _, str(), _] if len(unique_id) > MAX_UNIQUE_ID:
            # §4.2.3 names a too long UniqueId among the faults a CALLERROR reports.
            raise FrameRejected(unique_id, FORMATION_VIOLATION, f"UniqueId longer than {MAX_UNIQUE_ID} characters")
        case [2, _, str(action), dict(payload)]:
            return Call(unique_id, action, payload)
        case [2, _, str(), None]:
            return Call(unique_id, frame[2], {})
        case [2, *_]:
            raise FrameRejected(unique_id, FORMATION_VIOLATION, "a CALL is [2, UniqueId, Action, {payload}]")
        case [3, _, dict(payload)]:
            return CallResult(unique_id, payload)
        case [3, _, None]:
            return CallResult(unique_id, {})
        case [4, _, str(code), str(description), dict(details)]:
            return CallError(unique_id, code, description, details)
        case [3 | 4, *_]:
            raise FrameRejected(None, FORMATION_VIOLATION, "malformed CALLRESULT/CALLERROR")
    # OCPP-J §4.1.3: a message type number outside 2-4 is ignored, not answered.
    raise FrameRejected(None, PROTOCOL_ERROR, f"unknown MessageTypeId {frame[0]!r}")


def _lone_surrogate(frame: list[Any]) -> bool:
    try:
        json.dumps(frame, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return True
    return False


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON (RFC 8259)")


def _brief(text: str) -> str:
    """A CALLERROR and a log line name the fault, not the megabyte of text that caused it: an
    answer echoing it could outgrow what the CSMS accepts in one frame."""
    return text if len(text) <= DESCRIPTION_LIMIT else text[:DESCRIPTION_LIMIT] + "..."


def check_action(call: Call, served: Collection[str]) -> None:
    """Refuse a CALL whose action is not OCPP 1.6 (NotImplemented) or that no feature this
    station serves owns (NotSupported), the codes OCPP-J §4.2.3 gives the two cases."""
    if call.action not in _KNOWN_ACTIONS:
        raise FrameRejected(call.unique_id, NOT_IMPLEMENTED, f"{_brief(call.action)} is not an OCPP 1.6 action")
    if call.action not in served:
        raise FrameRejected(call.unique_id, NOT_SUPPORTED, f"{call.action} is not supported by this charge point")


def check_payload(call: Call) -> None:
    """Refuse a CALL whose payload breaks the official 1.6 schema of its action."""
    payload = json.loads(json.dumps(call.payload), parse_float=Decimal)
    error = _best_error(_validator(call.action).iter_errors(payload))
    if error is not None:
        code = _CODE_BY_KEYWORD.get(str(error.validator), PROPERTY_CONSTRAINT_VIOLATION)
        where = "/".join(str(p) for p in error.absolute_path) or "payload"
        raise FrameRejected(call.unique_id, code, _brief(f"{where}: {error.message}"))


def _best_error(errors: Any) -> ValidationError | None:
    """The outermost error: a missing field says more than the failures it causes further in."""
    found = sorted(errors, key=lambda e: len(e.absolute_path))
    return found[0] if found else None


@cache
def _validator(action: str) -> Any:
    # The ocpp package ships the official 1.6 schemas; decimals keep multipleOf 0.1 exact.
    text = files("ocpp.v16").joinpath("schemas", f"{action}.json").read_text(encoding="utf-8")
    return validator(json.loads(text, parse_float=Decimal))
