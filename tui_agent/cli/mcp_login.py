"""`tui-agent mcp login SERVER [--logout]`: sign in to (or out of) one of the project's HTTP MCP servers with OAuth."""

from __future__ import annotations

import argparse
import asyncio
import sys


def show_url(server: str, url: str) -> None:
    """The browser step as text: no browser is started (with no display Python would pick a text one here)."""
    print(f"To sign in to {server}, open this URL in a browser (it redirects back to this machine):\n  {url}",
          file=sys.stderr, flush=True)


def mcp_login(args: argparse.Namespace) -> int:
    from tui_agent.cli.mcp_client import _bad, _manager  # the MCP client only when it is used
    from tui_agent.tools.mcp.oauth import SIGN_IN_TIMEOUT_S
    from tui_agent.tools.mcp.oauth_store import FileTokenStorage

    manager = _manager(args.path, args.server, args.trust_project)
    if isinstance(manager, str):
        return _bad(manager)
    cfg = manager._servers[args.server].config
    if cfg.transport != "http":
        return _bad(f"{args.server} is a {cfg.transport} server: OAuth sign-in is for HTTP servers")
    store = FileTokenStorage(cfg.url)
    if args.logout:
        print(f"signed out of {args.server}" if store.forget() else f"no stored sign-in for {args.server}")
        return 0
    manager.show_sign_in = show_url
    manager.connect_timeout = max(manager.connect_timeout, 30.0)
    manager.max_restarts = 0

    async def run() -> int:
        async with manager:
            status = manager.servers()[0]
        if status.state != "ready":
            print(f"tui-agent: error: {args.server}: {status.reason}", file=sys.stderr)
            return 1
        where = f" (tokens in {store.path})" if store.path.exists() else " (it needs no sign-in)"
        print(f"signed in to {args.server}{where}")
        return 0

    return asyncio.run(asyncio.wait_for(run(), SIGN_IN_TIMEOUT_S + 60))

