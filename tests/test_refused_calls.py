"""A CALL the station refuses costs one line in its log, never a traceback, and the CSMS still
gets the CALLERROR that says why (issue 12, item 7)."""

from __future__ import annotations

import re

from tests.conftest import booted

# A log line starts with its time; anything else is the continuation of one (a traceback).
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")
# (action, payload, the CALLERROR code the CSMS must get)
REFUSED = [
    ("TriggerMessage", {"requestedMessage": "Heartbeat"}, "NotSupported"),  # WEMOB has no Remote Trigger
    ("Teleport", {}, "NotImplemented"),  # not an OCPP 1.6 action
    ("GetConfiguration", {"key": [f"K{n}" for n in range(101)]}, "OccurenceConstraintViolation"),  # > MaxKeys
    ("UpdateFirmware", {"location": "http://127.0.0.1/fw.bin", "retrieveDate": "soon"}, "TypeConstraintViolation"),
]


async def test_each_refused_call_is_one_log_line_and_its_callerror(csms, make_daemon) -> None:
    daemon = make_daemon(csms, profile="wemob", log_level="INFO")
    await booted(csms, daemon)
    mark = len(daemon.logs())
    for action, payload, code in REFUSED:
        answer = await csms.call_raw(action, payload)
        assert answer[0] == 4 and answer[2] == code, (action, answer)
    assert await daemon.stop() == 0
    lines = daemon.logs()[mark:].splitlines()
    assert [line for line in lines if not LOG_LINE.match(line)] == []
    assert "Traceback" not in daemon.logs()
    refusals = [line for line in lines if any(f" {name}: " in line for name in ("chargepoint.link.endpoint", "ocpp"))]
    assert len(refusals) == len(REFUSED), "\n".join(refusals)
    for (action, _, _), line in zip(REFUSED, refusals):
        assert action in line, line
