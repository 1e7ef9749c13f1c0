"""`tui-agent mcp list [PATH]`, `tui-agent mcp call SERVER TOOL [JSON]`: the project's servers, the agent's client."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from tui_agent import config
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.mcp.manager import McpManager, tool_name
from tui_agent.sanitize import one_line, visible


def _servers(project: Path, trust_project: bool) -> dict[str, mcp_config.ServerConfig] | str:
    """`mcp list/call` start the project's servers, so they pass the project-trust gate like a run does."""
    try:
        settings = config.load(project, trust_project=trust_project or None)
        servers = mcp_config.servers_for(settings)
    except (config.ConfigError, mcp_config.ConfigError) as exc:
        return str(exc)
    if (project / mcp_config.PROJECT_FILE).exists() and not mcp_config.trusted_now(settings):
        return (f"{project / mcp_config.PROJECT_FILE} is not trusted yet, so its servers were not started: "
                "trust the project at its next `tui-agent run`, or pass --trust-project")
    return servers


def _bad(message: str) -> int:
    print(f"tui-agent: error: {one_line(message)}", file=sys.stderr)
    return 2


def _manager(project: Path, only: str | None, trust_project: bool) -> McpManager | str:
    if not project.is_dir():
        return f"{project}: not a folder"
    servers = _servers(project, trust_project)
    if isinstance(servers, str):
        return servers
    if only is not None:
        if only not in servers:
            return f"no MCP server {only!r} in {project} (servers: {', '.join(servers) or 'none'})"
        servers = {only: servers[only]}
    events: list[str] = []
    manager = McpManager(servers, project=project, on_event=lambda source, message: events.append(message))
    manager.show_sign_in = None  # list/call never wait for a sign-in: a server that needs one names `mcp login`
    return manager


def mcp_list(args: argparse.Namespace) -> int:
    manager = _manager(args.path, None, args.trust_project)
    if isinstance(manager, str):
        return _bad(manager)

    async def run() -> None:
        async with manager:
            specs = {s.name: s for s in manager.specs()}
            for status in manager.servers():
                why = f": {status.reason}" if status.reason else ""
                print(one_line(f"{status.name} ({status.transport}) {status.state}{why}"))
                for tool in status.tools:
                    name = tool_name(status.name, tool)
                    hints = manager.hints(name) if name in specs else ()
                    print(one_line(f"  {name}" + (f"  [{', '.join(hints)}]" if hints else "")))

    asyncio.run(run())
    return 0


def mcp_call(args: argparse.Namespace) -> int:
    try:
        arguments = json.loads(args.arguments) if args.arguments else {}
    except json.JSONDecodeError as exc:
        return _bad(f"the arguments are not JSON: {exc}")
    if not isinstance(arguments, dict):
        return _bad("the arguments must be a JSON object")
    manager = _manager(args.path, args.server, args.trust_project)
    if isinstance(manager, str):
        return _bad(manager)

    async def run() -> int:
        async with manager:
            status = manager.servers()[0]
            if status.state != "ready":
                print(one_line(f"tui-agent: error: {status.name} is {status.state}: {status.reason}"), file=sys.stderr)
                return 1
            if args.tool not in status.tools:
                print(one_line(f"tui-agent: error: {status.name} has no tool {args.tool!r} "
                               f"(tools: {', '.join(status.tools)})"), file=sys.stderr)
                return 2
            result = await manager.call(tool_name(status.name, args.tool), arguments)
            print(visible(result.content))
            return 1 if result.is_error else 0

    return asyncio.run(run())

