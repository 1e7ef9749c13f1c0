"""The `everything` fixture: `@modelcontextprotocol/server-everything` over stdio (install-mcp-test-servers.sh)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tui_agent.tools.mcp.config import ServerConfig

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = ROOT / ".cache/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"


@pytest.fixture
def everything() -> ServerConfig:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not EVERYTHING.exists():
        pytest.fail("@modelcontextprotocol/server-everything is not installed: run scripts/install-mcp-test-servers.sh")
    return ServerConfig("everything", "stdio", command="node", args=(str(EVERYTHING), "stdio"))
