"""OAuth for MCP HTTP servers (spec 2025-11-25) through the SDK's OAuthClientProvider.

The SDK does discovery (RFC 9728 protected-resource metadata, RFC 8414 / OIDC authorization-server metadata),
PKCE S256, the `resource` parameter (RFC 8707), refresh and step-up scopes on 403 insufficient_scope. Here: the
settings from `.mcp.json` ("oauth": {...}), tokens on disk (oauth_store), dynamic registration by default and a
client ID metadata document URL only when configured, and the browser step: the URL is shown to the person (an
event line in the TUI, a printed line for `tui-agent mcp login`) and the redirect comes back to a loopback
listener. Python's `webbrowser` is never used: with no display it would start a text browser on our own terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from mcp.client.auth import OAuthClientProvider, OAuthFlowError
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata

from tui_agent.tools.mcp.oauth_settings import OAuthSettings
from tui_agent.tools.mcp.oauth_store import FileTokenStorage

CALLBACK_PATH = "/callback"
SIGN_IN_TIMEOUT_S = 300.0
ShowUrl = Callable[[str, str], None]  # (server name, authorization URL)
_PAGE = b"<html><body><p>tui-agent: signed in. You can close this tab.</p></body></html>"


class AuthenticationRequired(OAuthFlowError):
    """The server wants a sign-in and nobody is there to do it (headless)."""


def authentication_reason(server: str, status: int, reason: str) -> str:
    """A connection that ended on an HTTP 401/403 says "authentication", and what to do, not just "error"."""
    if "authentication" in reason:
        return reason
    what = "authentication failed" if status == 401 else "authentication: access denied (insufficient rights)"
    return (f"{what} (HTTP {status} from the server): check its \"headers\" in .mcp.json, "
            f"or sign in with `tui-agent mcp login {server}` ({reason})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackSignIn:
    """The redirect and callback handlers: show the URL, then wait on 127.0.0.1 for the browser's redirect."""

    def __init__(self, server: str, port: int, show: ShowUrl | None, timeout: float = SIGN_IN_TIMEOUT_S) -> None:
        self.server, self.port, self.show, self.timeout = server, port, show, timeout
        self._result: asyncio.Future[AuthorizationCodeResult] | None = None
        self._listener: asyncio.AbstractServer | None = None
        self.waiting = False  # between showing the URL and the redirect: the person's time, not the server's

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    async def redirect(self, url: str) -> None:
        if self.show is None:
            raise AuthenticationRequired(
                f"authentication required by MCP server {self.server!r}: run `tui-agent mcp login {self.server}`")
        self._result = asyncio.get_running_loop().create_future()
        self._listener = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.waiting = True
        self.show(self.server, url)

    async def callback(self) -> AuthorizationCodeResult:
        assert self._result is not None
        try:
            return await asyncio.wait_for(self._result, self.timeout)
        except TimeoutError:
            raise OAuthFlowError(f"authentication: no sign-in for {self.server!r} within {self.timeout:g}s") from None
        finally:
            self.waiting = False
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
            target = line.split(" ")[1] if line.count(" ") >= 2 else ""
            parts = urlsplit(target)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            found = parts.path == CALLBACK_PATH and ("code" in query or "error" in query)
            status = b"200 OK" if found else b"404 Not Found"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/html\r\nConnection: close\r\n"
                         + b"Content-Length: " + str(len(_PAGE)).encode() + b"\r\n\r\n" + _PAGE)
            await writer.drain()
            if found and self._result is not None and not self._result.done():
                if "code" in query:
                    self._result.set_result(AuthorizationCodeResult(
                        code=query["code"], state=query.get("state"), iss=query.get("iss")))
                else:
                    self._result.set_exception(OAuthFlowError(
                        f"authentication refused: {query['error']} {query.get('error_description', '')}".strip()))
        writer.close()


class Provider(OAuthClientProvider):
    """The SDK's provider with its sign-in step at hand (the manager waits longer while a person signs in)."""

    sign_in: LoopbackSignIn

    async def _initialize(self) -> None:
        await super()._initialize()
        storage = self.context.storage
        if self.context.current_tokens is not None and isinstance(storage, FileTokenStorage):
            self.context.token_expiry_time = storage.expires_at()  # a stored token past it is refreshed first


class _Configured(FileTokenStorage):
    """A pre-registered client: its configured id is the registration, nothing is sent to a registration endpoint."""

    def __init__(self, info: OAuthClientInformationFull, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._info = info

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self._info


def _stored_redirect_port(storage: FileTokenStorage) -> int | None:
    info = storage._entry(storage._load()).get("client_info") or {}
    for uri in info.get("redirect_uris") or []:
        parts = urlsplit(str(uri))
        if parts.hostname == "127.0.0.1" and parts.port:
            return parts.port
    return None


def make_provider(name: str, url: str, settings: OAuthSettings | None = None, *, show: ShowUrl | None = None,
                  folder: Path | None = None) -> Provider:
    """An httpx auth for one server; `show` None means headless: a needed sign-in fails with a clear message."""
    settings = settings or OAuthSettings()
    holder: list[Provider] = []

    def issuer() -> str | None:
        meta = holder[0].context.oauth_metadata if holder else None
        return str(meta.issuer) if meta is not None else None

    storage: FileTokenStorage = FileTokenStorage(url, issuer, folder)
    port = settings.redirect_port or _stored_redirect_port(storage) or _free_port()
    sign_in = LoopbackSignIn(name, port, show)
    auth_method = "client_secret_basic" if settings.client_secret else "none"
    metadata = OAuthClientMetadata(redirect_uris=[sign_in.redirect_uri], client_name=settings.client_name,  # type: ignore[list-item]
                                   scope=settings.scope, token_endpoint_auth_method=auth_method,  # type: ignore[arg-type]
                                   grant_types=["authorization_code", "refresh_token"])
    if settings.client_id:
        info = OAuthClientInformationFull(client_id=settings.client_id, client_secret=settings.client_secret,
                                          redirect_uris=[sign_in.redirect_uri],  # type: ignore[list-item]
                                          token_endpoint_auth_method=auth_method)
        storage = _Configured(info, url, issuer, folder)
    provider = Provider(url, metadata, storage, redirect_handler=sign_in.redirect, callback_handler=sign_in.callback,
                        client_metadata_url=settings.client_metadata_url)
    provider.sign_in = sign_in
    holder.append(provider)
    return provider


