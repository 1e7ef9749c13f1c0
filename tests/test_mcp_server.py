"""`tui-agent mcp serve`: the sandbox tools over streamable HTTP and stdio, called by the `mcp` client."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from tui_agent import sandbox as sandboxes
from tui_agent.mcp_server import SandboxTools, build_server, serve_async
from tui_agent.sandbox.base import RunResult


class HostSandbox:
    """Test double for a backend: runs the command on the host in the workspace (the real ones are tested below)."""

    name = "host-test"

    def __init__(self, workspace: Path) -> None:
        self.workspace, self.started, self.closed = workspace, 0, 0
        self.commands: list[str] = []

    async def start(self) -> None:
        self.started += 1

    async def close(self) -> None:
        self.closed += 1

    async def run(self, command, on_output, timeout_s=None) -> RunResult:
        self.commands.append(command)
        started = time.monotonic()
        proc = await asyncio.create_subprocess_shell(command, cwd=self.workspace, stdout=asyncio.subprocess.PIPE,
                                                     stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        try:
            async with asyncio.timeout(timeout_s):
                assert proc.stdout is not None
                async for line in proc.stdout:
                    on_output("stdout", line.decode())
                code = await proc.wait()
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            return RunResult(None, time.monotonic() - started, timed_out=True)
        return RunResult(code, time.monotonic() - started)


def text(result) -> str:
    return "\n".join(block.text for block in result.content)


@pytest.fixture
async def http_server(tmp_path):
    box = HostSandbox(tmp_path)
    url = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve_async(tmp_path, box, "http", 0, ready=url.set_result, stop=stop))
    yield await asyncio.wait_for(url, 10), box
    stop.set()
    await asyncio.wait_for(task, 10)
    assert box.closed == 1


async def test_http_run_command_write_read_and_refuse_escape(http_server, tmp_path):
    url, box = http_server
    assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")
    async with Client(url) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"run_command", "run_python", "read_file", "write_file", "list_files"}

        progress = []

        async def on_progress(done, total, message):
            progress.append(message)

        result = await client.call_tool("run_command", {"command": "echo hi; echo there >&2; exit 3"},
                                        progress_callback=on_progress)
        assert text(result).splitlines() == ["exit code: 3", "hi", "there"]
        assert "".join(progress) == "hi\nthere\n"
        assert box.commands == ["echo hi; echo there >&2; exit 3"]

        result = await client.call_tool("write_file", {"path": "src/app.py", "content": "print('x')\n"})
        assert not result.is_error and (tmp_path / "src/app.py").read_text() == "print('x')\n"
        assert text(await client.call_tool("read_file", {"path": "./src//app.py"})) == "print('x')\n"
        assert text(await client.call_tool("list_files", {"path": "."})) == "src/app.py"
        result = await client.call_tool("run_python", {"code": "import os; print(sorted(os.listdir('src')), 6*7)"})
        assert text(result) == "exit code: 0\n['app.py'] 42"
        result = await client.call_tool("run_command", {"command": "sleep 5", "timeout_s": 0.3})
        assert text(result).startswith("timed out")

        (tmp_path.parent / "outside.txt").write_text("secret")
        os.symlink(tmp_path.parent / "outside.txt", tmp_path / "link.txt")
        for tool, args in [("read_file", {"path": "../outside.txt"}), ("read_file", {"path": "/etc/passwd"}),
                           ("read_file", {"path": "src/../../outside.txt"}), ("read_file", {"path": "link.txt"}),
                           ("write_file", {"path": "../evil.txt", "content": "x"}),
                           ("write_file", {"path": "link.txt", "content": "x"}),
                           ("list_files", {"path": ".."})]:
            result = await client.call_tool(tool, args)
            assert result.is_error, (tool, args)
            assert "outside the workspace" in text(result) or "absolute paths are refused" in text(result)
        assert not (tmp_path.parent / "evil.txt").exists()
        assert (tmp_path.parent / "outside.txt").read_text() == "secret"


async def test_in_process_server_reports_missing_file_and_empty_command(tmp_path):
    server = build_server(SandboxTools(tmp_path, HostSandbox(tmp_path)))
    async with Client(server) as client:
        result = await client.call_tool("read_file", {"path": "nope.txt"})
        assert result.is_error and "no such file in the workspace: nope.txt" in text(result)
        result = await client.call_tool("run_command", {"command": "  "})
        assert result.is_error and "command is empty" in text(result)
        assert text(await client.call_tool("list_files", {})) == "(no files)"


def _real_backend() -> str | None:
    for name in ("bwrap", "docker"):
        if sandboxes.probe(name) is None:
            return name
    return None


@pytest.mark.bwrap
@pytest.mark.skipif(_real_backend() is None, reason="no sandbox backend works here")
async def test_stdio_serve_with_a_real_sandbox(tmp_path):
    """The real command, a real backend, over stdio, as Claude Desktop would launch it."""
    os.chmod(tmp_path, 0o777)  # the sandbox user (not root) works in it
    code = "import sys; from tui_agent.mcp_server import serve; serve(sys.argv[1], sys.argv[2])"
    params = StdioServerParameters(command=sys.executable, args=["-c", code, str(tmp_path), _real_backend()],
                                   cwd=str(Path(__file__).resolve().parents[1]))
    async with Client(params) as client:
        result = await client.call_tool("write_file", {"path": "t.py", "content": "import os; print(os.getuid())"})
        assert not result.is_error
        result = await client.call_tool("run_command", {"command": "python3 t.py; id -u"}, read_timeout_seconds=120)
        lines = text(result).splitlines()
        assert len(lines) == 3 and lines[0] == "exit code: 0", text(result)
        assert lines[1] == lines[2] and lines[1] != "0", lines  # not root inside
        # a port listening on the host's loopback is out of reach: the sandbox has no network
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        try:
            code = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3); print('reached')"
            result = await client.call_tool("run_python", {"code": code}, read_timeout_seconds=120)
        finally:
            listener.close()
        assert text(result).startswith("exit code: 1") and "reached" not in text(result), text(result)
