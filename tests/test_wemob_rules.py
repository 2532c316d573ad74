"""WEMOB's pure rules, from tables: the SilentModeSchedule (manual §4.4.3.1, table 4.6), the
entry in force through the day, and the illustrative cabinet model behind silent mode."""

from __future__ import annotations

import pytest

from chargepoint.vendors.wemob.schedule import Entry, ScheduleRejected, parse_schedule, seconds_to_next_entry, silenced_at
from chargepoint.vendors.wemob.thermal import CONSTANTS, at_rest, fan_speed, power_share, step

MANUAL_EXAMPLE = '[{"startPeriod": 28800, "enable": 0}, {"startPeriod": 64800, "enable": 1}]'


@pytest.mark.parametrize(
    ("data", "entries"),
    [
        (MANUAL_EXAMPLE, (Entry(28800, False), Entry(64800, True))),
        ([{"startPeriod": 64800, "enable": 1}, {"startPeriod": 28800, "enable": 0}], (Entry(28800, False), Entry(64800, True))),
        ("[]", ()),
        ('[{"startPeriod": 0, "enable": 1}, {"startPeriod": 86400, "enable": 0}]', (Entry(0, True), Entry(86400, False))),
        ([{"startPeriod": n * 3600, "enable": n % 2} for n in range(24)], tuple(Entry(n * 3600, n % 2 == 1) for n in range(24))),
    ],
)
def test_a_schedule_is_read_from_text_or_from_the_bare_array(data: object, entries: tuple[Entry, ...]) -> None:
    assert parse_schedule(data) == entries


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("[{'startPeriod': 28800, 'enable': 0}]", "not JSON"),  # the manual's own quotes
        ('{"startPeriod": 0, "enable": 1}', "JSON array"),
        ('"[]"', "JSON array"),
        ('[{"enable": 1}]', "lacks startPeriod"),
        ('[{"startPeriod": 10}]', "lacks enable"),
        ('[{"startPeriod": 10, "enable": 1, "stop": 2}]', "unknown field stop"),
        ('[{"startPeriod": -1, "enable": 1}]', "0 to 86400"),
        ('[{"startPeriod": 86401, "enable": 1}]', "0 to 86400"),
        ('[{"startPeriod": 10.5, "enable": 1}]', "whole number"),
        ('[{"startPeriod": "10", "enable": 1}]', "whole number"),
        ('[{"startPeriod": 10, "enable": 2}]', "0 or 1"),
        ('[{"startPeriod": 10, "enable": true}]', "0 or 1"),
        ('[{"startPeriod": 10, "enable": 1}, {"startPeriod": 10, "enable": 0}]', "more than once"),
        ("[1]", "not an object"),
        (str([{"startPeriod": n, "enable": 1} for n in range(25)]).replace("'", '"'), "at most 24"),
    ],
)
def test_a_malformed_schedule_is_refused_whole_with_its_reason(data: str, reason: str) -> None:
    with pytest.raises(ScheduleRejected, match=reason):
        parse_schedule(data)


EXAMPLE = parse_schedule(MANUAL_EXAMPLE)


@pytest.mark.parametrize(
    ("second", "silenced", "until_next"),
    [
        (0, True, 28800),  # before the day's first entry, yesterday's last (18:00 on) holds
        (28799, True, 1),
        (28800, False, 36000),
        (64799.5, False, 0.5),
        (64800, True, 86400 - 64800 + 28800),
        (86399, True, 28801),
    ],
)
def test_the_entry_in_force_recurs_daily(second: float, silenced: bool, until_next: float) -> None:
    assert silenced_at(EXAMPLE, second) is silenced
    assert seconds_to_next_entry(EXAMPLE, second) == until_next


def test_no_schedule_never_silences_and_never_wakes() -> None:
    assert silenced_at((), 1000) is False
    assert seconds_to_next_entry((), 1000) is None


def _run(power_kw: float, silent: bool, seconds: int) -> tuple[float, float, float]:
    cabinet = at_rest()
    for _ in range(seconds):
        cabinet = step(cabinet, power_kw, 1.0, silent)
    return cabinet.temperature_c, cabinet.fan, power_share(cabinet.temperature_c, silent)


def test_without_silent_mode_the_fan_runs_up_and_the_power_holds() -> None:
    temperature, fan, share = _run(50, silent=False, seconds=120)
    assert fan == 1.0 and share == 1.0
    assert temperature < CONSTANTS.derate_start_c


def test_in_silent_mode_the_fan_is_capped_and_a_hot_cabinet_lowers_the_power() -> None:
    temperature, fan, share = _run(50, silent=True, seconds=120)
    assert fan == CONSTANTS.silent_fan_max
    assert temperature > CONSTANTS.derate_start_c
    assert CONSTANTS.derate_floor <= share < 1.0


@pytest.mark.parametrize(
    ("temperature", "silent", "fan"),
    [(25, False, CONSTANTS.fan_min), (35, False, 0.5), (45, False, 1.0), (35, True, CONSTANTS.silent_fan_max), (25, True, CONSTANTS.fan_min)],
)
def test_the_fan_follows_the_temperature_up_to_the_silent_cap(temperature: float, silent: bool, fan: float) -> None:
    assert fan_speed(temperature, silent) == pytest.approx(fan)


def test_an_idle_cabinet_cools_back_to_ambient() -> None:
    hot = step(at_rest(), 50, 60, silent=True)
    cabinet = hot
    for _ in range(600):
        cabinet = step(cabinet, 0, 1.0, silent=True)
    assert hot.temperature_c > 40 and cabinet.temperature_c == pytest.approx(CONSTANTS.ambient_c, abs=0.5)
