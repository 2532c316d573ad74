"""Whole CSMS frames for the fuzz test, each with the answer OCPP-J 1.6 says it deserves.

Kinds of frame: valid requests, requests with one field broken, one huge string, unknown
actions, actions the CSMS never sends or this station does not serve, and frames broken at the
OCPP-J level (not JSON, not an array, an unknown MessageTypeId, wrong lengths, a bad UniqueId).

Frames that would make the station leave the fuzz are tamed rather than dropped, and only
these: Reset goes out broken only (an accepted one restarts the station); ChangeConfiguration
never names SecurityProfile or AuthorizationKey (an accepted change renews the link);
UpdateFirmware and GetDiagnostics point at closed ports on this machine and retry at most
twice, so no image is ever installed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass

from hypothesis import strategies as st

from chargepoint.vendors.wemob.silent_mode import MESSAGE_ID as JSON_DATA_MESSAGE
from tests.payloads import FORMATION, HUGE_SIZES, OCCURENCE, RESULT, Broken, broken, extreme, huge, nested, request_schema, valid

NOT_IMPLEMENTED = "NotImplemented"
NOT_SUPPORTED = "NotSupported"

# The CSMS's requests of OCPP 1.6, by feature profile (§3, the spec's profile tables).
PROFILE_ACTIONS = {
    "Core": (
        "ChangeAvailability", "ChangeConfiguration", "ClearCache", "DataTransfer", "GetConfiguration",
        "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector",
    ),
    "FirmwareManagement": ("GetDiagnostics", "UpdateFirmware"),
    "LocalAuthListManagement": ("GetLocalListVersion", "SendLocalList"),
    "Reservation": ("CancelReservation", "ReserveNow"),
    "SmartCharging": ("ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile"),
    "RemoteTrigger": ("TriggerMessage",),
    # The whitepaper's messages served on every vendor (app.features.WHITEPAPER), never advertised.
    "Security": (
        "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage", "GetInstalledCertificateIds", "GetLog",
        "InstallCertificate", "SignedUpdateFirmware",
    ),
}
CSMS_ACTIONS = tuple(sorted(a for actions in PROFILE_ACTIONS.values() for a in actions))
STATION_ACTIONS = (
    "Authorize", "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
    "MeterValues", "StartTransaction", "StatusNotification", "StopTransaction", "SecurityEventNotification",
)
RESTARTS = frozenset({"Reset"})
LINK_KEYS = frozenset({"SecurityProfile", "AuthorizationKey"})

UID = "\u0000uid\u0000"  # where the test puts a fresh UniqueId
_UID_JSON = json.dumps(UID)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Probe:
    """One frame and what must come back: RESULT, a CALLERROR code, or None for no answer."""

    kind: str
    text: str
    expect: str | None
    action: str | None = None
    what: str = ""
    id_length: int = 0  # pad the UniqueId to this length (a too-long one)
    binary: bool = False

    def unique_id(self, fresh: str) -> str:
        return fresh.rjust(self.id_length, "x")

    def frame(self, fresh: str) -> str | bytes:
        text = self.text.replace(_UID_JSON, json.dumps(self.unique_id(fresh)), 1)
        return text.encode() if self.binary else text

    def __repr__(self) -> str:
        text = self.text if len(self.text) < 300 else f"{self.text[:200]}...({len(self.text)} characters)"
        return f"Probe({self.kind}, {self.action}, expect={self.expect}, {self.what!r}, {text!r})"


def call(action: str, payload: object) -> str:
    """The CALL as text: é as its 2 UTF-8 bytes, not 6 escaped ones, and a lone surrogate (which
    no UTF-8 text can carry) as its JSON escape."""
    text = json.dumps([2, UID, action, payload], ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def probes(
    served: Collection[str], keys: Collection[str], vendors: Collection[str], json_data: Collection[str] = (),
    max_keys: int = 100,
) -> st.SearchStrategy[Probe]:
    """Frames for a station serving `served` actions, with configuration `keys`, answering
    DataTransfer for `vendors`, taking bare JSON data for the messageIds `json_data`, and
    reporting at most `max_keys` keys in one GetConfiguration."""
    overrides = _overrides(keys, vendors)

    def answer(action: str, deserved: str) -> str:
        return deserved if action in served else NOT_SUPPORTED

    def of(action: str, item: Broken, kind: str) -> Probe:
        expect = answer(action, RESULT if _lenient(action, item, json_data) else item.expect)
        return Probe(kind, call(action, item.payload), expect, action, item.what)

    tame = [a for a in CSMS_ACTIONS if a not in RESTARTS]
    valid_requests = st.one_of([
        _request(a, overrides).map(lambda p, a=a: Probe("valid", call(a, p), answer(a, RESULT), a)) for a in tame
    ])
    broken_requests = st.one_of([
        broken(a, overrides.get(a)).map(lambda b, a=a: of(a, b, "broken")) for a in CSMS_ACTIONS
    ])
    huge_requests = st.one_of([huge(a, overrides.get(a)).map(lambda b, a=a: of(a, b, "huge")) for a in tame])
    extremes = st.one_of([extreme(a, overrides.get(a)).map(lambda b, a=a: of(a, b, "extreme")) for a in tame])
    unserved = st.one_of([
        _request(a, {}).map(lambda p, a=a: Probe("not served", call(a, p), NOT_SUPPORTED, a))
        for a in STATION_ACTIONS if a not in served
    ])
    binary = st.sampled_from(("GetConfiguration", "ClearCache")).map(
        lambda a: Probe("envelope", call(a, {}), answer(a, RESULT), a, "as a binary WebSocket frame", binary=True))
    many_keys = st.integers(max_keys - 1, max_keys + 2).map(lambda n: Probe(
        "many keys", call("GetConfiguration", {"key": [f"K{i}" for i in range(n)]}),
        OCCURENCE if n > max_keys else RESULT, "GetConfiguration", f"{n} keys, GetConfigurationMaxKeys {max_keys}"))
    weighted = (
        (valid_requests, 30), (broken_requests, 35), (huge_requests, 8), (extremes, 8), (unserved, 7),
        (unknown_actions(), 5), (envelopes(), 12), (binary, 3), (many_keys, 2),
    )
    return st.sampled_from([kind for kind, weight in weighted for _ in range(weight)]).flatmap(lambda kind: kind)


def _request(action: str, overrides: dict[str, dict[str, st.SearchStrategy[object]]]) -> st.SearchStrategy[object]:
    root = request_schema(action)
    return valid(root, root, overrides.get(action))


def _lenient(action: str, item: Broken, json_data: Collection[str]) -> bool:
    """A DataTransfer whose handler takes bare JSON data (WEMOB's SilentModeSchedule) is valid
    with any non-null `data`."""
    payload = item.payload
    return (
        action == "DataTransfer" and isinstance(payload, dict) and isinstance(payload.get("messageId"), str)
        and payload["messageId"] in json_data
        and item.what.startswith("data:") and not isinstance(payload.get("data"), (str, type(None)))
    )


def _overrides(keys: Collection[str], vendors: Collection[str]) -> dict[str, dict[str, st.SearchStrategy[object]]]:
    """Values that reach the handlers' own rules more often than random text would."""
    names = sorted(set(keys) - LINK_KEYS)
    key = st.one_of(st.sampled_from(names), st.text(max_size=50)).filter(lambda k: k not in LINK_KEYS)
    value = st.one_of(
        st.text(max_size=500), st.integers(-5, 100_000).map(str), st.sampled_from(("true", "false", "Energy.Active.Import.Register"))
    )
    retries = st.integers(0, 2)
    return {
        "ChangeConfiguration": {"key": key, "value": value},
        "GetConfiguration": {"key": st.lists(st.one_of(st.sampled_from(names), st.text(max_size=50)), max_size=4)},
        "DataTransfer": {
            "vendorId": st.one_of(st.sampled_from(sorted(vendors)), st.text(max_size=255)),
            "messageId": st.one_of(st.just(JSON_DATA_MESSAGE), st.text(max_size=50)),
        },
        "UpdateFirmware": {"retries": retries, "retryInterval": retries},
        "GetDiagnostics": {"retries": retries, "retryInterval": retries},
    }


def unknown_actions() -> st.SearchStrategy[Probe]:
    known = set(CSMS_ACTIONS + STATION_ACTIONS + ("DataTransfer", "SignCertificate"))
    names = st.one_of(
        st.text(max_size=40),
        st.sampled_from(CSMS_ACTIONS).map(str.lower),
        st.sampled_from(CSMS_ACTIONS).map(lambda a: a + " "),
        st.sampled_from(("GetVariables", "SetVariables", "RequestStartTransaction", "reset")),
        st.sampled_from(HUGE_SIZES).map(lambda n: "A" * n),
    ).filter(lambda a: a not in known)
    return names.map(lambda a: Probe("unknown action", call(a, {}), NOT_IMPLEMENTED, a[:40]))


def envelopes() -> st.SearchStrategy[Probe]:
    """Frames broken at the OCPP-J level (§4.1, §4.2)."""
    ignored = st.sampled_from((
        "", "not json", "[2,", "{", "[2, 'single', 'quotes', {}]", '[2, "a", "Heartbeat", {}]]', "\u00e9\u0000",
        '[2, "nan", "Heartbeat", {"x": NaN}]', '[2, "inf", "Heartbeat", {"x": -Infinity}]',  # not JSON (RFC 8259)
        "{}", '{"a": 1}', "[]", "2", '"text"', "null", "true",  # not an array
        '[2, 17, "Heartbeat", {}]', '[2, null, "Heartbeat", {}]', '[2, ["a"], "Heartbeat", {}]', "[2]",  # no UniqueId
        '[0, "t0", {}]', '[1, "t1", "Heartbeat", {}]', '[5, "t5", "Heartbeat", {}]', '[9, "t9"]',  # §4.1.3: ignored
        '[-2, "tm", "Heartbeat", {}]', '["2", "ts", "Heartbeat", {}]', '[2.5, "tf", "Heartbeat", {}]',
        '[null, "tn", "Heartbeat", {}]',
        '[3, "no-such-call", {}]', '[4, "no-such-call", "GenericError", "", {}]',  # answers to nothing
        '[3, "no-such-call"]', '[4, "no-such-call", "GenericError"]',
    )).map(lambda t: Probe("envelope", t, None, what="ignored"))
    misshapen = st.sampled_from((
        [2, UID], [2, UID, "Heartbeat"], [2, UID, "Heartbeat", {}, {}], [2, UID, 17, {}], [2, UID, None, {}],
        [2, UID, "Heartbeat", [1]], [2, UID, "Heartbeat", "{}"], [2, UID, "Heartbeat", 0],
    )).map(lambda f: Probe("envelope", json.dumps(f), FORMATION, what="misshapen CALL"))
    too_deep = st.sampled_from((5_000, 100_000)).map(
        lambda d: Probe("envelope", '[2, "deep", "DataTransfer", {"vendorId": "x", "data": ' + "[" * d + "]" * d + "}]",
                        None, "DataTransfer", f"nested {d} deep: beyond any parser"))
    long_id = st.sampled_from((37, 64, 1_000)).map(
        lambda n: Probe("envelope", call("Heartbeat", {}), FORMATION, "Heartbeat", f"UniqueId of {n}", id_length=n))
    deep_valid = st.sampled_from((50, 400)).map(
        lambda d: Probe("envelope", call("DataTransfer", {"vendorId": "x", "data": "x", "y": nested(d)}), FORMATION,
                        "DataTransfer", f"unknown property nested {d} deep"))
    return st.one_of(ignored, misshapen, too_deep, long_id, deep_valid)
