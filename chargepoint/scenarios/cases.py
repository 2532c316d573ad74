"""Scenario files: TOML, read with tomllib, checked whole before anything runs.

A file names the test case it mirrors and a title, optional station settings and keys, and
its steps, each one of:
  do = "plug" (a bench command, its arguments beside it) or a run action (RUN_ACTIONS);
  expect = "Authorize": a CALL the station sends, `where` its fields, `answer` what the CSMS's
      answer must hold;
  request = "RemoteStartTransaction": a CALL the CSMS must send, `payload` what it must hold,
      `operator` the instruction that makes a person send it, `reply` the station's answer;
  operator = "...", task = "boot-pending": an instruction with no request to wait for.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from chargepoint.scenarios.checks import placeholders

BENCH_COMMANDS = frozenset({"plug", "unplug", "swipe", "ev", "fault", "lock", "estop", "config-set"})
RUN_ACTIONS = frozenset({"start", "offline", "online", "power-cut", "wait"})
TAGS = ("valid", "valid2", "invalid", "blocked", "expired", "parent")
LOCATIONS = ("firmware_url", "diagnostics_url")  # where the CSMS's files are: given by the run
DEFAULT_TIMEOUT = 15.0
_SCENARIO_FIELDS = {"mirrors", "title", "station", "keys", "start", "steps"}
_STEP_FIELDS = {"do", "expect", "request", "operator", "task", "where", "answer", "payload", "reply", "save", "timeout"}


class ScenarioError(Exception):
    """A scenario that cannot be run: the message names the file and the field."""


@dataclass(frozen=True)
class Step:
    kind: str  # "do", "expect", "request" or "operator"
    name: str  # the bench command or run action, the CALL's action, or the operator task
    args: dict[str, Any] = field(default_factory=dict)  # a bench command's arguments
    where: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)  # the CSMS's answer or request must hold
    reply: dict[str, Any] = field(default_factory=dict)  # the station's answer must hold
    save: dict[str, str] = field(default_factory=dict)  # name -> path in the matched exchange
    operator: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def text(self) -> str:
        """How the step reads in the run's output."""
        if self.kind == "do":
            shown = " ".join(f"{k}={v}" for k, v in self.args.items())
            return f"{self.name} {shown}".rstrip()
        if self.kind == "expect":
            where = ", ".join(f"{k}={v}" for k, v in self.where.items())
            return f"station sends {self.name}" + (f" ({where})" if where else "") + ": the CSMS's answer"
        if self.kind == "request":
            return f"the CSMS sends {self.name}"
        return f"operator: {self.operator}"


@dataclass(frozen=True)
class Scenario:
    name: str
    mirrors: str
    title: str
    steps: tuple[Step, ...]
    station: dict[str, Any] = field(default_factory=dict)  # Settings fields
    keys: dict[str, str] = field(default_factory=dict)  # configuration keys before the start
    auto_start: bool = True


def catalogue() -> list[Scenario]:
    """Every scenario shipped in the package, by name."""
    folder = resources.files("chargepoint.scenarios") / "cases"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    return [parse(f.name.removesuffix(".toml"), f.read_text(encoding="utf-8")) for f in files]


def select(names: list[str]) -> list[Scenario]:
    """The named scenarios (a shipped name in any letter case, or a .toml file), in the order
    given; all of them when none is named."""
    shipped = catalogue()
    if not names:
        return shipped
    by_name = {s.name.lower(): s for s in shipped}
    chosen = []
    for name in names:
        if name.endswith(".toml"):
            chosen.append(load_file(Path(name)))
        elif name.lower() in by_name:
            chosen.append(by_name[name.lower()])
        else:
            raise ScenarioError(f"unknown scenario {name!r}; `chargepoint scenario list` shows the {len(shipped)} there are")
    return chosen


def load_file(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc})") from None
    return parse(path.stem, text, str(path))


def parse(name: str, text: str, where: str | None = None) -> Scenario:
    source = where or f"{name}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not TOML ({exc})") from None
    try:
        return _scenario(name, data)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def _scenario(name: str, data: dict[str, Any]) -> Scenario:
    unknown = set(data) - _SCENARIO_FIELDS
    if unknown:
        raise ScenarioError(f"unknown field {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_SCENARIO_FIELDS))}")
    for required in ("mirrors", "title"):
        if not isinstance(data.get(required), str) or not data[required]:
            raise ScenarioError(f"{required}: a non-empty string is required")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ScenarioError("steps: at least one [[steps]] table is required")
    if data.get("start", "auto") not in ("auto", "manual"):
        raise ScenarioError("start: 'auto' or 'manual'")
    for table in ("station", "keys"):
        if not isinstance(data.get(table, {}), dict):
            raise ScenarioError(f"{table}: a table is required")
    known = {*TAGS, *LOCATIONS, "identity"}
    parsed = []
    for number, raw in enumerate(steps, start=1):
        try:
            step = _step(raw)
            missing = placeholders([step.args, step.where, step.check, step.reply, step.operator]) - known
            if missing:
                raise ScenarioError(f"{{{sorted(missing)[0]}}} names no tag and no value saved by an earlier step")
        except ScenarioError as exc:
            raise ScenarioError(f"steps[{number}]: {exc}") from None
        known |= set(step.save)
        parsed.append(step)
    keys = {str(k): _key_value(v) for k, v in data.get("keys", {}).items()}
    return Scenario(
        name, data["mirrors"], data["title"], tuple(parsed), dict(data.get("station", {})), keys, data.get("start", "auto") == "auto"
    )


def _key_value(value: Any) -> str:
    """Keys hold text; TOML's true and 5 are written as OCPP writes them."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _step(raw: Any) -> Step:
    if not isinstance(raw, dict):
        raise ScenarioError("a table is required")
    kinds = [k for k in ("do", "expect", "request") if k in raw]
    if len(kinds) > 1:
        raise ScenarioError(f"one of do, expect, request per step, not {' and '.join(kinds)}")
    kind = kinds[0] if kinds else "operator"
    timeout = raw.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ScenarioError("timeout: seconds above 0")
    tables = {name: raw.get(name, {}) for name in ("where", "answer", "payload", "reply", "save")}
    for table, value in tables.items():
        if not isinstance(value, dict):
            raise ScenarioError(f"{table}: a table is required")
    operator = raw.get("operator")
    if operator is not None and not isinstance(operator, str):
        raise ScenarioError("operator: the instruction, as text")
    if kind == "do":
        return _do_step(raw, float(timeout))
    unknown = set(raw) - _STEP_FIELDS
    if unknown:
        raise ScenarioError(f"unknown field {sorted(unknown)[0]!r}")
    if kind == "operator":
        if operator is None or not isinstance(raw.get("task"), str):
            raise ScenarioError("a step needs do, expect or request, or an operator instruction with its task")
        return Step("operator", raw["task"], operator=operator, timeout=float(timeout))
    name = raw[kind]
    if not isinstance(name, str) or not name[:1].isupper():
        raise ScenarioError(f"{kind}: an OCPP action name, e.g. 'Authorize'")
    check = tables["answer"] if kind == "expect" else tables["payload"]
    return Step(
        kind, name, where=tables["where"], check=check, reply=tables["reply"], save=tables["save"], operator=operator,
        timeout=float(timeout),
    )


def _do_step(raw: dict[str, Any], timeout: float) -> Step:
    name = raw["do"]
    if name not in BENCH_COMMANDS | RUN_ACTIONS:
        allowed = ", ".join(sorted(BENCH_COMMANDS | RUN_ACTIONS))
        raise ScenarioError(f"do: unknown action {name!r}; one of: {allowed}")
    args = {k: v for k, v in raw.items() if k not in ("do", "timeout")}
    if name == "wait" and not isinstance(args.get("seconds"), (int, float)):
        raise ScenarioError("wait: seconds = N is required")
    return Step("do", name, args=args, timeout=timeout)
