"""The scenarios' self-test CSMSes, built on tests/csms.py: one that behaves as the spec says
and carries out every operator instruction, and knobs to make it misbehave in chosen ways."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from chargepoint.scenarios.command import DEFAULT_TAGS
from chargepoint.scenarios.runner import Instruction
from tests.csms import CALL, Csms

# The operator tasks a person does in the CSMS's UI, as this CSMS's knobs.
TASKS: dict[str, Callable[[Csms], None]] = {
    "boot-pending": lambda csms: _boot(csms, "Pending", 1),
    "boot-rejected": lambda csms: _boot(csms, "Rejected", 1),
    "boot-accepted": lambda csms: _boot(csms, "Accepted", 60),
}


def _boot(csms: Csms, status: str, interval: int) -> None:
    csms.boot_status, csms.boot_interval = status, interval


def correct_csms() -> Csms:
    """Knows the run's idTags: the valid ones Accepted (valid2 under the parent tag), the rest as named."""
    tags = DEFAULT_TAGS
    return Csms(
        id_tags={
            tags["invalid"]: {"status": "Invalid"},
            tags["blocked"]: {"status": "Blocked"},
            tags["expired"]: {"status": "Expired"},
            tags["valid"]: {"status": "Accepted", "parentIdTag": tags["parent"]},
            tags["valid2"]: {"status": "Accepted", "parentIdTag": tags["parent"]},
        }
    )


class Operator:
    """Carries out instructions on `csms`; `skip` holds the requests it 'forgets' to send and
    `rewrite` turns a request's payload into the one it sends instead."""

    def __init__(self, csms: Csms) -> None:
        self.csms = csms
        self.skip: set[str] = set()
        self.rewrite: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self.seen: list[Instruction] = []

    async def __call__(self, instruction: Instruction) -> None:
        self.seen.append(instruction)
        if instruction.task is not None:
            TASKS[instruction.task](self.csms)
            return
        assert instruction.action is not None
        if instruction.action in self.skip:
            return
        payload = self.rewrite.get(instruction.action, lambda p: p)(instruction.payload)
        await self.csms.send_raw(json.dumps([CALL, str(uuid.uuid4()), instruction.action, payload]))
