"""`tui-agent mcp serve` advertises only what it offers, names its version, and answers -32602 for unknown names."""

from __future__ import annotations

import pytest
from mcp import Client, MCPError

from tui_agent import __version__
from tui_agent.mcp_server import SandboxTools, build_server

pytestmark = pytest.mark.unit


class NoSandbox:
    """Never started: these tests only list and refuse."""

    async def start(self) -> None:
        raise AssertionError("the sandbox should not be needed")

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("mode", ["legacy", "auto"])  # a 2025-11-25 handshake, and the 2026-07-28 discover
async def test_capabilities_version_and_unknown_names(tmp_path, mode):
    server = build_server(SandboxTools(tmp_path, NoSandbox()))
    async with Client(server, mode=mode) as client:
        caps = client.server_capabilities
        assert caps is not None and caps.tools is not None
        assert caps.prompts is None and caps.resources is None
        assert not caps.tools.list_changed
        assert client.server_info is not None and client.server_info.version == __version__ != ""
        assert {t.name for t in (await client.list_tools()).tools} == {
            "run_command", "run_python", "read_file", "write_file", "list_files"}
        with pytest.raises(MCPError) as err:
            await client.call_tool("no_such_tool", {})
        assert err.value.code == -32602 and "no_such_tool" in str(err.value)
        with pytest.raises(MCPError) as err:
            await client.get_prompt("no_such_prompt")
        assert err.value.code == -32602 and "no_such_prompt" in str(err.value)
