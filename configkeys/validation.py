"""Turning a value a CSMS or technician wrote into the canonical form the station stores.

Canonical forms keep comparisons trivial for every consumer: booleans are lowercase,
integers carry no sign or leading zeros, CSL items are trimmed and joined by bare commas.
Reasons quote CSL items only, never a string value, so a refused AuthorizationKey cannot
reach a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from configkeys.keydef import KeyDef, KeyType

_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Invalid:
    """Why a value was refused; ChangeConfiguration answers Rejected with this logged."""

    reason: str


def split_csl(value: str) -> list[str]:
    """An empty string is the empty list, not a list holding one empty item."""
    return [item.strip() for item in value.split(",")] if value.strip() else []


def normalise(key: KeyDef, value: str, max_items: int | None = None) -> str | Invalid:
    """The canonical form of `value` for `key`, or why it cannot be accepted.

    `max_items` is the current value of the key named by `key.max_items_key`; the caller
    looks it up because it lives in the runtime configuration, not in the catalogue.
    """
    if len(value) > key.max_length:
        return Invalid(f"longer than {key.max_length} characters")
    match key.type:
        case KeyType.BOOLEAN:
            return _boolean(value)
        case KeyType.INTEGER:
            return _integer(key, value)
        case KeyType.CSL:
            return _csl(key, value, max_items)
        case KeyType.STRING:
            return _string(key, value)


def _boolean(value: str) -> str | Invalid:
    lowered = value.strip().lower()
    return lowered if lowered in ("true", "false") else Invalid("not 'true' or 'false'")


def _integer(key: KeyDef, value: str) -> str | Invalid:
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        return Invalid(f"not a whole number; allowed: {_describe_bounds(key.bounds)}")
    number = int(text)
    if not any(low <= number <= high for low, high in key.bounds):
        return Invalid(f"outside {_describe_bounds(key.bounds)}")
    return str(number)


def _csl(key: KeyDef, value: str, max_items: int | None) -> str | Invalid:
    items = split_csl(value)
    if "" in items:
        return Invalid("has an empty item")
    if len(set(items)) != len(items):
        return Invalid("lists an item twice")
    if max_items is not None and len(items) > max_items:
        return Invalid(f"has {len(items)} items, at most {max_items} allowed")
    for item in items:
        if key.members is not None and item not in key.members:
            return Invalid(f"item {item!r} is not one of {', '.join(key.members)}")
        if key.pattern is not None and not re.fullmatch(key.pattern, item):
            return Invalid(f"item {item!r} is not in the expected format")
    return ",".join(items)


def _string(key: KeyDef, value: str) -> str | Invalid:
    if key.pattern is not None and not re.fullmatch(key.pattern, value):
        return Invalid("not in the expected format")
    return value


def _describe_bounds(bounds: tuple[tuple[int, int], ...]) -> str:
    """Human form of the accepted ranges, e.g. '0 or 900..86400'."""
    return " or ".join(str(low) if low == high else f"{low}..{high}" for low, high in bounds)
