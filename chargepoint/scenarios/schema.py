"""Whether a message the CSMS sent is one OCPP 1.6 allows, by the official JSON schemas the
`ocpp` library ships: a malformed request or answer fails its step whatever else it holds."""

from __future__ import annotations

import decimal
import json
from typing import Any

from jsonschema.exceptions import best_match
from ocpp.messages import get_validator

# The schemas with multipleOf 0.1 are read with decimals, as the library reads them.
_DECIMAL = {(2, "SetChargingProfile"), (2, "RemoteStartTransaction"), (3, "GetCompositeSchedule")}


def schema_problem(kind: int, action: str, payload: Any) -> str | None:
    """None if `payload` fits the CALL (kind 2) or CALLRESULT (3) schema of `action`."""
    exact = (kind, action) in _DECIMAL
    try:
        validator = get_validator(kind, action, "1.6", parse_float=decimal.Decimal if exact else float)
    except OSError:
        return f"{action} is no OCPP 1.6 action"
    if exact:
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    error = best_match(validator.iter_errors(payload))
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path) or "the payload"
    return f"{where}: {error.message}"
