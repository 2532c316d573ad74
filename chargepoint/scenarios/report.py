"""What a run tells its user: a summary line, and JUnit XML for a CI pipeline (one testcase
per scenario; a failure names its step and what was expected against what was received)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from chargepoint.scenarios.runner import ScenarioResult, StepResult


def summary(results: list[ScenarioResult]) -> str:
    failed = [r.scenario.mirrors for r in results if not r.passed]
    line = f"{len(results)} scenarios: {len(results) - len(failed)} passed, {len(failed)} failed"
    return line + (f" ({', '.join(failed)})" if failed else "")


def junit(results: list[ScenarioResult]) -> ET.ElementTree:
    failures = sum(not r.passed for r in results)
    seconds = sum(r.seconds for r in results)
    suites = ET.Element("testsuites", tests=str(len(results)), failures=str(failures), time=f"{seconds:.3f}")
    suite = ET.SubElement(
        suites, "testsuite", name="chargepoint scenarios", tests=str(len(results)), failures=str(failures),
        errors="0", skipped="0", time=f"{seconds:.3f}",
    )
    for result in results:
        case = ET.SubElement(
            suite, "testcase", classname=f"scenarios.{result.scenario.name}",
            name=f"{result.scenario.mirrors} {result.scenario.title}", time=f"{result.seconds:.3f}",
        )
        failed = result.failure
        if failed is not None:
            message = f"step {failed.number} ({failed.text}): {failed.detail}"
            failure = ET.SubElement(case, "failure", message=message, type="ScenarioFailure")
            failure.text = "\n".join(_step_line(step) for step in result.steps)
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_junit(results: list[ScenarioResult], path: Path) -> None:
    junit(results).write(path, encoding="utf-8", xml_declaration=True)


def _step_line(step: StepResult) -> str:
    state = {True: "PASS", False: "FAIL", None: "SKIP"}[step.passed]
    return f"{state} {step.number}. {step.text}" + (f": {step.detail}" if step.detail else "")
