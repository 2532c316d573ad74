"""The exchange as a scenario sees it: every frame the station's frame log records, parsed,
with each answer paired to its CALL, and waits for the next exchange that fits a step."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chargepoint.scenarios.checks import mismatches

CALL, CALLRESULT, CALLERROR = 2, 3, 4
STATION, CSMS = "station", "CSMS"


@dataclass(frozen=True)
class Frame:
    index: int
    sender: str  # STATION or CSMS
    kind: int | None  # CALL, CALLRESULT, CALLERROR; None for a frame that is none of them
    unique_id: str | None
    action: str | None  # a response's is its CALL's
    payload: Any  # a CALLERROR's is {"errorCode", "errorDescription"}


@dataclass(frozen=True)
class Exchange:
    request: Frame
    response: Frame | None  # None: unanswered within the step's time

    @property
    def answered_with_error(self) -> bool:
        return self.response is not None and self.response.kind == CALLERROR


class NoSuchExchange(Exception):
    """The step's CALL did not come in time; the message says what came instead."""


class FrameWatch:
    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self._actions: dict[tuple[str, str], str] = {}
        self._arrived = asyncio.Event()

    def record(self, line: Mapping[str, Any]) -> None:
        """The frame log's listener: direction 'in' is from the CSMS; the frame is parsed JSON,
        or the text of one that is not."""
        sender = CSMS if line["direction"] == "in" else STATION
        self.frames.append(self._parse(sender, line["frame"]))
        self._arrived.set()
        self._arrived = asyncio.Event()

    def _parse(self, sender: str, message: Any) -> Frame:
        index = len(self.frames)
        if not isinstance(message, list) or len(message) < 3 or message[0] not in (CALL, CALLRESULT, CALLERROR):
            return Frame(index, sender, None, None, None, message)
        kind, unique_id = message[0], str(message[1])
        if kind == CALL:
            action = str(message[2])
            self._actions[(sender, unique_id)] = action
            return Frame(index, sender, kind, unique_id, action, message[3] if len(message) > 3 else None)
        other = STATION if sender == CSMS else CSMS
        answered = self._actions.get((other, unique_id))
        if kind == CALLRESULT:
            return Frame(index, sender, kind, unique_id, answered, message[2])
        error = {"errorCode": message[2], "errorDescription": message[3] if len(message) > 3 else ""}
        return Frame(index, sender, kind, unique_id, answered, error)

    async def exchange(
        self, sender: str, action: str, where: Mapping[str, Any], after: int, timeout: float
    ) -> Exchange:
        """The first CALL of `action` from `sender` at or after frame `after` whose payload
        holds `where`, with its answer (None if none comes within `timeout`)."""

        def is_call(frame: Frame) -> bool:
            return (
                frame.sender == sender and frame.kind == CALL and frame.action == action
                and not mismatches(where, frame.payload, {})
            )

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        request = await self._first(is_call, after, deadline)
        if request is None:
            raise NoSuchExchange(f"no {action} from the {sender} within {timeout:g} s; {self._seen(sender, after)}")

        def answers(frame: Frame) -> bool:
            return frame.sender != sender and frame.kind in (CALLRESULT, CALLERROR) and frame.unique_id == request.unique_id

        return Exchange(request, await self._first(answers, request.index, deadline))

    async def _first(self, match: Callable[[Frame], bool], start: int, deadline: float) -> Frame | None:
        index = start
        loop = asyncio.get_running_loop()
        while True:
            arrived = self._arrived
            for frame in self.frames[index:]:
                if match(frame):
                    return frame
            index = len(self.frames)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(arrived.wait(), remaining)
            except TimeoutError:
                return None

    def _seen(self, sender: str, after: int) -> str:
        calls = [str(f.action) for f in self.frames[after:] if f.sender == sender and f.kind == CALL]
        return f"its CALLs since the last action: {', '.join(calls[-8:])}" if calls else "it sent no CALL since the last action"
