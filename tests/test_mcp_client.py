"""McpManager against real MCP servers we did not write (time, git, filesystem) and a fixture that misbehaves."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_fixtures import unavailable
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.mcp.config import ConfigError, ServerConfig
from tui_agent.tools.mcp.manager import McpManager, tool_name

ROOT = Path(__file__).resolve().parents[1]
FILESYSTEM = ROOT / ".cache/npm/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js"
INSTALL = "run scripts/install-mcp-test-servers.sh"
NO_SANDBOX: Any = object()  # the served file tools never start a sandbox

FIXTURE = '''
import asyncio, os, sys
from mcp.server.mcpserver import MCPServer, Context
from mcp.server.mcpserver.exceptions import ToolError
server = MCPServer("fixture", log_level="WARNING")

@server.tool()
def echo(text: str) -> str:
    return "echo: " + text

@server.tool()
async def slow(seconds: float, ctx: Context) -> str:
    await ctx.info("slow chatter")  # below the default level: never sent
    await ctx.warning("slow started")
    for i in range(3):
        await ctx.report_progress(i + 1, 3, f"step {i + 1}")
        await asyncio.sleep(seconds / 3)
    return "slow done"

@server.tool()
def crash() -> str:
    os._exit(3)

@server.tool()
def fail() -> str:
    raise ToolError("it went wrong on purpose")

@server.tool()
async def grow(ctx: Context) -> str:
    server.add_tool(lambda: "new!", name="extra", description="added later")
    await ctx.notify_tools_changed()
    return "grown"

print("fixture up", file=sys.stderr, flush=True)
server.run()
'''


def _requires(module: str) -> None:
    if subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode:
        pytest.fail(f"{module} is not installed: {INSTALL}")


def _wait_for(predicate, timeout: float = 20.0):
    async def wait():
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.05)
    return wait()


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))


@pytest.fixture
def fixture_server(tmp_path) -> ServerConfig:
    script = tmp_path / "fixture_server.py"
    script.write_text(FIXTURE)
    return ServerConfig("fx", "stdio", command=sys.executable, args=(str(script),))


def _state(manager: McpManager, name: str):
    return next(s for s in manager.servers() if s.name == name)


async def test_real_servers_over_stdio_and_a_missing_command(tmp_path, monkeypatch):
    _requires("mcp_server_time")
    _requires("mcp_server_git")
    if shutil.which("node") is None:
        unavailable("node is not installed (scripts/bootstrap.sh installs it)")
    if not FILESYSTEM.exists():
        pytest.fail(f"@modelcontextprotocol/server-filesystem is not installed: {INSTALL}")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hello.txt").write_text("hello from the project\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "first"], check=True)
    (repo / "new.txt").write_text("untracked\n")
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "time": {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]},
        "git": {"type": "stdio", "command": sys.executable,
                "args": ["-m", "mcp_server_git", "--repository", "${REPO}"]},
        "fs": {"command": "node", "args": [str(FILESYSTEM), str(repo)]},
        "broken": {"command": "no-such-mcp-server-command", "args": []},
    }}, indent=2))
    events = []
    monkeypatch.setenv("REPO", str(repo))  # ${REPO} in .mcp.json
    manager = McpManager.from_project(repo, on_event=lambda source, message: events.append((source, message)))
    async with manager:
        states = {s.name: s for s in manager.servers()}
        assert {n: s.state for n, s in states.items()} == {"time": "ready", "git": "ready", "fs": "ready",
                                                            "broken": "failed"}
        assert "command not found: no-such-mcp-server-command" in states["broken"].reason
        assert ("mcp:broken", "failed: " + states["broken"].reason) in events
        names = {spec.name for spec in manager.specs()}
        assert {"mcp__time__get_current_time", "mcp__git__git_status", "mcp__fs__read_text_file"} <= names
        assert not any(n.startswith("mcp__broken__") for n in names)
        spec = next(s for s in manager.specs() if s.name == "mcp__time__get_current_time")
        assert spec.input_schema["required"] == ["timezone"] and spec.description.startswith("[time] ")

        result = await manager.call("mcp__time__get_current_time", {"timezone": "Europe/Paris"})
        assert not result.is_error and json.loads(result.content)["timezone"] == "Europe/Paris"
        result = await manager.call("mcp__git__git_status", {"repo_path": str(repo)})
        assert not result.is_error and "new.txt" in result.content, result.content
        result = await manager.call("mcp__git__git_log", {"repo_path": str(repo)})
        assert "first" in result.content
        result = await manager.call("mcp__fs__read_text_file", {"path": str(repo / "hello.txt")})
        assert result.content == "hello from the project\n"
        result = await manager.call("mcp__fs__read_text_file", {"path": "/etc/hostname"})
        assert result.is_error and "denied" in result.content.lower()  # the server's own refusal, surfaced
        result = await manager.call("mcp__broken__anything", {})
        assert result.is_error and "unknown MCP tool" in result.content
    assert {s.state for s in manager.servers()} == {"stopped", "failed"}


async def test_crashed_server_is_restarted_and_the_session_goes_on(fixture_server):
    events = []
    manager = McpManager([fixture_server], on_event=lambda s, m: events.append(m), backoff=(0.1, 1.0))
    async with manager:
        assert (await manager.call("mcp__fx__echo", {"text": "a"})).content == "echo: a"
        result = await manager.call("mcp__fx__crash", {})
        assert result.is_error and "went away" in result.content
        await _wait_for(lambda: _state(manager, "fx").state == "ready" and _state(manager, "fx").restarts == 1)
        assert (await manager.call("mcp__fx__echo", {"text": "b"})).content == "echo: b"
        assert any(m.startswith("restarting: ") for m in events)
        assert events.count("stderr: fixture up") == 2


async def test_restarts_give_up_after_the_limit(fixture_server, tmp_path):
    flag = tmp_path / "started-once"
    script = tmp_path / "once.py"  # comes up the first time, dies at every later start
    script.write_text(f"import os, pathlib, runpy\nf = pathlib.Path({str(flag)!r})\n"
                      f"if f.exists(): os._exit(1)\nf.touch()\nrunpy.run_path({fixture_server.args[0]!r})\n")
    manager = McpManager([ServerConfig("fx", "stdio", command=sys.executable, args=(str(script),))],
                         backoff=(0.05, 0.1), max_restarts=2)
    async with manager:
        await manager.call("mcp__fx__crash", {})
        await _wait_for(lambda: _state(manager, "fx").state == "failed")
        status = _state(manager, "fx")
        assert status.reason.startswith("gave up after 2 restarts") and status.restarts == 2
        result = await manager.call("mcp__fx__echo", {"text": "x"})
        assert result.is_error and "failed" in result.content


async def test_timeout_progress_logs_tool_errors_and_list_changes(fixture_server):
    events = []
    manager = McpManager([fixture_server], on_event=lambda s, m: events.append((s, m)), call_timeout=0.5)
    async with manager:
        progress = []
        result = await manager.call("mcp__fx__slow", {"seconds": 0.3}, progress.append)
        assert result.content == "slow done"
        assert progress == ["[fx] 1/3 step 1", "[fx] 2/3 step 2", "[fx] 3/3 step 3"]
        assert ("mcp:fx", "warning: slow started") in events  # the server's log message (log_level is set)
        assert ("mcp:fx", "slow chatter") not in events  # info is below the level we asked for

        result = await manager.call("mcp__fx__slow", {"seconds": 3})
        assert result.is_error and "timed out after 0.5s" in result.content
        assert (await manager.call("mcp__fx__echo", {"text": "still here"})).content == "echo: still here"

        result = await manager.call("mcp__fx__fail", {})
        assert result.is_error and "it went wrong on purpose" in result.content

        assert "mcp__fx__extra" not in {s.name for s in manager.specs()}
        assert (await manager.call("mcp__fx__grow", {})).content == "grown"
        await _wait_for(lambda: "mcp__fx__extra" in {s.name for s in manager.specs()})
        assert (await manager.call("mcp__fx__extra", {})).content == "new!"
        assert "extra" in _state(manager, "fx").tools


async def test_a_server_that_never_answers_fails_without_holding_up_the_others(fixture_server):
    hang = ServerConfig("hang", "stdio", command=sys.executable, args=("-c", "import time; time.sleep(60)"))
    manager = McpManager([hang, fixture_server], connect_timeout=20.0)  # a real server starts well within it, loaded
    async with manager:
        assert _state(manager, "hang").state == "failed"
        assert "no answer within 20s" in _state(manager, "hang").reason
        assert (await manager.call("mcp__fx__echo", {"text": "ok"})).content == "echo: ok"


async def test_http_server_from_mcp_json(tmp_path):
    """Our own `mcp serve` over streamable HTTP, configured as `"type": "http"` in .mcp.json."""
    from tui_agent.mcp_server import SandboxTools, bind, build_server, serve_http

    (tmp_path / "notes.txt").write_text("over http\n")
    sock = bind(0)
    stop = asyncio.Event()
    server = asyncio.create_task(serve_http(build_server(SandboxTools(tmp_path, sandbox=NO_SANDBOX)), sock, stop))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {"box": {
        "type": "http", "url": url, "headers": {"X-Token": "${TOKEN:-none}"}}}}))
    try:
        async with McpManager.from_project(tmp_path) as manager:
            assert _state(manager, "box").state == "ready" and _state(manager, "box").transport == "http"
            result = await manager.call("mcp__box__read_file", {"path": "notes.txt"})
            assert result.content == "over http\n"
            result = await manager.call("mcp__box__read_file", {"path": "../etc/passwd"})
            assert result.is_error and "outside the workspace" in result.content
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


async def test_http_server_that_goes_away_is_reconnected(tmp_path):
    from tui_agent.mcp_server import SandboxTools, bind, build_server, serve_http

    (tmp_path / "a.txt").write_text("A")

    def start(port: int = 0):
        sock = bind(port)
        stop = asyncio.Event()
        task = asyncio.create_task(serve_http(build_server(SandboxTools(tmp_path, sandbox=NO_SANDBOX)), sock, stop))
        return sock.getsockname()[1], stop, task

    port, stop, task = start()
    config = ServerConfig("box", "http", url=f"http://127.0.0.1:{port}/mcp")
    async with McpManager([config], backoff=(0.1, 0.5), call_timeout=5) as manager:
        assert (await manager.call("mcp__box__read_file", {"path": "a.txt"})).content == "A"
        stop.set()
        await task
        result = await manager.call("mcp__box__read_file", {"path": "a.txt"})
        assert result.is_error
        await _wait_for(lambda: _state(manager, "box").state == "restarting")
        _, stop, task = start(port)
        try:
            await _wait_for(lambda: _state(manager, "box").state == "ready")
            assert (await manager.call("mcp__box__read_file", {"path": "a.txt"})).content == "A"
        finally:
            stop.set()
    await task


async def test_manual_restart_of_a_failed_server(tmp_path, fixture_server):
    late = ServerConfig("late", "stdio", command=sys.executable, args=(str(tmp_path / "late.py"),))
    async with McpManager([late]) as manager:
        assert _state(manager, "late").state == "failed"  # its script is not there yet
        (tmp_path / "late.py").write_text(Path(fixture_server.args[0]).read_text())
        await manager.restart("late")
        assert _state(manager, "late").state == "ready"
        assert (await manager.call("mcp__late__echo", {"text": "now"})).content == "echo: now"


def test_tool_names_follow_claude_code():
    assert tool_name("git", "git_status") == "mcp__git__git_status"
    assert tool_name("x", "a.b/c d") == "mcp__x__a_b_c_d"
    assert len(tool_name("s" * 40, "t" * 40)) == 64


# --- .mcp.json -----------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,message", [
    ('{"mcpServers": {"git": {"command": "x",}}}', r"\.mcp\.json:1:40: invalid JSON: Expecting property name"),
    ('{\n  "mcpServers": {\n    "git": {"args": ["x"]}\n  }\n}', r"\.mcp\.json:3: server 'git': missing \"command\""),
    ('{"mcpServers": {"t": {"type": "ws", "url": "x"}}}', r"server 't': \"type\" must be one of stdio, http, sse"),
    ('{"mcpServers": {"t": {"command": "x", "args": "a b"}}}', r"server 't': \"args\": expected a list of strings"),
    ('{"mcpServers": {"t": {"command": "x", "env": {"A": 1}}}}', r"server 't': \"env\": expected an object of string"),
    ('{"mcpServers": {"t": {"type": "http"}}}', r"server 't': missing \"url\""),
    ('{"mcpServers": {"t": {"url": "ftp://x"}}}', r"server 't': \"url\" must start with http"),
    ('{"mcpServers": {"a b": {"command": "x"}}}', r"server 'a b': a server name may only use"),
    ('{"mcpServers": []}', r"\"mcpServers\" must be an object"),
    ('[1]', r"expected an object like"),
])
def test_malformed_mcp_json_names_the_problem_and_the_place(tmp_path, text, message):
    _write(tmp_path / ".mcp.json", text)
    with pytest.raises(ConfigError, match=message) as info:
        mcp_config.load(tmp_path)
    assert str(tmp_path / ".mcp.json") in str(info.value)
    with pytest.raises(ConfigError):
        McpManager.from_project(tmp_path)


def test_env_expansion_user_file_and_project_precedence(tmp_path):
    _write(tmp_path / "user-config/tui-agent/mcp.json", json.dumps({"mcpServers": {
        "time": {"command": "user-time"}, "only-user": {"command": "u"}}}))
    _write(tmp_path / "p/.mcp.json", json.dumps({"mcpServers": {
        "time": {"command": "${BIN:-python}", "args": ["--tz", "${TZ_NAME}"], "env": {"K": "${SECRET}"}},
        "http": {"type": "http", "url": "http://127.0.0.1:${PORT}/mcp", "headers": {"Authorization": "Bearer ${T}"}},
        "needs": {"command": "x", "args": ["${NOT_SET}"]},
    }}))
    env = {"TZ_NAME": "UTC", "SECRET": "s3", "PORT": "8123", "T": "tok"}
    servers = mcp_config.load(tmp_path / "p", environ=env)
    assert set(servers) == {"time", "only-user", "http", "needs"}
    time_server = servers["time"]
    assert (time_server.command, time_server.args, time_server.env) == ("python", ("--tz", "UTC"), {"K": "s3"})
    assert time_server.source == str(tmp_path / "p/.mcp.json")
    assert servers["http"].url == "http://127.0.0.1:8123/mcp"
    assert servers["http"].headers == {"Authorization": "Bearer tok"}
    assert servers["needs"].error == "environment variable(s) not set: NOT_SET"
    assert mcp_config.load(tmp_path / "nothing-here", environ=env).keys() == {"time", "only-user"}


async def test_a_server_with_an_unset_variable_shows_as_failed(tmp_path, fixture_server):
    bad = ServerConfig("needs", "stdio", command="x", error="environment variable(s) not set: NOT_SET")
    async with McpManager([bad, fixture_server]) as manager:
        assert _state(manager, "needs").state == "failed"
        assert _state(manager, "needs").reason == "environment variable(s) not set: NOT_SET"
        assert _state(manager, "fx").state == "ready"
