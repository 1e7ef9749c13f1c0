"""The official MCP conformance suite (npm, Node >= 22 from scripts/node.sh) against our client, OAuth and server.
Missing Node or suite: skipped on a developer's machine, a failure in CI (CI set), naming the reason."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_fixtures import unavailable

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / ".cache/mcp-conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"


def _script():
    spec = importlib.util.spec_from_file_location("mcp_conformance", ROOT / "scripts/mcp_conformance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["client", "auth", "server"])
def test_conformance_suite_matches_the_baseline(kind):
    if not SUITE.exists():
        unavailable("the MCP conformance suite is not installed: run scripts/node.sh --conformance (bootstrap does)")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/mcp_conformance.py"), kind], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert f"{kind} 2025-11-25:" in proc.stdout and f"{kind} 2026-07-28:" in proc.stdout
    assert "BELOW MINIMUM" not in proc.stdout


@pytest.mark.unit
def test_fewer_passing_scenarios_or_checks_than_today_is_a_regression():
    script = _script()
    assert {kind for kind, _ in script.MINIMUM} == {"client", "auth", "server"}
    assert {spec for _, spec in script.MINIMUM} == set(script.SPECS)
    least = script.MINIMUM[("client", "2026-07-28")]
    assert script.below_minimum("client", "2026-07-28", *least) is None
    assert "BELOW MINIMUM: client 2026-07-28" in script.below_minimum("client", "2026-07-28", least[0] - 1, least[1])
    assert script.below_minimum("auth", "2025-11-25", 99, 0) is not None  # a check that vanished counts too


@pytest.mark.unit
def test_a_missing_suite_or_node_is_unavailable_in_ci_and_skipped_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        unavailable("node is not installed")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        unavailable("node is not installed")
