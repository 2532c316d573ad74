"""The package layout holds what DESIGN.md promises: no import circle anywhere, features reach
the CSMS only through the outbox, and every CSMS action has exactly one owner."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from ocpp.routing import create_route_map

from chargepoint.app.features import FEATURES
from chargepoint.app.layout import package_document

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("chargepoint", "configkeys", "drivers")
# Packages that hold features: none may touch the WebSocket side of the link or the app.
FEATURE_PACKAGES = (
    "authorization", "connector", "core", "diagnostics", "firmware", "metering", "remote_trigger", "reservation",
    "smart_charging", "transactions", "transfer", "vendors",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every module imported at module level, TYPE_CHECKING blocks included (those still shape
    the design); imports inside functions are deliberate late binding and left out."""
    found: set[str] = set()
    body = ast.parse(path.read_text()).body
    nodes: list[ast.stmt] = []
    for node in body:
        nodes.extend(node.body if isinstance(node, ast.If) else [node])
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, set(modules)) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_circle() -> None:
    assert _cycles(_graph()) == []


def test_the_circle_check_sees_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", FEATURE_PACKAGES)
def test_features_reach_the_csms_only_through_the_outbox(package: str) -> None:
    graph = _graph()
    for module, imported in graph.items():
        if not module.startswith(f"chargepoint.{package}"):
            continue
        forbidden = {
            name
            for name in imported
            if name.startswith(("chargepoint.app", "chargepoint.control"))
            or (name.startswith("chargepoint.link") and name not in ("chargepoint.link", "chargepoint.link.outbox"))
        }
        assert not forbidden, f"{module} imports {sorted(forbidden)}"


def test_every_feature_declares_its_profile_and_no_action_has_two_owners() -> None:
    owners: dict[str, str] = {}
    for feature in FEATURES:
        assert feature.profile, feature.__name__
        for action in create_route_map(feature):
            assert action not in owners, f"{action}: {owners[action]} and {feature.__name__}"
            owners[action] = feature.__name__
    assert {"RemoteStartTransaction", "SendLocalList", "TriggerMessage", "DataTransfer"} <= set(owners)


def test_docs_packages_is_generated_from_the_package_docstrings() -> None:
    document = ROOT / "docs" / "packages.md"
    assert document.read_text() == package_document(), "run `make docs`"
    assert "SendLocalList" in document.read_text()


def test_a_bench_command_starts_without_the_cryptography_it_does_not_use() -> None:
    """Every `chargepoint status` or `plug` pays for what the CLI imports: keys and signatures
    are loaded by the commands and the station that use them (about 0.1 s on a board)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, chargepoint.app.cli; print(sorted({m.split('.')[0] for m in sys.modules}))"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    assert "'cryptography'" not in loaded and "'aiohttp'" not in loaded, loaded
