"""McpManager: the configured MCP servers as one ToolProvider (`mcp__<server>__<tool>`), restarted when they crash."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import anyio
import mcp_types as types
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tui_agent.models.base import ToolSpec
from tui_agent.tools.base import ProgressCallback, ToolResult
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.mcp.config import ServerConfig
from tui_agent.tools.mcp.oauth import OAuthSettings, Provider, make_provider
from tui_agent.tools.mcp.support import WatchedRead, describe, flatten, follow_stderr, tool_name, unwrap

EventCallback = Callable[[str, str], None]  # on_event(source, message), e.g. ("mcp:git", "restarting in 1s")
STATES = ("starting", "ready", "failed", "restarting", "stopped")


@dataclass
class ServerStatus:
    """One server as the TUI panel shows it."""

    name: str
    state: str  # starting | ready | failed | restarting | stopped
    reason: str | None
    tools: tuple[str, ...]
    transport: str
    restarts: int = 0


@dataclass
class _Server:
    config: ServerConfig
    state: str = "starting"
    reason: str | None = None
    tools: list[types.Tool] = field(default_factory=list)
    client: Client | None = None
    restarts: int = 0
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # first attempt over: ready or failed
    stderr: deque = field(default_factory=lambda: deque(maxlen=20))
    ready_at: float = 0.0
    task: asyncio.Task | None = None
    auth: Provider | None = None  # the OAuth provider of an HTTP server (None: stdio, sse, own headers)


class McpManager:
    """Connects every configured server concurrently; a failed one is reported, the others go on."""

    def __init__(self, configs: dict[str, ServerConfig] | list[ServerConfig], *, project: Path | None = None,
                 on_event: EventCallback | None = None, call_timeout: float = 120.0, connect_timeout: float = 30.0,
                 max_restarts: int = 5, backoff: tuple[float, float] = (0.5, 30.0), log_level: str = "info") -> None:
        items = configs.values() if isinstance(configs, dict) else configs
        self._servers = {c.name: _Server(c) for c in items}
        self.project = Path(project) if project is not None else None
        self.on_event = on_event
        self.call_timeout, self.connect_timeout = call_timeout, connect_timeout
        self.max_restarts, self.backoff, self.log_level = max_restarts, backoff, log_level
        self.stable_after = 30.0  # seconds up after which a crash counts as the first one again
        self._routes: dict[str, tuple[str, str]] = {}
        self._closing = False
        # the OAuth browser step, (server, url): an event line by default; None (headless): a needed sign-in
        # fails, naming `tui-agent mcp login`
        self.show_sign_in: Callable[[str, str], None] | None = \
            lambda server, url: self._emit(server, f"authentication: open {url} in a browser to sign in")
        self.oauth_folder: Path | None = None  # tokens' folder (None: the user's data folder)

    @classmethod
    def from_project(cls, project: Path, **kwargs: Any) -> "McpManager":
        """Servers from PROJECT/.mcp.json and the user-level file; raises mcp_config.ConfigError."""
        return cls(mcp_config.load(project), project=project, **kwargs)

    # --- ToolProvider ------------------------------------------------------------------------

    def specs(self) -> list[ToolSpec]:
        specs, routes = [], {}
        for srv in self._servers.values():
            if srv.state != "ready":
                continue
            for tool in srv.tools:
                name = tool_name(srv.config.name, tool.name)
                routes[name] = (srv.config.name, tool.name)
                desc = tool.description or tool.title or tool.name
                schema = dict(tool.input_schema or {"type": "object"})
                specs.append(ToolSpec(name, f"[{srv.config.name}] {desc}", schema))
        self._routes.update(routes)
        return specs

    async def call(self, name: str, arguments: dict, progress: ProgressCallback | None = None) -> ToolResult:
        if name not in self._routes:
            self.specs()
        if name not in self._routes:
            return ToolResult(f"unknown MCP tool {name!r}", is_error=True)
        server, tool = self._routes[name]
        srv = self._servers[server]
        if srv.state != "ready" or srv.client is None:
            why = f": {srv.reason}" if srv.reason else ""
            return ToolResult(f"MCP server {server!r} is {srv.state}{why}; try again later", is_error=True)
        timeout = srv.config.timeout_s or self.call_timeout

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            text = f"{done:g}/{total:g}" if total else f"{done:g}"
            self._report(progress, server, f"{text} {message}" if message else text)

        try:
            result = await srv.client.call_tool(tool, arguments or {}, read_timeout_seconds=timeout,
                                                progress_callback=on_progress)
        except MCPError as exc:
            if exc.code == types.REQUEST_TIMEOUT:
                return ToolResult(f"{name} timed out after {timeout:g}s (the server was asked to cancel it)", True)
            if exc.code == types.CONNECTION_CLOSED:
                srv.lost.set()
                return ToolResult(f"MCP server {server!r} went away during the call; it is being restarted", True)
            return ToolResult(f"{name} failed: MCP error {exc.code}: {exc}", is_error=True)
        except Exception as exc:  # transport errors (HTTP), invalid results
            if srv.client is None or isinstance(unwrap(exc), (OSError, anyio.BrokenResourceError)):
                srv.lost.set()
            return ToolResult(f"{name} failed: {describe(exc)}", is_error=True)
        return flatten(result)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every server; return once each is ready or has failed (never raises for one server)."""
        for srv in self._servers.values():
            if srv.config.error:
                self._set(srv, "failed", srv.config.error)
                srv.settled.set()
            elif srv.task is None:
                srv.task = asyncio.create_task(self._supervise(srv), name=f"mcp:{srv.config.name}")
        await asyncio.gather(*(srv.settled.wait() for srv in self._servers.values()))

    async def restart(self, name: str) -> None:
        """Start a failed (or any) server again, e.g. from the TUI panel; returns when it is ready or failed."""
        srv = self._servers[name]
        if srv.task is not None and not srv.task.done():
            srv.task.cancel()
            await asyncio.gather(srv.task, return_exceptions=True)
        srv.task, srv.settled = None, asyncio.Event()
        self._set(srv, "starting")
        if srv.config.error:
            self._set(srv, "failed", srv.config.error)
            return
        srv.task = asyncio.create_task(self._supervise(srv), name=f"mcp:{name}")
        await srv.settled.wait()

    def servers(self) -> list[ServerStatus]:
        return [ServerStatus(s.config.name, s.state, s.reason, tuple(t.name for t in s.tools),
                             s.config.transport, s.restarts) for s in self._servers.values()]

    async def close(self) -> None:
        self._closing = True
        tasks = [s.task for s in self._servers.values() if s.task is not None]
        for srv in self._servers.values():
            srv.lost.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for srv in self._servers.values():
            srv.client, srv.tools, srv.task = None, [], None
            if srv.state != "failed":
                srv.state = "stopped"

    async def __aenter__(self) -> "McpManager":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- internals ---------------------------------------------------------------------------

    def _emit(self, server: str, message: str) -> None:
        if self.on_event is not None:
            with contextlib.suppress(Exception):
                self.on_event(f"mcp:{server}", message)

    def _report(self, progress: ProgressCallback | None, server: str, message: str) -> None:
        if progress is not None:
            with contextlib.suppress(Exception):
                progress(f"[{server}] {message}")
        else:
            self._emit(server, message)

    def _set(self, srv: _Server, state: str, reason: str | None = None) -> None:
        srv.state, srv.reason = state, reason
        self._emit(srv.config.name, state + (f": {reason}" if reason else ""))

    async def _attempt(self, srv: _Server) -> str:
        """One connection, in its own task (anyio scopes need entry and exit in one task); why it ended."""
        srv.lost, connected = asyncio.Event(), asyncio.Event()
        conn = asyncio.create_task(self._connection(srv, connected), name=f"mcp:{srv.config.name}:conn")
        waiter = asyncio.create_task(connected.wait())
        try:
            done, _ = await asyncio.wait({conn, waiter}, timeout=self.connect_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            while not done and srv.auth is not None and srv.auth.sign_in.waiting:  # a person is signing in
                done, _ = await asyncio.wait({conn, waiter}, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
            timed_out = not done
            if timed_out:
                conn.cancel()
            await asyncio.wait({conn})
        finally:
            waiter.cancel()
            if not conn.done():  # we were cancelled (close): stop the connection, then go
                conn.cancel()
                await asyncio.wait({conn})
        if timed_out:
            return f"no answer within {self.connect_timeout:g}s"
        if conn.cancelled():
            return "cancelled"
        exc = conn.exception()
        return describe(exc) if exc is not None else "the server closed the connection"

    async def _supervise(self, srv: _Server) -> None:
        """Run the connection; after a crash, restart with exponential backoff (up to max_restarts)."""
        failures = 0
        while not self._closing:
            reason = await self._attempt(srv)
            srv.client, srv.tools = None, []
            if self._closing:
                return
            tail = [line for line in srv.stderr if line.strip()]
            if tail and srv.state != "ready":
                reason += f" (stderr: {tail[-1][:200]})"
            if not srv.settled.is_set():  # never came up: a missing command won't appear by retrying
                self._set(srv, "failed", reason)
                srv.settled.set()
                return
            # a server that stayed up a while starts the backoff over; one that flaps keeps backing off
            stable = srv.state == "ready" and time.monotonic() - srv.ready_at > self.stable_after
            failures = 1 if stable else failures + 1
            if failures > self.max_restarts:
                self._set(srv, "failed", f"gave up after {self.max_restarts} restarts: {reason}")
                return
            delay = min(self.backoff[0] * 2 ** (failures - 1), self.backoff[1])
            self._set(srv, "restarting", f"{reason}; restarting in {delay:g}s")
            await asyncio.sleep(delay)
            srv.restarts += 1

    @asynccontextmanager
    async def _transport(self, srv: _Server):
        cfg = srv.config
        if cfg.transport == "stdio":
            read_fd, write_fd = os.pipe()
            errlog = os.fdopen(write_fd, "w")
            follow_stderr(read_fd, srv.stderr, lambda line: self._emit(srv.config.name, f"stderr: {line}"))
            env = {**cfg.env}
            cwd = cfg.cwd or (str(self.project) if self.project else None)
            params = StdioServerParameters(command=cfg.command, args=list(cfg.args), env=env, cwd=cwd)
            try:
                async with stdio_client(params, errlog=errlog) as streams:
                    errlog.close()  # the server holds its own copy
                    yield streams
            finally:
                errlog.close()
        elif cfg.transport == "sse":
            async with sse_client(cfg.url, headers=cfg.headers or None) as streams:
                yield streams
        else:
            srv.auth = self._oauth(cfg)
            async with create_mcp_http_client(headers=cfg.headers or None, auth=srv.auth) as http:
                async with streamable_http_client(cfg.url, http_client=http) as streams:
                    yield streams

    def _oauth(self, cfg: ServerConfig) -> Provider | None:
        """OAuth for an HTTP server, unless its headers already carry credentials; the sign-in URL as an event."""
        if any(k.lower() == "authorization" for k in cfg.headers):
            return None
        return make_provider(cfg.name, cfg.url, OAuthSettings.from_dict(cfg.oauth), show=self.show_sign_in,
                             folder=self.oauth_folder)

    @asynccontextmanager
    async def _watched(self, srv: _Server):
        async with self._transport(srv) as (read, write):
            yield WatchedRead(read, srv.lost.set), write

    async def _connection(self, srv: _Server, connected: asyncio.Event) -> None:
        """One connection's whole life, in this task: connect, list tools, serve until lost."""
        name = srv.config.name

        async def on_log(params: types.LoggingMessageNotificationParams) -> None:
            data = params.data if isinstance(params.data, str) else json.dumps(params.data, default=str)
            self._emit(name, f"{params.level}: {data}" if params.level != "info" else data)

        async def on_message(message: Any) -> None:
            if isinstance(message, types.ToolListChangedNotification):
                asyncio.get_running_loop().create_task(self._refresh(srv, changed=True))

        client = Client(self._watched(srv), log_level=self.log_level, logging_callback=on_log,
                        message_handler=on_message, cache=None)
        async with client:
            srv.client = client
            await self._refresh(srv)
            self._set(srv, "ready")
            srv.ready_at = time.monotonic()
            connected.set()
            srv.settled.set()
            listener = asyncio.get_running_loop().create_task(self._listen(client))
            try:
                await srv.lost.wait()
            finally:
                listener.cancel()
                with contextlib.suppress(BaseException):
                    await listener

    async def _listen(self, client: Client) -> None:
        """On 2026-07-28 connections list changes come over subscriptions/listen (teed to on_message)."""
        with contextlib.suppress(Exception):
            async with client.listen(tools_list_changed=True) as sub:
                async for _ in sub:
                    pass

    async def _refresh(self, srv: _Server, changed: bool = False) -> None:
        client = srv.client
        if client is None:
            return
        tools, cursor = [], None
        try:
            while True:
                page = await client.list_tools(cursor=cursor, cache_mode="refresh")
                tools += page.tools
                cursor = page.next_cursor
                if not cursor:
                    break
        except Exception as exc:
            if not changed:
                raise
            self._emit(srv.config.name, f"could not refresh the tool list: {describe(exc)}")
            return
        srv.tools = tools
        if changed:
            self._emit(srv.config.name, "tools changed: " + ", ".join(t.name for t in tools))

