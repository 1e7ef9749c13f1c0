"""A server's "oauth" settings from .mcp.json: validated with the file, without loading the MCP SDK."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OAuthSettings:
    """A server's "oauth" object; every key optional. Nothing here is needed for dynamic registration."""

    client_metadata_url: str | None = None  # an https URL of a client ID metadata document (SEP-991)
    client_id: str | None = None  # a pre-registered client
    client_secret: str | None = None
    scope: str | None = None
    redirect_port: int | None = None
    client_name: str = "tui-agent"

    @classmethod
    def from_dict(cls, raw: Any) -> "OAuthSettings":
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError('"oauth" must be an object')
        known = {k: raw[k] for k in ("client_metadata_url", "client_id", "client_secret", "scope", "redirect_port",
                                     "client_name") if k in raw}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(f'"oauth": unknown key {unknown[0]!r}')
        return cls(**known)
