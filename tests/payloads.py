"""CSMS payloads drawn from the official OCPP 1.6 JSON schemas: valid ones, and ones with exactly
one field broken, each carrying the OCPP-J §4.2.3 code that break deserves.

The generator knows which rule it broke, so the expected CALLERROR comes from the break itself,
not from a second schema validator that would only repeat the station's verdict. The 1.6
schemas use a small part of JSON Schema (object, array, string with maxLength / enum / format,
integer, number with multipleOf, boolean, local $ref), so translating them into hypothesis
strategies takes a page; hypothesis-jsonschema, the library for this, fails on current
hypothesis releases.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from hypothesis import strategies as st

Schema = dict[str, Any]
Path = tuple[str | int, ...]

RESULT = "CALLRESULT"
TYPE = "TypeConstraintViolation"
PROPERTY = "PropertyConstraintViolation"
OCCURENCE = "OccurenceConstraintViolation"  # the errata (§5.1) keeps the misspelling on the wire
PROTOCOL = "ProtocolError"
FORMATION = "FormationViolation"

HUGE_SIZES = (4_096, 65_536, 400_000)  # characters; frames stay under the 1 MiB WebSocket limit
DEEP_LEVELS = (2, 30, 400)  # nesting that parses; deeper frames are the envelope's business
# Where UpdateFirmware and GetDiagnostics are sent: closed ports on this machine, so a transfer
# the fuzz starts fails at once instead of reaching out or installing anything.
UNREACHABLE_URLS = (
    "http://127.0.0.1:9/firmware.bin",
    "https://127.0.0.1:9/x",
    "ftp://user:secret@127.0.0.1:9/upload/",
    "ftp://127.0.0.1:9/",
)
NASTY_TEXT = ("", " ", "\u0000", "'\"\\", "\u00e9\u4e2d\U0001f697", "%s%n{0}", "${jndi:x}", "\r\n", "null")

INT32 = (-(2**31), 2**31 - 1)
INTEGERS = st.one_of(st.integers(-3, 10), st.integers(*INT32), st.sampled_from(INT32))
NUMBERS = st.one_of(st.integers(-10, 500), st.integers(-(10**7), 10**7)).map(lambda n: n / 10)
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
DATETIMES = st.one_of(
    st.datetimes(datetime(2000, 1, 1), datetime(2040, 1, 1), timezones=st.just(timezone.utc)),
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=OFFSETS),
).map(lambda d: d.isoformat().replace("+00:00", "Z"))
BAD_DATETIMES = st.sampled_from((
    "yesterday", "2024-13-01T00:00:00Z", "2024-02-30T10:00:00Z", "", "T", "99999-01-01T00:00:00Z", "2024-01-01",
    "0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "2024-01-01T25:00:00Z",
    "2024-01-01t00:00:00z",
))


def request_schema(action: str) -> Schema:
    """The official request schema the `ocpp` package ships (the same files as
    reference/ocpp16/schemas, the security extension's included)."""
    return _schema(action)


def response_schema(action: str) -> Schema:
    return _schema(action + "Response")


@cache
def _schema(name: str) -> Schema:
    # Decimals, as the station reads them: multipleOf 0.1 must not trip over binary fractions.
    text = files("ocpp.v16").joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")
    return dict(json.loads(text, parse_float=Decimal))


def resolve(schema: Schema, root: Schema) -> Schema:
    """Follow a local "#/definitions/..." reference (only the security extension uses them)."""
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


Overrides = dict[str, st.SearchStrategy[Any]]


def valid(schema: Schema, root: Schema, overrides: Overrides | None = None) -> st.SearchStrategy[Any]:
    """Instances of `schema`; `overrides` gives some top-level properties values of their own
    (a known key name, a known vendorId), so more requests reach the handlers' own rules."""
    schema = resolve(schema, root)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        given = overrides or {}
        properties = {
            name: given[name] if name in given else valid(sub, root) for name, sub in schema.get("properties", {}).items()
        }
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
    if kind == "array":
        low = schema.get("minItems", 0)
        return st.lists(valid(schema["items"], root), min_size=low, max_size=low + 3)
    if kind == "integer":
        return INTEGERS
    if kind == "number":
        return NUMBERS
    if kind == "boolean":
        return st.booleans()
    return _text(schema)


def _text(schema: Schema) -> st.SearchStrategy[str]:
    if schema.get("format") == "date-time":
        return DATETIMES
    if schema.get("format") == "uri":
        return st.sampled_from(UNREACHABLE_URLS)
    limit = schema.get("maxLength", 80)
    return st.one_of(
        st.text(st.characters(codec="utf-8"), max_size=limit),
        st.text("ABCDEF0123456789", min_size=1, max_size=limit),
        st.sampled_from(NASTY_TEXT),
    ).map(lambda s: s[:limit])


@dataclass(frozen=True)
class Broken:
    """A payload and the answer it deserves: RESULT, or the CALLERROR code of its one break."""

    payload: Any
    expect: str
    what: str


_WRONG_TYPES: dict[str, tuple[Any, ...]] = {
    "string": (17, 1.5, True, None, [], {}),
    "integer": ("1", 1.5, True, None, [], {}),
    "number": ("1.0", False, None, [], {}),
    "boolean": (0, "true", None, []),
    "object": ("x", 1, [], None),
    "array": ("x", 1, {}, None),
}


def nested(depth: int, outer: type = list) -> Any:
    """`depth` levels of alternating arrays and objects, the outermost an `outer`."""
    inner: Any = 1
    for level in range(depth):
        inner = [inner] if (level % 2 == depth % 2) == (outer is dict) else {"n": inner}
    return inner


def _sites(schema: Schema, root: Schema, value: Any, path: Path = ()) -> list[tuple[Path, Schema, Any]]:
    schema = resolve(schema, root)
    found = [(path, schema, value)]
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found += _sites(sub, root, value[name], (*path, name))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += _sites(schema["items"], root, item, (*path, index))
    return found


def _breaks(path: Path, schema: Schema, value: Any) -> list[st.SearchStrategy[tuple[Any, str, str]]]:
    """Ways to break the value at `path` (the whole replacement, its code, a word on it)."""
    kind = schema.get("type", "string")
    options = []
    if path:
        options.append(st.sampled_from(_WRONG_TYPES[kind]).map(lambda v: (v, TYPE, f"wrong type {type(v).__name__}")))
        outer = dict if kind == "array" else list  # of the wrong type at the top, whatever lies inside
        options.append(st.sampled_from(DEEP_LEVELS).map(lambda d: (nested(d, outer), TYPE, f"nested {d} deep")))
    if isinstance(value, dict):
        options.append(st.text(min_size=1, max_size=20).filter(lambda k: k not in schema.get("properties", {})).map(
            lambda k: ({**value, k: 1}, FORMATION, f"unknown property {k!r}")))
        for name in sorted(set(schema.get("required", ())) & set(value)):
            options.append(st.just(({k: v for k, v in value.items() if k != name}, PROTOCOL, f"{name} missing")))
    if "enum" in schema:
        options.append(st.one_of(st.text(max_size=30), st.sampled_from([e.lower() for e in schema["enum"]])).filter(
            lambda s: s not in schema["enum"]).map(lambda s: (s, PROPERTY, f"{s!r} not in the enum")))
    if "maxLength" in schema:
        limit = schema["maxLength"]
        options.append(st.sampled_from((limit + 1, limit + 7, *(n for n in HUGE_SIZES if n > limit))).map(
            lambda n: ("\u00e9" * n, TYPE, f"{n} characters, at most {limit}")))
    if schema.get("format") == "date-time":
        options.append(BAD_DATETIMES.map(lambda s: (s, TYPE, f"{s!r} is no dateTime")))
    if "multipleOf" in schema:
        options.append(st.integers(-(10**5), 10**5).filter(lambda n: n % 10).map(
            lambda n: (n / 100, PROPERTY, "two decimals where multipleOf is 0.1")))
    if "minItems" in schema and isinstance(value, list):
        options.append(st.just(([], OCCURENCE, f"fewer than {schema['minItems']} items")))
    return options


def _replace(payload: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    payload = copy.deepcopy(payload)
    node = payload
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return payload


@st.composite
def broken(draw: st.DrawFn, action: str, overrides: Overrides | None = None) -> Broken:
    """A valid payload of `action` with one field broken."""
    root = request_schema(action)
    payload = draw(valid(root, root, overrides))
    sites = [(p, s, v) for p, s, v in _sites(root, root, payload) if _breaks(p, s, v)]
    path, schema, value = draw(st.sampled_from(sites))
    new, expect, what = draw(st.one_of(_breaks(path, schema, value)))
    where = "/".join(map(str, path)) or "payload"
    return Broken(_replace(payload, path, new), expect, f"{where}: {what}")


@st.composite
def huge(draw: st.DrawFn, action: str, overrides: Overrides | None = None) -> Broken:
    """One string as long as a frame may be: valid where the schema sets no maxLength."""
    root = request_schema(action)
    payload = draw(valid(root, root, overrides))
    texts = [(p, s) for p, s, v in _sites(root, root, payload) if isinstance(v, str) and p and not {"enum", "format"} & set(s)]
    if not texts:
        return Broken(payload, RESULT, "no string to grow")
    path, schema = draw(st.sampled_from(texts))
    size = draw(st.sampled_from(HUGE_SIZES))
    where = "/".join(map(str, path))
    if size > schema.get("maxLength", size):  # a field may allow more (InstallCertificate: 5500)
        return Broken(_replace(payload, path, "x" * size), TYPE, f"{where}: {size} characters")
    return Broken(_replace(payload, path, draw(st.sampled_from("x\u00e9{")) * size), RESULT, f"{where}: {size} characters")


# Beyond what OCPP 1.6 means by its types: integers are 32-bit (xs:int), a number is held to
# its 0.1 step (in a float: up to 2**53 / 10), a string is Unicode text.
EXTREME_INTEGERS = (2**31, -(2**31) - 1, 2**63, 10**30)
EXTREME_NUMBERS = (1e30, 10**30, 10**400, -1e16)
LONE_SURROGATES = ("\ud800", "a\udfffb")
_EXTREME_CODES = {"integer": TYPE, "number": PROPERTY, "string": FORMATION}


@st.composite
def extreme(draw: st.DrawFn, action: str, overrides: Overrides | None = None) -> Broken:
    """One scalar at the edge of what JSON can say: an integer beyond 32 bits, a number beyond
    any float, a string holding a lone surrogate (valid JSON escapes, no Unicode text)."""
    root = request_schema(action)
    payload = draw(valid(root, root, overrides))
    kinds = {"integer": EXTREME_INTEGERS, "number": EXTREME_NUMBERS, "string": LONE_SURROGATES}
    sites = [(p, s) for p, s, v in _sites(root, root, payload) if p and s.get("type") in kinds and "enum" not in s]
    if not sites:
        return Broken(payload, RESULT, "no scalar")
    path, schema = draw(st.sampled_from(sites))
    value = draw(st.sampled_from(kinds[schema["type"]]))
    return Broken(_replace(payload, path, value), _EXTREME_CODES[schema["type"]], f"{'/'.join(map(str, path))}: {value!r:.40}")
