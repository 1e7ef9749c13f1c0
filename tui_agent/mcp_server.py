"""`tui-agent mcp serve`: the hardened sandbox and a workspace folder offered to any MCP client (stdio or HTTP)."""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import sys
import uuid
from pathlib import Path
from typing import Any, Callable

import mcp_types as types
from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from tui_agent import __version__
from tui_agent import sandbox as sandboxes
from tui_agent.config import ConfigError
from tui_agent.sandbox.base import Limits, Sandbox, SandboxSpec, SandboxUnavailable
from tui_agent.workspace.files import Files, WorkspaceError
from tui_agent.workspace.gitignore import Ignore, RuleSet

MAX_READ = 1_000_000  # characters returned by read_file
MAX_OUTPUT = 100_000  # characters of command output returned (head and tail kept)
MAX_LIST = 2_000
INLINE_CODE = 100_000  # run_python passes shorter code with -c, longer code through a file
SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv"}
HOST = "127.0.0.1"  # the HTTP transport never listens on another address
INSTRUCTIONS = (
    "Runs commands and Python in a hardened sandbox (no network, resource limits) on one workspace folder. "
    "Paths are relative to that folder; anything outside it is refused."
)


class Workspace:
    """A folder the tools may read and write: the workspace's own confined file access, errors as ToolError."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))
        if not self.root.is_dir():
            raise ConfigError(f"mcp serve: the workspace is not a folder: {root}")
        self.files = Files(self.root, Ignore().push("", RuleSet.parse("\n".join(f"{d}/" for d in SKIP_DIRS))))

    def read(self, rel: str) -> str:
        text = _tool_error(self.files.read_text, rel)
        return text if len(text) <= MAX_READ else text[:MAX_READ] + "\n[... truncated ...]"

    def write(self, rel: str, content: str) -> int:
        _tool_error(self.files.write_text, rel, content)
        return len(content.encode())

    def list(self, rel: str) -> list[str]:
        files = _tool_error(self.files.list_files, rel)
        return files if len(files) <= MAX_LIST else files[:MAX_LIST] + [f"[... stopped after {MAX_LIST} entries ...]"]


def _tool_error(method, *args):
    """Run a workspace file operation; its one-line refusal goes back to the MCP client as a ToolError."""
    try:
        return method(*args)
    except WorkspaceError as exc:
        raise ToolError(str(exc)) from None


def _bounded(text: str) -> str:
    if len(text) <= MAX_OUTPUT:
        return text
    half = MAX_OUTPUT // 2
    return f"{text[:half]}\n[... {len(text) - MAX_OUTPUT} characters cut ...]\n{text[-half:]}"


def owner_limits(root: Path) -> Limits:
    """Run sandboxed code as the folder's owner, so it can write there; never as root (then the default user)."""
    st = os.stat(root)
    return Limits(uid=st.st_uid, gid=st.st_gid) if st.st_uid != 0 else Limits()


class SandboxTools:
    """The tools' implementation: one sandbox backend (started on first use), one workspace."""

    def __init__(self, workspace: Path, sandbox: str | Sandbox = "auto", limits: Limits | None = None) -> None:
        self.workspace = Workspace(workspace)
        self.spec = SandboxSpec(self.workspace.root, limits or owner_limits(self.workspace.root))
        self._choice = sandbox
        self._sandbox: Sandbox | None = sandbox if not isinstance(sandbox, str) else None
        self._started = False
        self._lock = asyncio.Lock()

    def check(self) -> str:
        """The backend's name; SandboxUnavailable (with what to do) when it cannot run here."""
        if not isinstance(self._choice, str):
            return getattr(self._choice, "name", type(self._choice).__name__)
        name = sandboxes.default_backend(self.spec) if self._choice == "auto" else self._choice
        reason = sandboxes.probe(name, self.spec)
        if reason:
            raise SandboxUnavailable(f"{name}: {reason}")
        self._choice = name
        return name

    async def sandbox(self) -> Sandbox:
        async with self._lock:
            if self._sandbox is None:
                self._sandbox = sandboxes.create(self.check(), self.spec)
            if not self._started:
                await self._sandbox.start()
                self._started = True
            return self._sandbox

    async def run(self, command: str, timeout_s: float | None, report: Callable[[str], object] | None) -> str:
        try:
            box = await self.sandbox()
        except SandboxUnavailable as exc:
            raise ToolError(f"no sandbox: {exc}") from None
        chunks: list[str] = []
        pending: list[asyncio.Task] = []

        def on_output(stream: str, text: str) -> None:
            chunks.append(text)
            if report is not None:
                result = report(text)
                if asyncio.iscoroutine(result):
                    pending.append(asyncio.ensure_future(result))

        result = await box.run(command, on_output, timeout_s=timeout_s)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if result.error:
            raise ToolError(f"the sandbox failed: {result.error}\n{_bounded(''.join(chunks))}".rstrip())
        status = "timed out (killed)" if result.timed_out else f"exit code: {result.exit_code}"
        note = "\n[output truncated at the sandbox limit]" if result.truncated else ""
        return f"{status}\n{_bounded(''.join(chunks))}{note}".rstrip()

    async def close(self) -> None:
        if self._sandbox is not None and self._started:
            await self._sandbox.close()
            self._started = False


# what the SDK would serve (and so advertise) without anything behind it: no prompts, no resources
_UNOFFERED = ("prompts/list", "resources/list", "resources/read", "resources/templates/list", "resources/subscribe",
              "resources/unsubscribe")


class SandboxServer(MCPServer):
    """Advertises only its tools (fixed: no listChanged, no subscriptions); unknown tools and prompts are -32602."""

    def __init__(self) -> None:
        super().__init__("tui-agent-sandbox", instructions=INSTRUCTIONS, log_level="WARNING", version=__version__,
                         subscriptions=False)
        for method in _UNOFFERED:
            self._lowlevel_server._request_handlers.pop(method, None)

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        if self._tool_manager.get_tool(name) is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {name}")
        return await super().call_tool(name, arguments, context)

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {name} (this server offers no prompts)")


def build_server(tools: SandboxTools) -> MCPServer:
    server = SandboxServer()

    async def progress(ctx: Context, counter: list[int], text: str) -> None:
        counter[0] += 1
        await ctx.report_progress(counter[0], None, text[-2000:])

    @server.tool()
    async def run_command(command: str, ctx: Context, timeout_s: float | None = None) -> str:
        """Run a shell command in the sandbox (cwd: the workspace, no network); returns the exit code and output."""
        if not command.strip():
            raise ToolError("command is empty")
        if timeout_s is not None and timeout_s <= 0:
            raise ToolError("timeout_s must be positive")
        counter = [0]
        return await tools.run(command, timeout_s, lambda text: progress(ctx, counter, text))

    @server.tool()
    async def run_python(code: str, ctx: Context, timeout_s: float | None = None) -> str:
        """Run Python 3 code in the sandbox (cwd: the workspace); returns the exit code and output."""
        counter = [0]
        report = lambda text: progress(ctx, counter, text)  # noqa: E731
        if len(code) <= INLINE_CODE:
            return await tools.run("python3 -c " + shlex.quote(code), timeout_s, report)
        rel = f".tui-agent-run-{uuid.uuid4().hex[:12]}.py"
        tools.workspace.write(rel, code)
        try:
            return await tools.run("python3 " + shlex.quote(rel), timeout_s, report)
        finally:
            (tools.workspace.root / rel).unlink(missing_ok=True)

    @server.tool()
    def read_file(path: str) -> str:
        """Read a UTF-8 text file of the workspace (path relative to it)."""
        return tools.workspace.read(path)

    @server.tool()
    def write_file(path: str, content: str) -> str:
        """Create or overwrite a text file of the workspace (parent folders are created)."""
        size = tools.workspace.write(path, content)
        return f"wrote {path} ({size} bytes)"

    @server.tool()
    def list_files(path: str = ".") -> str:
        """List the files under a folder of the workspace, recursively (.git and caches left out)."""
        files = tools.workspace.list(path)
        return "\n".join(files) if files else "(no files)"

    return server


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def serve_http(server: MCPServer, sock: socket.socket, stop: asyncio.Event | None = None) -> None:
    """Serve streamable HTTP at http://127.0.0.1:PORT/mcp until `stop` is set (or the task is cancelled)."""
    import uvicorn

    app = server.streamable_http_app(host=HOST)  # DNS-rebinding protection for localhost is on
    userver = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))

    async def watch() -> None:
        if stop is not None:
            await stop.wait()
            userver.should_exit = True

    watcher = asyncio.create_task(watch())
    try:
        await userver.serve(sockets=[sock])
    finally:
        watcher.cancel()


async def serve_async(workspace: Path, sandbox: str | Sandbox = "auto", transport: str = "stdio", port: int = 0,
                      ready: Callable[[str], None] | None = None, stop: asyncio.Event | None = None) -> None:
    tools = SandboxTools(workspace, sandbox)
    name = tools.check()  # fail before serving when no sandbox can run here
    server = build_server(tools)
    try:
        if transport == "stdio":
            if ready:
                ready("stdio")
            await server.run_stdio_async()
        elif transport in ("http", "streamable-http"):
            sock = bind(port)
            url = f"http://{HOST}:{sock.getsockname()[1]}/mcp"
            print(f"tui-agent mcp: serving {tools.workspace.root} with the {name} sandbox at {url}", file=sys.stderr)
            if ready:
                ready(url)
            await serve_http(server, sock, stop)
        else:
            raise ValueError(f"unknown transport {transport!r} (stdio or http)")
    finally:
        await tools.close()


def serve(workspace: Path, sandbox: str = "auto", transport: str = "stdio", port: int = 0) -> None:
    """Blocking entry point for `tui-agent mcp serve [PATH] [--http [--port N]] [--sandbox ...]`."""
    asyncio.run(serve_async(Path(workspace), sandbox, transport, port))
