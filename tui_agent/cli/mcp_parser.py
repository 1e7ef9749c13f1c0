"""The `tui-agent mcp` subcommands' arguments: serve (the sandbox over MCP); list, call, login (project servers)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_mcp_commands(sub: argparse._SubParsersAction, parser_class: type, sandboxes: list[str]) -> None:
    """Add `mcp serve|list|call|login` to the top-level subcommands `sub`."""
    mcp = sub.add_parser("mcp", help="MCP: offer the sandbox to other agents; list and call the project's servers")
    mcp_sub = mcp.add_subparsers(dest="action", required=True, parser_class=parser_class)
    serve = mcp_sub.add_parser("serve", help="serve the sandbox over MCP (stdio, or streamable HTTP on 127.0.0.1)")
    serve.add_argument("path", type=Path, nargs="?", default=Path("."), help="the workspace folder to serve")
    serve.add_argument("--http", action="store_true", help="streamable HTTP on 127.0.0.1 instead of stdio")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--sandbox", choices=sandboxes, default="auto")
    listing = mcp_sub.add_parser("list", help="the project's MCP servers and their tools (starts them)")
    listing.add_argument("path", type=Path, nargs="?", default=Path("."), help="the project folder")
    listing.add_argument("--trust-project", action="store_true", dest="trust_project",
                         help="start the project's .mcp.json servers even if you have not trusted it yet")
    call = mcp_sub.add_parser("call", help="call one tool of one of the project's MCP servers")
    call.add_argument("server")
    call.add_argument("tool")
    call.add_argument("arguments", nargs="?", default="", help="the tool's arguments as a JSON object")
    call.add_argument("--path", type=Path, default=Path("."), help="the project folder (default: here)")
    call.add_argument("--trust-project", action="store_true", dest="trust_project",
                      help="start the project's .mcp.json servers even if you have not trusted it yet")
    login = mcp_sub.add_parser("login", help="sign in to one of the project's HTTP MCP servers (OAuth)")
    login.add_argument("server")
    login.add_argument("--path", type=Path, default=Path("."), help="the project folder (default: here)")
    login.add_argument("--logout", action="store_true", help="forget the stored tokens instead")
    login.add_argument("--trust-project", action="store_true", dest="trust_project",
                       help="start the project's .mcp.json servers even if you have not trusted it yet")
