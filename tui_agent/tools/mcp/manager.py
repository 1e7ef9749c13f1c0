"""McpManager: the configured MCP servers as one ToolProvider (`mcp__<server>__<tool>`), restarted when they crash."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Callable

import anyio
import mcp_types as types
from mcp import MCPError

from tui_agent.events import SamplingSpent
from tui_agent.models.base import Model, ModelTurn, ToolSpec
from tui_agent.tools.base import ProgressCallback, ToolResult
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.mcp.callbacks import ClientSide
from tui_agent.tools.mcp.questions import ClientHost
from tui_agent.tools.mcp.config import ServerConfig
from tui_agent.tools.mcp.lifecycle import Lifecycle, Server
from tui_agent.tools.mcp.status import STATES, ServerStatus
from tui_agent.tools.mcp import prompts as mcp_prompts
from tui_agent.tools.mcp import resources
from tui_agent.tools.mcp.prompts import PromptEntry
from tui_agent.tools.mcp.results import flatten, hints_text, tool_hints
from tui_agent.tools.mcp.support import describe, tool_name, unwrap

__all__ = ["STATES", "EventCallback", "McpManager", "ServerStatus", "mcp_client_side", "tool_name"]

EventCallback = Callable[[str, str], None]  # on_event(source, message), e.g. ("mcp:git", "restarting in 1s")


class McpManager(Lifecycle):
    """Connects every configured server concurrently; a failed one is reported, the others go on."""

    def __init__(self, configs: dict[str, ServerConfig] | list[ServerConfig], *, project: Path | None = None,
                 on_event: EventCallback | None = None, call_timeout: float = 120.0, connect_timeout: float = 30.0,
                 max_restarts: int = 5, backoff: tuple[float, float] = (0.5, 30.0),
                 log_level: types.LoggingLevel = "warning", client_side: ClientSide | None = None) -> None:
        items = configs.values() if isinstance(configs, dict) else configs
        self._servers = {c.name: Server(c) for c in items}
        self.project = Path(project) if project is not None else None
        self.on_event = on_event
        self.call_timeout, self.connect_timeout = call_timeout, connect_timeout
        self.max_restarts, self.backoff, self.log_level = max_restarts, backoff, log_level
        self.stable_after = 30.0  # seconds up after which a crash counts as the first one again
        self._routes: dict[str, tuple[str, str]] = {}
        self._closing = False
        # headless by default: questions are declined, sampling denied, and the events say so
        self.client_side = client_side or ClientSide(self._emit)
        # the OAuth browser step, (server, url): an event line; None (headless): a needed sign-in fails, naming
        # `tui-agent mcp login`
        self.show_sign_in: Callable[[str, str], None] | None = \
            lambda server, url: self._emit(server, f"authentication: open {url} in a browser to sign in")
        self.oauth_folder: Path | None = None  # the tokens' folder (None: the user's data folder)

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
                specs.append(ToolSpec(name, f"[{srv.config.name}]{hints_text(tool)} {desc}", schema))
        self._routes.update(routes)
        if self._resource_clients():
            specs += resources.SPECS
        return specs

    def hints(self, name: str) -> tuple[str, ...]:
        """What the server claims of a tool (read-only, destructive, ...): shown, and only ever tightening policy."""
        if name not in self._routes:
            self.specs()
        route = self._routes.get(name)
        srv = self._servers.get(route[0]) if route else None
        tool = next((t for t in srv.tools if t.name == route[1]), None) if srv and route else None
        return tool_hints(tool) if tool is not None else ()

    async def prompts(self) -> list[PromptEntry]:
        """Every ready server's prompts, for the command palette; a server that fails to list them is skipped."""
        entries: list[PromptEntry] = []
        for srv in self._servers.values():
            if srv.state == "ready" and srv.client is not None:
                try:
                    entries += await mcp_prompts.list_prompts(srv.config.name, srv.client)
                except Exception as exc:
                    self._emit(srv.config.name, f"could not list prompts: {describe(exc)}")
        return entries

    async def prompt_text(self, server: str, name: str, arguments: dict[str, str] | None = None) -> str:
        """A prompt's text to insert into the goal; raises ValueError naming what went wrong."""
        srv = self._servers.get(server)
        if srv is None or srv.client is None or srv.state != "ready":
            raise ValueError(f"MCP server {server!r} is not ready")
        try:
            return await mcp_prompts.prompt_text(srv.client, name, arguments)
        except Exception as exc:
            raise ValueError(f"{server}: prompt {name!r}: {describe(exc)}") from None

    def _resource_clients(self) -> dict[str, Any]:
        return {s.config.name: s.client for s in self._servers.values()
                if s.state == "ready" and resources.offers_resources(s.client)}

    async def call(self, name: str, arguments: dict, progress: ProgressCallback | None = None) -> ToolResult:
        if name in (resources.LIST, resources.READ):
            return await self._resource_call(name, arguments if isinstance(arguments, dict) else {})
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

    async def _resource_call(self, name: str, arguments: dict) -> ToolResult:
        clients = self._resource_clients()
        try:
            if name == resources.LIST:
                server = arguments.get("server")
                return await resources.list_resources(clients, server if isinstance(server, str) else None)
            return await resources.read_resource(clients, arguments)
        except Exception as exc:
            return ToolResult(f"{name} failed: {describe(exc)}", is_error=True)

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

    def _report(self, progress: ProgressCallback | None, server: str, message: str) -> None:
        if progress is not None:
            with contextlib.suppress(Exception):
                progress(f"[{server}] {message}")
        else:
            self._emit(server, message)


def mcp_client_side(manager: McpManager, model: Model, policy: Any, root: Path, loop: Callable[[], Any],
                    host: ClientHost | None = None) -> ClientSide:
    """The run's client side: sampling uses the run's model, by `sampling(server)` rules or the person's say-so,
    and its cost counts in the run's budget; the workspace is the one root. No host: headless (decline, deny)."""

    def verdict(server: str) -> str:
        return str(policy.evaluate("sampling", {"name": server}).action)

    def sampled(server: str, turn: ModelTurn) -> None:
        run = loop()
        run.progress.cost_usd += turn.cost_usd
        run.emit(SamplingSpent(server, model.name, turn.cost_usd))  # recorded: a resumed run keeps it in its budget

    return ClientSide(manager._emit, host=host, model=model, sampling_verdict=verdict, root=root, on_sampled=sampled)
