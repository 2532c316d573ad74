"""The container image and the Kubernetes manifest of a fleet (deploy/): a multi-stage build,
a non-root runtime with its data in a volume, nothing secret in either, and an Indexed Job whose
K pods of N stations each share the identities out without overlap (`fleet run --index`)."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from chargepoint.app.cli import _parser
from tests.conftest import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
JOB = ROOT / "deploy" / "fleet-job.yaml"
SECRET_WORDS = re.compile(r"password|secret|token|private|authorization", re.IGNORECASE)


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip()]


def _stages(path: Path) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions(path):
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _job() -> dict[str, Any]:
    return next(d for d in yaml.safe_load_all(JOB.read_text()) if d["kind"] == "Job")


def _fleet_parser() -> argparse.ArgumentParser:
    """The `fleet` subcommand's parser, where this build has one (the fleet package adds it)."""
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    if "fleet" not in commands.choices:
        pytest.skip("this build has no `chargepoint fleet` command yet")
    return _parser()


def test_the_image_is_built_in_one_stage_and_run_from_a_slim_one_as_a_non_root_user() -> None:
    builder, runtime = _stages(DOCKERFILE)
    assert builder[0][1].endswith("AS builder") and any("pip wheel" in args for _, args in builder)
    assert "-slim" in runtime[0][1]
    installs = [args for name, args in runtime if name == "RUN"]
    assert any("from=builder" in args and "--no-index" in args for args in installs), installs  # only the wheels built
    users = [args for name, args in runtime if name == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert '"/var/lib/chargepoint"' in dict(runtime)["VOLUME"]
    assert dict(runtime)["ENTRYPOINT"] == '["chargepoint"]'
    assert dict(runtime)["CMD"].startswith('["fleet", "run"')
    for name, args in builder + runtime:
        assert not (name in ("ENV", "ARG") and SECRET_WORDS.search(args)), (name, args)


def test_the_build_context_holds_only_what_the_wheel_is_built_from() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"  # everything else (.venv, .git, data directories, settings files) stays out
    copies = [args.split()[:-1] for stage in _stages(DOCKERFILE) for name, args in stage if name == "COPY" and "--from" not in args]
    copied = {source.rstrip("/") for sources in copies for source in sources}
    allowed = {line.removeprefix("!").rstrip("/") for line in lines if line.startswith("!")}
    assert copied <= allowed, copied - allowed


def test_the_job_is_indexed_with_every_pod_running_at_once() -> None:
    spec = _job()["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] >= 1
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and "memory" in container["resources"]["limits"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/var/lib/chargepoint", "/out"} <= mounts


def test_each_pod_runs_its_own_identities_and_writes_its_own_summary() -> None:
    (container,) = _job()["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    index = env["JOB_COMPLETION_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert index == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    assert env["CSMS_URL"]["value"].startswith(("ws://", "wss://"))
    args = container["args"]
    assert args[:2] == ["fleet", "run"]
    option = {args[i]: args[i + 1] for i in range(2, len(args) - 1) if args[i].startswith("--")}
    assert option["--index"] == "$(JOB_COMPLETION_INDEX)" and option["--csms"] == "$(CSMS_URL)"
    assert "$(JOB_COMPLETION_INDEX)" in option["--json-summary"] and option["--json-summary"].startswith("/out/")
    assert "{n" in option["--identity"] and int(option["--count"]) >= 1
    for entry in container["env"]:
        assert not SECRET_WORDS.search(entry["name"]) or "valueFrom" in entry, entry  # secrets by reference only


def test_the_image_and_the_job_give_arguments_the_fleet_command_takes() -> None:
    parser = _fleet_parser()
    cmd = yaml.safe_load(dict(_stages(DOCKERFILE)[-1])["CMD"])
    parser.parse_args(cmd)
    (container,) = _job()["spec"]["template"]["spec"]["containers"]
    expanded = [a.replace("$(JOB_COMPLETION_INDEX)", "3").replace("$(CSMS_URL)", "ws://csms:9000/ocpp") for a in container["args"]]
    parser.parse_args(expanded)


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _docker_works(), reason="no Docker daemon here (`docker info` fails)")
def test_the_image_builds_and_runs_as_a_non_root_user() -> None:
    tag = f"chargepoint-test:{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-f", str(DOCKERFILE), "-t", tag, str(ROOT)], check=True, timeout=900)
    try:
        version = subprocess.run(["docker", "run", "--rm", tag, "--version"], capture_output=True, text=True, timeout=60)
        assert version.returncode == 0 and "chargepoint" in version.stdout, version
        user = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True, text=True, timeout=60)
        assert user.stdout.strip() == "10001", user
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=60)
