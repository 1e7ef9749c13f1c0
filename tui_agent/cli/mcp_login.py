"""`tui-agent mcp login SERVER [--logout]`: sign in to (or out of) one of the project's HTTP MCP servers with OAuth."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from tui_agent.sanitize import one_line, visible  # every string of the server's or the project's, shown escaped


def show_url(server: str, url: str) -> None:
    """The browser step as text: no browser is started (with no display Python would pick a text one here)."""
    print(f"To sign in to {one_line(server)}, open this URL in a browser (it redirects back to this machine):\n"
          f"  {one_line(url)}", file=sys.stderr, flush=True)


class _Visible(logging.Formatter):
    """What the MCP SDK logs (an OAuth error quotes the server's response) with hidden characters spelled out."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def _show_sdk_logs_escaped() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Visible("%(name)s: %(message)s"))
    sdk = logging.getLogger("mcp")
    sdk.addHandler(handler)
    sdk.propagate = False  # else Python's last-resort handler prints it raw


def mcp_login(args: argparse.Namespace) -> int:
    _show_sdk_logs_escaped()
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
        print(one_line(f"signed out of {args.server}" if store.forget() else f"no stored sign-in for {args.server}"))
        return 0
    manager.show_sign_in = show_url
    manager.connect_timeout = max(manager.connect_timeout, 30.0)
    manager.max_restarts = 0

    async def run() -> int:
        async with manager:
            status = manager.servers()[0]
        if status.state != "ready":
            print(f"tui-agent: error: {one_line(f'{args.server}: {status.reason}')}", file=sys.stderr)
            return 1
        where = f" (tokens in {store.path})" if store.path.exists() else " (it needs no sign-in)"
        print(one_line(f"signed in to {args.server}{where}"))
        return 0

    return asyncio.run(asyncio.wait_for(run(), SIGN_IN_TIMEOUT_S + 60))

