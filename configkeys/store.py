"""The station's live configuration: values, their persistence, and who hears of changes.

Precedence of a value: what the station dictates (`fixed`), then what was written and
stored, then the installation's seed (`initial`), then the catalogue default. Only writable
keys are read back from storage, so a model or firmware change that turns a key read-only
takes effect on the next start.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from configkeys.keydef import KeyDef
from configkeys.validation import Invalid, normalise, split_csl

log = logging.getLogger(__name__)

Validator = Callable[[str], str | None]
Subscriber = Callable[[str], None]


class KeyValueStorage(Protocol):
    def load_keys(self) -> dict[str, str]: ...

    def save_key(self, name: str, value: str) -> None: ...


class ChangeStatus(StrEnum):
    """ChangeConfiguration.conf statuses; members compare equal to the OCPP strings."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"


@dataclass(frozen=True)
class ChangeOutcome:
    """A ChangeConfiguration verdict and why a change was refused: the CSMS hears only the
    status (ChangeConfiguration.conf has no field for more); the station's log and the
    technician at `chargepoint config set` get the reason too. A reason never quotes a
    string value, so a refused AuthorizationKey cannot reach an output."""

    status: ChangeStatus
    reason: str | None = None


@dataclass(frozen=True)
class KeyReport:
    """One GetConfiguration.conf configurationKey entry; value None when the key is unset."""

    key: str
    readonly: bool
    value: str | None


class TooManyKeys(Exception):
    """A GetConfiguration asked for more keys than GetConfigurationMaxKeys allows."""

    def __init__(self, requested: int, limit: int) -> None:
        super().__init__(f"GetConfiguration asked for {requested} keys; GetConfigurationMaxKeys is {limit}")
        self.requested = requested
        self.limit = limit


class Configuration:
    def __init__(
        self,
        catalogue: Mapping[str, KeyDef],
        storage: KeyValueStorage,
        fixed: Mapping[str, str] | None = None,
        initial: Mapping[str, str] | None = None,
    ) -> None:
        self._catalogue = dict(catalogue)
        # OCPP key names are CiString: a CSMS may send any letter case.
        self._names = {name.lower(): name for name in self._catalogue}
        self._storage = storage
        self._fixed = dict(fixed or {})
        self._initial = dict(initial or {})
        unknown = sorted(set(self._fixed) - set(self._catalogue))
        if unknown:
            raise ValueError(f"fixed values for keys this model does not serve: {', '.join(unknown)}")
        self._validators: dict[str, list[Validator]] = {}
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._stored: dict[str, str] = {}
        for name, value in storage.load_keys().items():
            key = self._catalogue.get(name)
            if key is not None and key.access.writable and not isinstance(self._check(key, value), Invalid):
                self._stored[name] = value

    def has(self, key: str) -> bool:
        return self._resolve(key) is not None

    def readable(self, key: str) -> bool:
        """Whether the value may leave the station (logs, GetConfiguration); False if unknown."""
        definition = self._resolve(key)
        return definition is not None and definition.access.readable

    def value(self, key: str) -> str | None:
        """The current value, write-only keys included: the station itself may read them."""
        name = self._definition(key).name
        for source in (self._fixed, self._stored, self._initial):
            if name in source:
                return source[name]
        return self._catalogue[name].default

    def integer(self, key: str) -> int:
        return int(self._required(key))

    def boolean(self, key: str) -> bool:
        return self._required(key) == "true"

    def csl(self, key: str) -> list[str]:
        return split_csl(self.value(key) or "")

    def get(self, keys: Sequence[str] | None = None) -> tuple[list[KeyReport], list[str]]:
        """GetConfiguration: (configurationKey, unknownKey).

        Write-only keys are never reported. Asked for by name, they go to unknownKey: OCPP
        1.6 has no "write-only" answer, and the Security Whitepaper makes AuthorizationKey
        write-only precisely so a CSMS reading keys never receives it.
        """
        if not keys:
            return [self._report(key) for key in self._catalogue.values() if key.access.readable], []
        limit = self.integer("GetConfigurationMaxKeys") if self.has("GetConfigurationMaxKeys") else None
        if limit is not None and len(keys) > limit:
            raise TooManyKeys(len(keys), limit)
        reports: list[KeyReport] = []
        unknown: list[str] = []
        for requested in dict.fromkeys(keys):
            key = self._resolve(requested)
            if key is not None and key.access.readable:
                reports.append(self._report(key))
            else:
                unknown.append(requested)
        return reports, unknown

    def change(self, key: str, value: str) -> ChangeStatus:
        """ChangeConfiguration; see `change_with_reason`."""
        return self.change_with_reason(key, value).status

    def change_with_reason(self, key: str, value: str) -> ChangeOutcome:
        """ChangeConfiguration: validate, persist, then tell subscribers.

        The value is on storage before the status is returned, so an Accepted the CSMS sees
        survives a power cut right after it.
        """
        definition = self._resolve(key)
        if definition is None:
            close = self.suggestion(key)
            return ChangeOutcome(
                ChangeStatus.NOT_SUPPORTED,
                "not a key of this station" + (f"; did you mean {close}?" if close else ""),
            )
        if not definition.access.writable:
            return ChangeOutcome(ChangeStatus.REJECTED, "read-only")
        checked = self._check(definition, value)
        if isinstance(checked, Invalid):
            return ChangeOutcome(ChangeStatus.REJECTED, checked.reason)
        for validator in self._validators.get(definition.name, []):
            reason = validator(checked)
            if reason is not None:
                return ChangeOutcome(ChangeStatus.REJECTED, reason)
        self._storage.save_key(definition.name, checked)
        self._stored[definition.name] = checked
        self._notify(definition.name, checked)
        return ChangeOutcome(ChangeStatus.REBOOT_REQUIRED if definition.reboot_required else ChangeStatus.ACCEPTED)

    def suggestion(self, key: str) -> str | None:
        """The served key a mistyped name most likely meant, e.g. HeartbeatInterval for
        HeartBeatIntervall; None when no name is close."""
        close = difflib.get_close_matches(key.lower(), self._names, n=1)
        return self._names[close[0]] if close else None

    def shown(self, key: str, value: str) -> str:
        """`value` as a log may show it: the value of a write-only or unknown key (perhaps a
        mistyped AuthorizationKey) stays inside the station."""
        return value if self.readable(key) else "(write-only value)"

    def restore(self, key: str, value: str) -> None:
        """Put back a value the station itself held before, past the feature rules but not the
        type check: the SecurityProfile fallback (whitepaper A05.FR.08) must go down again."""
        definition = self._definition(key)
        checked = self._check(definition, value)
        if isinstance(checked, Invalid):
            raise ValueError(f"{definition.name}={value!r}: {checked.reason}")
        self._storage.save_key(definition.name, checked)
        self._stored[definition.name] = checked
        self._notify(definition.name, checked)

    def add_validator(self, key: str, validator: Validator) -> None:
        """An extra rule from a feature module; it returns a reason to refuse, or None."""
        self._validators.setdefault(self._definition(key).name, []).append(validator)

    def subscribe(self, key: str, subscriber: Subscriber) -> None:
        """Called with the new canonical value after every accepted change of `key`."""
        self._subscribers.setdefault(self._definition(key).name, []).append(subscriber)

    def _notify(self, name: str, value: str) -> None:
        # The change is already stored and will be reported as accepted; one faulty
        # listener must not hide it from the others.
        for subscriber in self._subscribers.get(name, []):
            try:
                subscriber(value)
            except Exception:
                log.exception("subscriber of %s failed", name)

    def _check(self, key: KeyDef, value: str) -> str | Invalid:
        cap = self.value(key.max_items_key) if key.max_items_key and self.has(key.max_items_key) else None
        return normalise(key, value, None if cap is None else int(cap))

    def _report(self, key: KeyDef) -> KeyReport:
        readonly = not key.access.writable or key.name in self._fixed
        return KeyReport(key.name, readonly, self.value(key.name))

    def _resolve(self, key: str) -> KeyDef | None:
        name = self._names.get(key.lower())
        return None if name is None else self._catalogue[name]

    def _definition(self, key: str) -> KeyDef:
        definition = self._resolve(key)
        if definition is None:
            raise KeyError(f"configuration key {key!r} is not served by this station")
        return definition

    def _required(self, key: str) -> str:
        value = self.value(key)
        if value is None:
            raise ValueError(f"configuration key {key!r} has no value")
        return value
