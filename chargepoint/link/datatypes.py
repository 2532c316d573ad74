"""The OCPP 1.6 data types the JSON schemas leave loose, checked before any handler runs.

The schemas say "integer", "number" (multipleOf 0.1) and "string" (format date-time); the 1.6
specification means less than that admits: its SOAP schema makes every integer a 32-bit
xs:int, and a dateTime is an RFC 3339 instant. Values beyond those reached SQLite, float() or
datetime in the handlers and came back as InternalError (the fuzz test found them), or stopped
the schema check itself: 1E+30 % 0.1 overflows decimal's default context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from jsonschema import Draft4Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

INT32 = range(-(2**31), 2**31)
# Beyond this a float, which the handlers compute in, no longer holds every tenth exactly.
LARGEST_TENTHS = Decimal(2**53) / 10
# RFC 3339 with ISO 8601's upper-case T and Z, which the handlers' parsing takes (RFC 3339 §5.6
# lets an application insist on them).
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def _type(validator: Any, types: Any, instance: object, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if types == "integer" and validator.is_type(instance, "integer") and instance not in INT32:
        yield ValidationError(f"{instance} is beyond the 32-bit integers of OCPP 1.6")
        return
    yield from Draft4Validator.VALIDATORS["type"](validator, types, instance, schema)


def _multiple_of(validator: Any, step: Decimal, instance: object, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "number") and abs(instance) >= LARGEST_TENTHS:  # type: ignore[arg-type]
        yield ValidationError(f"{instance} is beyond the numbers held to a step of {step} (at most {LARGEST_TENTHS})")
        return
    yield from Draft4Validator.VALIDATORS["multipleOf"](validator, step, instance, schema)


def is_date_time(instance: object) -> bool:
    """An RFC 3339 date-time that exists and has a UTC instant (9999-12-31T23:00:00-05:00 has
    none); without an offset it is UTC (§3.14). Only strings are judged: a number there is
    the type check's business."""
    if not isinstance(instance, str):
        return True
    if not _DATE_TIME.fullmatch(instance):
        return False
    try:
        datetime.fromisoformat(instance.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date-time")(is_date_time)

OcppValidator = validators.extend(Draft4Validator, {"type": _type, "multipleOf": _multiple_of})


def validator(schema: dict[str, Any]) -> Any:
    """A Draft 4 validator of `schema` that also holds values to the 1.6 data types."""
    return OcppValidator(schema, format_checker=_FORMATS)
