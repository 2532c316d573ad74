"""Comparing what the CSMS sent with what a scenario expects: pure functions over JSON values.

An expected value is a literal, or one of the MATCHERS for what a literal cannot say (a
dateTime, a transactionId never handed out before in this run). Paths are dotted field names
("idTagInfo.status").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

PRESENT, ABSENT, POSITIVE, DATETIME, UNIQUE = "{present}", "{absent}", "{positive}", "{datetime}", "{unique}"
MATCHERS = frozenset({PRESENT, ABSENT, POSITIVE, DATETIME, UNIQUE})
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*(?::[0-9]+)?)\}")
_MISSING = object()


def lookup(payload: Any, path: str) -> Any:
    """The value at a dotted path, or _MISSING."""
    value = payload
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def value_at(payload: Any, path: str) -> Any:
    value = lookup(payload, path)
    return None if value is _MISSING else value


def mismatches(expected: Mapping[str, Any], actual: Any, used: Mapping[str, set[Any]]) -> list[str]:
    """One line per expected field that `actual` does not hold; `used` holds the values each
    path already had in this run, for {unique}."""
    problems = []
    for path, wanted in expected.items():
        value = lookup(actual, path)
        problem = _mismatch(wanted, value, used.get(path, set()))
        if problem:
            problems.append(f"{path}: {problem}")
    return problems


def _mismatch(wanted: Any, value: Any, used: set[Any]) -> str | None:
    shown = "nothing" if value is _MISSING else repr(value)
    if wanted == ABSENT:
        return None if value is _MISSING else f"expected no value, received {shown}"
    if value is _MISSING:
        return f"expected {_describe(wanted)}, received nothing"
    if wanted == PRESENT:
        return None
    if wanted == POSITIVE:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
        return None if ok else f"expected a number above 0, received {shown}"
    if wanted == DATETIME:
        return None if _is_datetime(value) else f"expected an ISO 8601 dateTime, received {shown}"
    if wanted == UNIQUE:
        return f"expected a value not used before in this run, received {shown} again" if value in used else None
    if isinstance(wanted, Mapping) and isinstance(value, Mapping):
        inner = mismatches(wanted, value, {})
        return "; ".join(inner) if inner else None
    return None if _same(value, wanted) else f"expected {wanted!r}, received {shown}"


def _same(value: Any, wanted: Any) -> bool:
    """Equal, and of the same JSON type: 1 is not "1" nor true, but 16 is 16.0."""
    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    return value == wanted and (type(value) is type(wanted) or (number(value) and number(wanted)))


def _describe(wanted: Any) -> str:
    names = {PRESENT: "a value", POSITIVE: "a number above 0", DATETIME: "a dateTime", UNIQUE: "a new value"}
    return names.get(wanted, repr(wanted)) if isinstance(wanted, str) else repr(wanted)


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def resolve(value: Any, names: Mapping[str, Any], now: datetime, scale: float) -> Any:
    """Placeholders filled in: "{tx}" alone is the saved value with its type, "{in:30}" a
    dateTime 30 (scaled) seconds from now; matchers stay for `mismatches`."""
    if isinstance(value, Mapping):
        return {key: resolve(item, names, now, scale) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, names, now, scale) for item in value]
    if not isinstance(value, str) or value in MATCHERS:
        return value
    whole = PLACEHOLDER.fullmatch(value)
    if whole:
        return _filled(whole.group(1), names, now, scale)
    return PLACEHOLDER.sub(lambda m: str(_filled(m.group(1), names, now, scale)), value)


def _filled(name: str, names: Mapping[str, Any], now: datetime, scale: float) -> Any:
    if name.startswith("in:"):
        moment = now + timedelta(seconds=int(name[3:]) * scale)
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    return names.get(name, f"{{{name}}}")


def placeholders(value: Any) -> set[str]:
    """The names a value refers to (matchers and {in:N} left out)."""
    if isinstance(value, Mapping):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    if not isinstance(value, str) or value in MATCHERS:
        return set()
    return {name for name in PLACEHOLDER.findall(value) if not name.startswith("in:")}
