"""A loopback OAuth authorization server and protected MCP servers built from the mcp SDK's own server pieces."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field

from mcp.server.auth.provider import (AccessToken, AuthorizationCode, AuthorizationParams, ProviderTokenVerifier,
                                      RefreshToken, construct_redirect_uri)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from tui_agent.mcp_server import bind, serve_http


class MemoryAS:
    """An authorization server that approves at once (the person said yes); it records what it was asked."""

    def __init__(self, access_ttl: int = 3600) -> None:
        self.access_ttl = access_ttl
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.authorizations: list[AuthorizationParams] = []
        self.refreshed = 0

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        assert client_info.client_id
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        self.authorizations.append(params)
        code = secrets.token_urlsafe(16)
        assert client.client_id
        self.codes[code] = AuthorizationCode(
            code=code, scopes=params.scopes or [], expires_at=time.time() + 300, client_id=client.client_id,
            code_challenge=params.code_challenge, redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly, resource=params.resource)
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client: OAuthClientInformationFull, code: str) -> AuthorizationCode | None:
        return self.codes.get(code)

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        access, refresh = "at-" + secrets.token_urlsafe(12), "rt-" + secrets.token_urlsafe(12)
        self.access[access] = AccessToken(token=access, client_id=client_id, scopes=scopes, resource=resource,
                                          expires_at=int(time.time()) + self.access_ttl)
        self.refresh[refresh] = RefreshToken(token=refresh, client_id=client_id, scopes=scopes, resource=resource)
        return OAuthToken(access_token=access, token_type="Bearer", expires_in=self.access_ttl,
                          refresh_token=refresh, scope=" ".join(scopes) or None)

    async def exchange_authorization_code(self, client: OAuthClientInformationFull,
                                          code: AuthorizationCode) -> OAuthToken:
        del self.codes[code.code]
        return self._issue(code.client_id, code.scopes, code.resource)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        return self.refresh.get(refresh_token)

    async def exchange_refresh_token(self, client: OAuthClientInformationFull, refresh_token: RefreshToken,
                                     scopes: list[str]) -> OAuthToken:
        self.refreshed += 1
        del self.refresh[refresh_token.token]
        return self._issue(refresh_token.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        return self.access.get(token)

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        self.access.pop(token.token, None)


@dataclass
class Protected:
    url: str
    seen: list[str] = field(default_factory=list)  # bearer tokens presented to this server


class RecordingVerifier(ProviderTokenVerifier):
    def __init__(self, provider: MemoryAS, seen: list[str]) -> None:
        super().__init__(provider)  # type: ignore[arg-type]
        self.seen = seen

    async def verify_token(self, token: str) -> AccessToken | None:
        self.seen.append(token)
        return await super().verify_token(token)


def _mcp(name: str, issuer: str, url: str, **auth: object) -> MCPServer:
    settings = AuthSettings(issuer_url=issuer, resource_server_url=url, validate_token_resource=True,  # type: ignore[arg-type]
                            client_registration_options=ClientRegistrationOptions(enabled=True))
    server = MCPServer(name, auth=settings, **auth)  # type: ignore[arg-type]

    @server.tool()
    def whoami() -> str:
        return f"hello from {name}"

    return server


@contextlib.contextmanager
def oauth_servers(provider: MemoryAS):
    """Two protected MCP servers in a thread: `first` is also the authorization server, `second` trusts it."""
    socks = [bind(0), bind(0)]
    base = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in socks]
    first, second = Protected(base[0] + "/mcp"), Protected(base[1] + "/mcp")
    servers = [_mcp("first", base[0], first.url, auth_server_provider=provider),
               _mcp("second", base[0], second.url, token_verifier=RecordingVerifier(provider, second.seen))]
    servers[0]._token_verifier = RecordingVerifier(provider, first.seen)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        await asyncio.gather(*(serve_http(srv, sock, stop) for srv, sock in zip(servers, socks, strict=True)))

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        for url in base:  # ready when the metadata answers
            for _ in range(200):
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(url + "/.well-known/oauth-protected-resource/mcp", timeout=5).read()
                    break
                time.sleep(0.05)
        yield first, second
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
