"""The connection side of McpManager: transports, one connection's life, the restart supervisor, the tool list."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import warnings
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, cast

import mcp_types as types
from mcp import Client, MCPError, StdioServerParameters
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tui_agent import __version__
from tui_agent.tools.mcp.callbacks import ClientSide
from tui_agent.tools.mcp.config import ServerConfig
from tui_agent.tools.mcp.oauth import OAuthSettings, Provider, authentication_reason, make_provider
from tui_agent.tools.mcp.support import WatchedRead, describe, follow_stderr

CLIENT_INFO = types.Implementation(name="tui-agent", version=__version__)


@dataclass
class Server:
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
    denied: int = 0  # the last HTTP 401/403 of this connection (0: none)


class Lifecycle:
    """Per-server connection machinery; McpManager adds the tool provider and the public lifecycle on top."""

    _closing: bool
    connect_timeout: float
    max_restarts: int
    backoff: tuple[float, float]
    stable_after: float
    log_level: types.LoggingLevel
    project: Any
    client_side: ClientSide
    on_event: Callable[[str, str], None] | None
    show_sign_in: Callable[[str, str], None] | None  # the OAuth browser step (server, url); None: headless
    oauth_folder: Path | None  # the tokens' folder (None: the user's data folder)

    def _emit(self, server: str, message: str) -> None:
        if self.on_event is not None:
            with contextlib.suppress(Exception):
                self.on_event(f"mcp:{server}", message)

    def _set(self, srv: Server, state: str, reason: str | None = None) -> None:
        srv.state, srv.reason = state, reason
        self._emit(srv.config.name, state + (f": {reason}" if reason else ""))

    async def _attempt(self, srv: Server) -> str:
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
        reason = describe(exc) if exc is not None else "the server closed the connection"
        return authentication_reason(srv.config.name, srv.denied, reason) if srv.denied else reason

    async def _supervise(self, srv: Server) -> None:
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
    async def _transport(self, srv: Server):
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
            srv.denied = 0

            async def denied(response: Any) -> None:
                srv.denied = response.status_code if response.status_code in (401, 403) else 0

            async with create_mcp_http_client(headers=cfg.headers or None, auth=srv.auth) as http:
                http.event_hooks["response"].append(denied)
                async with streamable_http_client(cfg.url, http_client=http) as streams:
                    yield streams

    def _oauth(self, cfg: ServerConfig) -> Provider | None:
        """OAuth for an HTTP server, unless its headers already carry credentials."""
        if any(k.lower() == "authorization" for k in cfg.headers):
            return None
        return make_provider(cfg.name, cfg.url, OAuthSettings.from_dict(cfg.oauth), show=self.show_sign_in,
                             folder=self.oauth_folder)

    @asynccontextmanager
    async def _watched(self, srv: Server):
        async with self._transport(srv) as (read, write):
            yield WatchedRead(read, srv.lost.set), write

    async def _connection(self, srv: Server, connected: asyncio.Event) -> None:
        """One connection's whole life, in this task: connect, list tools, serve until lost."""
        name = srv.config.name

        async def on_log(params: types.LoggingMessageNotificationParams) -> None:
            data = params.data if isinstance(params.data, str) else json.dumps(params.data, default=str)
            self._emit(name, f"{params.level}: {data}" if params.level != "info" else data)

        async def on_message(message: Any) -> None:
            if isinstance(message, types.ToolListChangedNotification):
                asyncio.get_running_loop().create_task(self._refresh(srv, changed=True))

        client = Client(self._watched(srv), log_level=self._level(srv), logging_callback=on_log,
                        message_handler=on_message, cache=None, client_info=CLIENT_INFO,
                        **self.client_side.client_kwargs(name))
        async with client:
            srv.client = client
            await self._set_level(srv, client)
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

    def _level(self, srv: Server) -> types.LoggingLevel:
        """The server's own "logLevel" from its config, else the manager's (warning)."""
        return cast(types.LoggingLevel, srv.config.log_level or self.log_level)  # config.py checked the name

    async def _set_level(self, srv: Server, client: Client) -> None:
        """Handshake-era servers get `logging/setLevel`; 2026-07-28 ones read the level from each request's _meta."""
        if client.server_capabilities.logging is None or client.protocol_version >= "2026-07-28":
            return
        try:
            with warnings.catch_warnings():  # deprecated on 2026-07-28, which this branch does not reach
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await client.set_logging_level(self._level(srv))
        except MCPError as exc:  # a server that advertises logging but refuses the level: its logs, not our problem
            self._emit(srv.config.name, f"logging/setLevel refused: {exc}")

    async def _listen(self, client: Client) -> None:
        """On 2026-07-28 connections list changes come over subscriptions/listen (teed to on_message)."""
        with contextlib.suppress(Exception):
            async with client.listen(tools_list_changed=True) as sub:
                async for _ in sub:
                    pass

    async def _refresh(self, srv: Server, changed: bool = False) -> None:
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

