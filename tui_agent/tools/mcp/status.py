"""ServerStatus: one MCP server as a window shows it (state, reason, tools), and the same as plain data (attach)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

STATES = ("starting", "ready", "failed", "restarting", "stopped")
MAX_SERVERS = 256  # a window shows this many at most (plain data from a socket is bounded before it is used)
MAX_TOOLS = 1024


@dataclass
class ServerStatus:
    """One server as the TUI panel shows it."""

    name: str
    state: str  # starting | ready | failed | restarting | stopped
    reason: str | None
    tools: tuple[str, ...]
    transport: str
    restarts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tools": list(self.tools)}

    @classmethod
    def from_dict(cls, data: Any) -> ServerStatus:
        """From plain data (another process's): every field checked; ValueError when it is not a server's status."""
        if not isinstance(data, dict):
            raise ValueError("a server's status is an object")
        name, state, reason, transport = (data.get(k) for k in ("name", "state", "reason", "transport"))
        tools, restarts = data.get("tools", []), data.get("restarts", 0)
        if not (isinstance(name, str) and state in STATES and isinstance(transport, str)
                and (reason is None or isinstance(reason, str)) and isinstance(tools, list)
                and all(isinstance(t, str) for t in tools) and type(restarts) is int):
            raise ValueError(f"not a server's status: {str(data)[:200]}")
        return cls(name, state, reason, tuple(tools[:MAX_TOOLS]), transport, restarts)


def statuses(data: Any) -> tuple[ServerStatus, ...]:
    """The list a run sent (facts["servers"]); what is not a server's status is left out."""
    out: list[ServerStatus] = []
    for item in data[:MAX_SERVERS] if isinstance(data, list) else ():
        try:
            out.append(ServerStatus.from_dict(item))
        except ValueError:
            continue
    return tuple(out)
