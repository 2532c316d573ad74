"""`chargepoint scenario`: every shipped scenario passes against a CSMS that follows the spec,
each planted misbehaviour fails the scenario aimed at it with a line saying what was expected
and what came, the JUnit report counts right, and the CLI's exit codes tell CI the outcome."""

from __future__ import annotations

import asyncio
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chargepoint.app import cli
from chargepoint.infra.clock import Clock
from chargepoint.infra.secrets import SecretScrubber
from chargepoint.link.framelog import FrameLog
from chargepoint.scenarios.frames import FrameWatch
from chargepoint.scenarios.cases import ScenarioError, catalogue, parse, select
from chargepoint.scenarios.checks import mismatches, resolve
from chargepoint.scenarios.command import DEFAULT_TAGS, STATION
from chargepoint.scenarios.report import junit, summary
from chargepoint.scenarios.runner import RunOptions, Runner, ScenarioResult
from tests.conftest import ROOT, CliResult
from tests.csms import Csms
from tests.file_servers import HttpFileServer, make_file
from tests.scenario_csms import Operator, correct_csms

# Every timeout and wait scaled: 15 s becomes 1.5 s where a step is meant to fail and time out,
# 3 s where all should pass (slack for a loaded machine: a passing step never waits it out).
SCALE, PASSING_SCALE = 0.1, 0.2
RUNS = 4


async def _run(
    csms: Csms, operator: Operator, names: list[str], locations: dict[str, str] | None = None, scale: float = SCALE
) -> tuple[list[ScenarioResult], list[str]]:
    lines: list[str] = []
    options = RunOptions(csms.url, "CP-SCN", dict(STATION), DEFAULT_TAGS | (locations or {}), scale)
    return await Runner(options, operator, lines.append).run(select(names)), lines


async def _correct_run(names: list[str], locations: dict[str, str]) -> tuple[list[ScenarioResult], list[str], Operator]:
    async with correct_csms() as csms:
        operator = Operator(csms)
        results, lines = await _run(csms, operator, names, locations, PASSING_SCALE)
    return results, lines, operator


async def test_the_correct_csms_passes_every_scenario(tmp_path: Path) -> None:
    names = [scenario.name for scenario in catalogue()]
    async with HttpFileServer(tmp_path / "files") as files:
        make_file(files.root / "wemob-2.4.0.bin", 4096)
        locations = {"firmware_url": files.url("/wemob-2.4.0.bin"), "diagnostics_url": files.url("/upload/")}
        # Runs side by side, each with its own CSMS and station: most steps wait on the clock.
        halves = await asyncio.gather(*(_correct_run(names[n::RUNS], locations) for n in range(RUNS)))
    results = [result for half in halves for result in half[0]]
    lines = [line for half in halves for line in half[1]]
    seen = [instruction for half in halves for instruction in half[2].seen]
    failed = [line for line in lines if "FAIL" in line]
    assert not failed, "\n".join(lines)
    assert len(results) >= 60 and summary(results) == f"{len(results)} scenarios: {len(results)} passed, 0 failed"
    assert {"RemoteStartTransaction", "Reset", "ReserveNow", "SetChargingProfile"} <= {i.action for i in seen}
    assert [p for p in files.uploads.iterdir()] and ("GET", "/wemob-2.4.0.bin") in [r[:2] for r in files.requests]
    assert {"boot-pending", "boot-rejected"} <= {i.task for i in seen}
    path = tmp_path / "report.xml"
    junit(results).write(path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == (str(len(results)), "0")
    assert len(suite.findall("testcase")) == len(results) and not suite.findall("testcase/failure")


def _accepts_invalid(csms: Csms, operator: Operator) -> None:
    del csms.id_tags[DEFAULT_TAGS["invalid"]]


def _boot_without_time(csms: Csms, operator: Operator) -> None:
    csms.answers["BootNotification"] = lambda request: {"status": "Accepted", "interval": 0}


def _boot_interval_zero(csms: Csms, operator: Operator) -> None:
    csms.boot_interval = 0


def _forgets_remote_start(csms: Csms, operator: Operator) -> None:
    operator.skip.add("RemoteStartTransaction")


def _start_without_id(csms: Csms, operator: Operator) -> None:
    csms.answers["StartTransaction"] = lambda request: {"idTagInfo": {"status": "Accepted"}}


def _start_with_one_id(csms: Csms, operator: Operator) -> None:
    csms.answers["StartTransaction"] = lambda request: {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}


def _authorize_error(csms: Csms, operator: Operator) -> None:
    csms.errors["Authorize"] = "InternalError"


def _malformed_change(csms: Csms, operator: Operator) -> None:
    operator.rewrite["ChangeConfiguration"] = lambda payload: {**payload, "value": 17}


# (misbehaviour, scenarios run, the one that must fail, its failing step's line)
MISBEHAVIOURS: list[tuple[Callable[[Csms, Operator], None], list[str], str, str]] = [
    (_accepts_invalid, ["tc_023_1_csms"], "TC_023_1_CSMS",
     "FAIL   7  station sends Authorize: the CSMS's answer: the CSMS's Authorize answer: idTagInfo.status: expected 'Invalid', received 'Accepted'"),
    (_boot_without_time, ["tc_001_csms"], "TC_001_CSMS",
     "FAIL   1  station sends BootNotification: the CSMS's answer: the CSMS's BootNotification answer breaks the OCPP 1.6 schema: the payload: 'currentTime' is a required property"),
    (_boot_interval_zero, ["tc_003_csms"], "TC_003_CSMS",
     "FAIL   1  station sends BootNotification: the CSMS's answer: the CSMS's BootNotification answer: interval: expected a number above 0, received 0"),
    (_forgets_remote_start, ["tc_010_csms"], "TC_010_CSMS",
     "FAIL   7  the CSMS sends RemoteStartTransaction: no RemoteStartTransaction from the CSMS within 1.5 s; it sent no CALL since the last action"),
    (_start_without_id, ["tc_003_csms"], "TC_003_CSMS",
     "FAIL   9  station sends StartTransaction: the CSMS's answer: the CSMS's StartTransaction answer breaks the OCPP 1.6 schema: the payload: 'transactionId' is a required property"),
    (_start_with_one_id, ["tc_003_csms", "tc_004_1_csms"], "TC_004_1_CSMS",
     "FAIL   9  station sends StartTransaction: the CSMS's answer: the CSMS's StartTransaction answer: transactionId: expected a value not used before in this run, received 7 again"),
    (_authorize_error, ["tc_023_2_csms"], "TC_023_2_CSMS",
     "FAIL   7  station sends Authorize: the CSMS's answer: expected a CALLRESULT to Authorize, received CALLERROR InternalError: injected by test CSMS"),
    (_malformed_change, ["tc_021_csms"], "TC_021_CSMS",
     "FAIL   4  the CSMS sends ChangeConfiguration: the CSMS's ChangeConfiguration breaks the OCPP 1.6 schema: value: 17 is not of type 'string'"),
]


async def test_each_planted_misbehaviour_fails_the_scenario_that_targets_it() -> None:
    for plant, names, target, line in MISBEHAVIOURS:
        async with correct_csms() as csms:
            operator = Operator(csms)
            plant(csms, operator)
            results, lines = await _run(csms, operator, names)
        assert f"  {line}" in lines, f"{plant.__name__}:\n" + "\n".join(lines)
        assert [r.scenario.mirrors for r in results if not r.passed] == [target], "\n".join(lines)
        step = results[-1].failure
        assert step is not None and line == f"FAIL {step.number:3d}  {step.text}: {step.detail}"
        failures = ET.fromstring(ET.tostring(junit(results).getroot())).findall("testsuite/testcase/failure")
        assert [f.get("message") for f in failures] == [f"step {step.number} ({step.text}): {step.detail}"]


async def test_a_step_that_needs_a_file_location_says_which_option_gives_it() -> None:
    async with correct_csms() as csms:
        results, lines = await _run(csms, Operator(csms), ["tc_044_1_csms"])
    assert "  FAIL   4  the CSMS sends UpdateFirmware: this step needs the firmware url: --firmware-url" in lines, lines
    assert not results[0].passed


async def test_a_scenario_file_s_bad_station_setting_fails_its_first_step(tmp_path: Path) -> None:
    mine = tmp_path / "eight-plus.toml"
    mine.write_text("mirrors = 'TC_003_CSMS'\ntitle = 'many'\nsteps = [{do = 'plug', connector = 9}]\n[station]\nconnectors = 99\n")
    results = await Runner(RunOptions("ws://127.0.0.1:9/ocpp", "CP-SCN", dict(STATION)), Operator(Csms())).run(select([str(mine)]))
    failure = results[0].failure
    assert failure is not None and failure.detail == "the station's settings are refused: connectors: Input should be less than or equal to 8"


def test_the_frame_log_shows_a_run_every_frame_with_its_secrets_masked() -> None:
    scrubber = SecretScrubber()
    scrubber.add("00112233445566778899aabbccddeeff")
    log = FrameLog(None, Clock(), scrubber)  # no file: the observer still sees every frame
    watch = FrameWatch()
    log.listen(watch.record)
    log.record("in", '[2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"00112233445566778899aabbccddeeff"}]')
    log.record("out", '[3,"1",{"status":"Accepted"}]')
    call_frame, answer = watch.frames
    assert (call_frame.sender, call_frame.action, answer.sender, answer.action) == ("CSMS", "ChangeConfiguration", "station", "ChangeConfiguration")
    assert "00112233" not in str(call_frame.payload) and answer.payload == {"status": "Accepted"}


def test_every_shipped_scenario_names_the_test_case_it_mirrors() -> None:
    scenarios = catalogue()
    assert len(scenarios) >= 60
    for scenario in scenarios:
        assert re.fullmatch(r"TC_\d{3}(_\d)?_CS(MS)?", scenario.mirrors), scenario.name
        assert scenario.name.startswith(scenario.mirrors.lower()) or scenario.name.startswith("change_availability"), scenario.name


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("mirrors = 'TC_1'\ntitle = 't'\n", "mine.toml: steps: at least one [[steps]] table is required"),
        ("mirrors = 'TC_1'\nsteps = [{do = 'start'}]\n", "mine.toml: title: a non-empty string is required"),
        ("mirrors = 'TC_1'\ntitle = 't'\nsteps = [{do = 'dance'}]\n", "steps[1]: do: unknown action 'dance'"),
        ("mirrors = 'TC_1'\ntitle = 't'\nsteps = [{expect = 'Authorize', where = {idTag = '{nobody}'}}]\n", "steps[1]: {nobody} names no tag"),
        ("mirrors = 'TC_1'\ntitle = 't'\nsteps = [{do = 'plug', expect = 'Authorize'}]\n", "one of do, expect, request per step"),
        ("mirrors = 'TC_1'\ntitle = 't'\ncolour = 'red'\nsteps = [{do = 'start'}]\n", "unknown field 'colour'"),
        ("mirrors = [\n", "not TOML"),
    ],
)
def test_a_bad_scenario_file_is_refused_naming_the_field(text: str, error: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(error)):
        parse("mine", text)


@pytest.mark.parametrize(
    ("expected", "actual", "problems"),
    [
        ({"status": "Accepted"}, {"status": "Accepted"}, []),
        ({"idTagInfo.status": "Invalid"}, {"idTagInfo": {"status": "Accepted"}}, ["idTagInfo.status: expected 'Invalid', received 'Accepted'"]),
        ({"interval": "{positive}"}, {"interval": 0}, ["interval: expected a number above 0, received 0"]),
        ({"currentTime": "{datetime}"}, {}, ["currentTime: expected a dateTime, received nothing"]),
        ({"currentTime": "{datetime}"}, {"currentTime": "yesterday"}, ["currentTime: expected an ISO 8601 dateTime, received 'yesterday'"]),
        ({"unknownKey": "{absent}"}, {"unknownKey": ["X"]}, ["unknownKey: expected no value, received ['X']"]),
        ({"transactionId": "{unique}"}, {"transactionId": 7}, ["transactionId: expected a value not used before in this run, received 7 again"]),
        ({"transactionId": 7}, {"transactionId": "7"}, ["transactionId: expected 7, received '7'"]),
        ({"limit": 16}, {"limit": 16.0}, []),
    ],
)
def test_what_the_csms_sent_against_what_was_expected(expected: dict[str, Any], actual: Any, problems: list[str]) -> None:
    assert mismatches(expected, actual, {"transactionId": {7}}) == problems


def test_placeholders_keep_the_saved_value_s_type() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    names = {"tx": 42, "valid": "TAG"}
    assert resolve({"transactionId": "{tx}", "text": "stop {tx} of {valid}", "at": "{in:60}"}, names, now, 0.5) == {
        "transactionId": 42, "text": "stop 42 of TAG", "at": "2026-01-01T00:00:30Z",
    }


async def _cli(*args: str) -> CliResult:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chargepoint", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return CliResult(process.returncode, out.decode(), err.decode())


async def test_the_cli_lists_runs_and_exits_by_the_outcome(tmp_path: Path) -> None:
    listing = await _cli("scenario", "list")
    assert listing.code == 0 and len(listing.out.splitlines()) == len(catalogue())
    assert re.search(r"^tc_003_csms +TC_003_CSMS +Regular charging session - plugin first$", listing.out, re.M)

    async with correct_csms() as csms:
        del csms.id_tags[DEFAULT_TAGS["invalid"]]  # the CSMS takes an unknown card as Accepted
        report = tmp_path / "report.xml"
        run = await _cli("scenario", "run", "TC_003_CSMS", "tc_023_1_csms", "--csms", csms.url, "--time-scale", str(SCALE), "--junit", str(report))
    assert run.code == 1, run
    assert "  PASS  14  station sends StatusNotification (connectorId=1, status=Available): the CSMS's answer" in run.out
    assert "FAIL   7  station sends Authorize: the CSMS's answer: the CSMS's Authorize answer: idTagInfo.status: expected 'Invalid'" in run.out
    assert run.out.splitlines()[-1] == "2 scenarios: 1 passed, 1 failed (TC_023_1_CSMS)"
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("2", "1")

    async with correct_csms() as csms:
        passing = await _cli("scenario", "run", "tc_003_csms", "--csms", csms.url, "--time-scale", str(SCALE))
    assert (passing.code, passing.out.splitlines()[-1]) == (0, "1 scenarios: 1 passed, 0 failed"), passing


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["run", "TC_999_CSMS", "--csms", "ws://127.0.0.1:1/ocpp"], "chargepoint: unknown scenario 'TC_999_CSMS'; `chargepoint scenario list` shows the"),
        (["run", "missing.toml", "--csms", "ws://127.0.0.1:1/ocpp"], "chargepoint: missing.toml: cannot read it"),
        (["run", "--csms", "http://127.0.0.1:1/ocpp"], "chargepoint: --csms must be a ws:// or wss:// URL, not 'http://127.0.0.1:1/ocpp'"),
        (["run"], "chargepoint scenario run: the following arguments are required: --csms"),
        (["run", "--csms", "ws://127.0.0.1:1", "--operator-timeout", "0"], "chargepoint: --operator-timeout must be above 0"),
    ],
)
def test_a_bad_name_file_or_argument_is_one_line_and_exit_2(
    args: list[str], error: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHARGEPOINT_CONFIG", raising=False)
    try:
        code = cli.main(["scenario", *args])
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(error) and len(err.splitlines()) == 1, err
