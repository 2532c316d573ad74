"""Running scenarios: one fresh station each, steps in order, the first failure ends it.

Steps that need the CSMS's operator go through an injectable `Operator`: the CLI's prints the
instruction, the self-test's CSMS carries it out. Every expectation searches the frames from
the scenario's latest action on, so answers to the same action may come in any order.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from chargepoint.control.server import CommandError
from chargepoint.scenarios.cases import Scenario, Step
from chargepoint.scenarios.checks import DATETIME, POSITIVE, UNIQUE, mismatches, placeholders, resolve, value_at
from chargepoint.scenarios.frames import CSMS, STATION, Exchange, FrameWatch, NoSuchExchange
from chargepoint.scenarios.relay import Relay
from chargepoint.scenarios.schema import schema_problem
from chargepoint.scenarios.station import ScenarioStation

SETTLE_POLL, SETTLE_POLLS = 0.01, 500
BOOTED = {"status": "Accepted", "currentTime": DATETIME, "interval": POSITIVE}


@dataclass(frozen=True)
class Instruction:
    """What the CSMS's operator is asked to do: `action` and `payload` when it is a request
    to send, `task` (e.g. "boot-pending") when it is a setting to make."""

    text: str
    identity: str
    task: str | None = None
    action: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


Operator = Callable[[Instruction], Awaitable[None]]


@dataclass(frozen=True)
class StepResult:
    number: int
    text: str
    passed: bool | None  # None: not run, an earlier step failed
    detail: str = ""  # what was expected against what was received, or what the station said


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    steps: tuple[StepResult, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(step.passed for step in self.steps)

    @property
    def failure(self) -> StepResult | None:
        return next((step for step in self.steps if step.passed is False), None)


@dataclass(frozen=True)
class RunOptions:
    csms_url: str
    identity: str
    settings: dict[str, Any] = field(default_factory=dict)  # Settings fields of every scenario's station
    tags: dict[str, str] = field(default_factory=dict)  # the idTags the CSMS knows and its file URLs, by name
    time_scale: float = 1.0  # multiplies every timeout and wait
    operator_timeout: float | None = None  # s a person gets for each request asked of them; None: the step's


class StepFailed(Exception):
    pass


class Runner:
    def __init__(self, options: RunOptions, operator: Operator, report: Callable[[str], None] = lambda line: None) -> None:
        self.options = options
        self.operator = operator
        self.report = report
        self.used: dict[str, set[Any]] = defaultdict(set)  # run-wide, for {unique}

    async def run(self, scenarios: list[Scenario]) -> list[ScenarioResult]:
        return [await self.run_one(scenario) for scenario in scenarios]

    async def run_one(self, scenario: Scenario) -> ScenarioResult:
        self.report(f"{scenario.mirrors}  {scenario.title}  ({scenario.name})")
        started = time.monotonic()
        results = await _ScenarioRun(self, scenario).steps()
        return ScenarioResult(scenario, tuple(results), time.monotonic() - started)


class _ScenarioRun:
    """One scenario's station, relay, frames and saved values."""

    def __init__(self, runner: Runner, scenario: Scenario) -> None:
        self._runner = runner
        self._options = runner.options
        self._scenario = scenario
        self._watch = FrameWatch()
        self._relay: Relay | None = None
        self._station: ScenarioStation | None = None
        self._names: dict[str, Any] = {**self._options.tags, "identity": self._options.identity}
        self._mark = 0

    async def steps(self) -> list[StepResult]:
        results: list[StepResult] = []
        try:
            steps = await self._prepare()
        except StepFailed as exc:
            return self._finish(results, [Step("do", "start")], exc)
        try:
            for number, step in enumerate(steps, start=1):
                try:
                    detail = await self._step(step)
                except StepFailed as exc:
                    return self._finish(results, steps[number - 1:], exc)
                text = self._text(step)
                results.append(StepResult(number, text, True, detail))
                self._runner.report(f"  PASS  {number:2d}  {text}" + (f": {detail}" if detail else ""))
            return results
        finally:
            if self._station is not None:
                await self._station.close()
            if self._relay is not None:
                await self._relay.close()

    def _finish(self, results: list[StepResult], rest: list[Step], exc: StepFailed) -> list[StepResult]:
        first = len(results) + 1
        station_failure = self._station.failure() if self._station else None
        detail = f"{exc}; {station_failure}" if station_failure else str(exc)
        text = self._text(rest[0])
        results.append(StepResult(first, text, False, detail))
        self._runner.report(f"  FAIL  {first:2d}  {text}: {detail}")
        for number, step in enumerate(rest[1:], start=first + 1):
            text = self._text(step)
            results.append(StepResult(number, text, None))
            self._runner.report(f"  SKIP  {number:2d}  {text}")
        return results

    def _text(self, step: Step) -> str:
        """The step as it ran: tags and saved values filled in."""
        return str(self._resolve(step.text))

    async def _prepare(self) -> list[Step]:
        """The station and, where the scenario cuts the link, the relay (so the others meet
        the CSMS at its own address); the boot steps an automatic start implies."""
        url = self._options.csms_url
        parts = urlsplit(url)
        if parts.scheme == "ws" and any(step.name in ("offline", "online") for step in self._scenario.steps):
            self._relay = Relay(parts.hostname or "127.0.0.1", parts.port or 80)
            url = f"ws://127.0.0.1:{await self._relay.start()}{parts.path}"
        settings = {**self._options.settings, **self._scenario.station, "csms_url": url, "identity": self._options.identity}
        settings.setdefault("reconnect_max_delay", max(0.1, self._options.time_scale))
        try:
            self._station = ScenarioStation(settings, self._scenario.keys, self._watch.record)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            raise StepFailed(f"the station's settings are refused: {where}: {error['msg']}") from None
        steps = list(self._scenario.steps)
        if self._scenario.auto_start:
            self._station.start()
            count = self._station.connectors
            boot = [Step("expect", "BootNotification", check=dict(BOOTED))]
            steps = boot + [Step("expect", "StatusNotification", where={"connectorId": n}) for n in range(count + 1)] + steps
        return steps

    def _timeout(self, step: Step) -> float:
        if step.kind == "request" and self._options.operator_timeout is not None:
            return self._options.operator_timeout
        return step.timeout * self._options.time_scale

    async def _step(self, step: Step) -> str:
        if step.kind == "expect":
            return self._checked_answer(step, await self._exchange(STATION, step))
        await self._settle()
        self._mark = len(self._watch.frames)
        if step.kind == "do":
            return await self._do(step)
        instruction = self._instruction(step)
        await self._runner.operator(instruction)
        if step.kind == "operator":
            return ""
        return self._checked_request(step, instruction.payload, await self._exchange(CSMS, step))

    async def _settle(self) -> None:
        """Before an action, until the station has acted on the answers it got: a person at
        the CSMS or the station is never quicker than that, and a power cut in between would
        test the microsecond, not the CSMS."""
        station = self._station
        assert station is not None
        for _ in range(SETTLE_POLLS):
            if station.settled():
                return
            await asyncio.sleep(SETTLE_POLL)

    async def _exchange(self, sender: str, step: Step) -> Exchange:
        where = self._resolve(step.where)
        try:
            return await self._watch.exchange(sender, step.name, where, self._mark, self._timeout(step))
        except NoSuchExchange as exc:
            raise StepFailed(str(exc)) from None

    def _checked_answer(self, step: Step, exchange: Exchange) -> str:
        """The CSMS's answer to a CALL of the station: in time, no CALLERROR, by the schema, as expected."""
        answer = exchange.response
        if answer is None:
            raise StepFailed(f"the CSMS did not answer {step.name} within {self._timeout(step):g} s")
        if exchange.answered_with_error:
            error = answer.payload
            raise StepFailed(f"expected a CALLRESULT to {step.name}, received CALLERROR {error['errorCode']}: {error['errorDescription']}")
        broken = schema_problem(3, step.name, answer.payload)
        if broken:
            raise StepFailed(f"the CSMS's {step.name} answer breaks the OCPP 1.6 schema: {broken}")
        self._expect(step, step.check, answer.payload, f"the CSMS's {step.name} answer")
        self._save(step, answer.payload, exchange.request.payload)
        return ""

    def _checked_request(self, step: Step, asked: dict[str, Any], exchange: Exchange) -> str:
        """A CALL of the CSMS: by the schema, holding the payload asked for (as the operator
        was told it, times included), and answered as the scenario expects."""
        payload = exchange.request.payload
        broken = schema_problem(2, step.name, payload)
        if broken:
            raise StepFailed(f"the CSMS's {step.name} breaks the OCPP 1.6 schema: {broken}")
        self._expect(step, asked, payload, f"the CSMS's {step.name}")
        reply = exchange.response
        if reply is None:
            raise StepFailed(f"the station did not answer {step.name} within {self._timeout(step):g} s")
        self._expect(step, step.reply, reply.payload, f"the station's answer to {step.name}")
        self._save(step, payload, reply.payload)
        return ""

    def _expect(self, step: Step, check: Mapping[str, Any], actual: Any, what: str) -> None:
        expected = self._resolve(check)
        used = {path: self._runner.used[f"{step.name}.{path}"] for path in expected}
        problems = mismatches(expected, actual, used)
        if problems:
            raise StepFailed(f"{what}: {'; '.join(problems)}")
        for path, wanted in expected.items():
            if wanted == UNIQUE:
                self._runner.used[f"{step.name}.{path}"].add(value_at(actual, path))

    def _save(self, step: Step, first: Any, second: Any) -> None:
        for name, path in step.save.items():
            value = value_at(first, path)
            self._names[name] = value if value is not None else value_at(second, path)

    def _instruction(self, step: Step) -> Instruction:
        payload = self._resolve(step.check) if step.kind == "request" else {}
        missing = placeholders(payload)
        if missing:
            name = sorted(missing)[0]
            raise StepFailed(f"this step needs the {name.replace('_', ' ')}: --{name.replace('_', '-')}")
        text = self._resolve(step.operator) if step.operator else f"send {step.name} {payload}"
        action = step.name if step.kind == "request" else None
        task = step.name if step.kind == "operator" else None
        return Instruction(str(text), self._options.identity, task, action, payload)

    def _resolve(self, value: Any) -> Any:
        return resolve(value, self._names, datetime.now(UTC), self._options.time_scale)

    async def _do(self, step: Step) -> str:
        station, relay = self._station, self._relay
        assert station is not None
        if step.name == "start":
            station.start()
        elif step.name == "wait":
            await asyncio.sleep(float(step.args["seconds"]) * self._options.time_scale)
        elif step.name == "power-cut":
            await station.power_cut()
        elif step.name in ("offline", "online"):
            if relay is None:
                raise StepFailed("offline steps need a ws:// CSMS: the run cuts the link in a relay of its own")
            relay.cut() if step.name == "offline" else relay.restore()
        else:
            return await self._bench(station, step)
        return ""

    async def _bench(self, station: ScenarioStation, step: Step) -> str:
        """A bench command's message; one the station refuses is reported, not failed: the
        refusal (a card the CSMS declared invalid) is often the point of the scenario."""
        request = {"command": step.name, **self._resolve(step.args)}
        try:
            async with asyncio.timeout(self._timeout(step)):
                return str((await station.command(request))["message"])
        except CommandError as exc:
            return f"refused: {exc}"
        except TimeoutError:
            raise StepFailed(f"{step.name} had no outcome within {self._timeout(step):g} s") from None
