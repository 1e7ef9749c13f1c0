"""The official MCP conformance suite (npm, Node >= 22 from scripts/node.sh) against our client, OAuth and server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / ".cache/mcp-conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["client", "auth", "server"])
def test_conformance_suite_matches_the_baseline(kind):
    if not SUITE.exists():
        pytest.skip("the MCP conformance suite is not installed: run scripts/node.sh --conformance (bootstrap does)")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/mcp_conformance.py"), kind], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert f"{kind} 2025-11-25:" in proc.stdout and f"{kind} 2026-07-28:" in proc.stdout
