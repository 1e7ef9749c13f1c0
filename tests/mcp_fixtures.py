"""The `everything` fixture: `@modelcontextprotocol/server-everything` over stdio (install-mcp-test-servers.sh).
What it needs missing: skipped on a developer's machine, a failure in CI (CI set), naming what is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tui_agent.tools.mcp.config import ServerConfig

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = ROOT / ".cache/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"


def unavailable(reason: str) -> None:
    """Something a test needs is not installed: fail in CI (a silent skip would hide it), skip elsewhere."""
    (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)


@pytest.fixture
def everything() -> ServerConfig:
    if shutil.which("node") is None:
        unavailable("node is not installed (scripts/bootstrap.sh installs it)")
    if not EVERYTHING.exists():
        pytest.fail("@modelcontextprotocol/server-everything is not installed: run scripts/install-mcp-test-servers.sh")
    return ServerConfig("everything", "stdio", command="node", args=(str(EVERYTHING), "stdio"))
