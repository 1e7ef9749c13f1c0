"""`tui-agent serve`: `tui-agent attach` in a browser, through textual-serve, guarded by a token and the Origin.

textual-serve starts a new process per websocket and checks neither a token nor the Origin; here each websocket
starts `tui-agent attach SESSION` (a window on the one live run: never a second run, never a second bill), the
page and the websocket are reached only under a random token, and a websocket from another Origin is refused."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import secrets
import shlex
import signal
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server, to_int


def attach_command(session_dir: Path) -> str:
    """The shell command textual-serve runs for each browser window."""
    return " ".join(shlex.quote(part) for part in
                    (sys.executable, "-m", "tui_agent.cli.main", "attach", str(session_dir)))


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class GuardedServer(Server):
    """A textual-serve Server whose page is /TOKEN and websocket /ws/TOKEN, the Origin checked on the websocket."""

    def __init__(self, session_dir: Path, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 public_url: str | None = None) -> None:
        port = port or free_port(host)
        shown = f"[{host}]" if ":" in host else host
        super().__init__(attach_command(session_dir), host=host, port=port, title=f"tui-agent · {session_dir.name}",
                         public_url=(public_url or f"http://{shown}:{port}").rstrip("/"))
        self.token = token or secrets.token_urlsafe(24)
        self.refused = 0

    @property
    def url(self) -> str:
        return f"{self.public_url}/{self.token}"

    def initialize_logging(self) -> None:  # textual-serve's own logging would print every request
        return None

    def serve(self, debug: bool = False) -> None:
        """Like textual-serve's, but the URL (with its token) is said once the port is listening."""
        self.debug = debug
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        said = f"tui-agent: serving the run in the browser at {self.url} (Ctrl+C stops serving, not the run)"
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                    print=lambda *_: print(said, flush=True))

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/{token}", self.guarded_index, name="index"),
            web.get("/ws/{token}", self.guarded_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        return app

    def allowed(self, request: web.Request, *, origin_required: bool) -> bool:
        token_ok = hmac.compare_digest(request.match_info.get("token", "").encode(), self.token.encode())
        origin = request.headers.get("Origin")
        origin_ok = origin == self.public_url if (origin is not None or origin_required) else True
        if not (token_ok and origin_ok):
            self.refused += 1
        return token_ok and origin_ok

    async def guarded_index(self, request: web.Request) -> web.StreamResponse:
        if not self.allowed(request, origin_required=False):
            raise web.HTTPForbidden(text="tui-agent: wrong token or origin")
        context: dict[str, Any] = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"ws{self.public_url.removeprefix('http')}/ws/{self.token}",
            "config": {"static": {"url": f"{self.public_url}/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of other sites' logs
        return response

    async def guarded_websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.allowed(request, origin_required=True):
            raise web.HTTPForbidden(text="tui-agent: wrong token or origin")
        return await self.handle_websocket(request)


def serve_attach(session_dir: Path, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None) -> int:
    """Serve until Ctrl+C or SIGTERM; the run is not stopped (stopping is a command, from any window)."""
    if not ipaddress_is_loopback(host):
        print(f"tui-agent: warning: listening on {host}: anyone who can reach it and has the URL (its token) "
              "controls the run; the connection is not encrypted", file=sys.stderr, flush=True)
    GuardedServer(session_dir, host, port, public_url=public_url).serve()
    return 0


def ipaddress_is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def check_public_url(url: str) -> str:
    """The address browsers use, as an Origin: http(s)://HOST[:PORT], nothing after it (ValueError otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"--public-url must look like http://HOST:PORT, not {url!r}")
    return url.rstrip("/")
