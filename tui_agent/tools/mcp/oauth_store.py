"""OAuth tokens for MCP HTTP servers, kept per (resource, issuer) in the user's data folder with 0600 permissions.

One file per protected resource (the server URL, canonical), named by its hash; inside, one entry per issuer.
A token is only ever read back for the same resource and, once the authorization server is known, the same
issuer: a second server naming the same issuer has another resource, so another file, and never sees it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Callable

from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

_UNKNOWN = ""  # the issuer before discovery (a token stored then is only given back while it stays unknown)


def oauth_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local/share")
    return Path(base) / "tui-agent" / "mcp-oauth"


def canonical_resource(url: str) -> str:
    """The resource identifier as RFC 8707 compares it: lower-case scheme and host, no fragment or trailing slash."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))


class FileTokenStorage:
    """The SDK's TokenStorage over one file per resource; `issuer()` says which authorization server is current."""

    def __init__(self, resource: str, issuer: Callable[[], str | None] = lambda: None,
                 folder: Path | None = None) -> None:
        self.resource = canonical_resource(resource)
        self.issuer = issuer
        self.folder = folder or oauth_dir()
        self.path = self.folder / (hashlib.sha256(self.resource.encode()).hexdigest()[:32] + ".json")

    def _issuer(self) -> str:
        return str(self.issuer() or _UNKNOWN)

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("resource") != self.resource:
            return {}  # a hash collision or a hand-edited file: never hand its tokens out
        return data

    def _entry(self, data: dict[str, Any]) -> dict[str, Any]:
        issuers = data.get("issuers") or {}
        current = self._issuer()
        if current in issuers:
            return issuers[current]
        if current == _UNKNOWN and data.get("last_issuer") in issuers:
            return issuers[data["last_issuer"]]  # at start-up: the token from the last sign-in to this resource
        return {}

    def _save(self, key: str, value: Any) -> None:
        data = self._load() or {"resource": self.resource, "issuers": {}}
        issuer = self._issuer()
        data.setdefault("issuers", {}).setdefault(issuer, {})[key] = value
        data["last_issuer"] = issuer
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    async def get_tokens(self) -> OAuthToken | None:
        raw = self._entry(self._load()).get("tokens")
        return OAuthToken.model_validate(raw) if raw else None

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self._save("tokens", tokens.model_dump(mode="json", exclude_none=True))
        if tokens.expires_in is not None:  # absolute, so that a restart knows an expired token needs a refresh
            self._save("expires_at", time.time() + float(tokens.expires_in))

    def expires_at(self) -> float | None:
        value = self._entry(self._load()).get("expires_at")
        return float(value) if isinstance(value, (int, float)) else None

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        raw = self._entry(self._load()).get("client_info")
        return OAuthClientInformationFull.model_validate(raw) if raw else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self._save("client_info", client_info.model_dump(mode="json", exclude_none=True))

    def forget(self) -> bool:
        """Remove this resource's tokens (sign out); whether there were any."""
        try:
            self.path.unlink()
            return True
        except FileNotFoundError:
            return False
