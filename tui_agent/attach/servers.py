"""The run's MCP servers for attached windows: their states, reasons and tools as plain data in the facts, sent again
(before the line that announces it) whenever a server's state moves, so that a window shows what the run's own does."""

from __future__ import annotations

from typing import Any

from tui_agent.attach.wire import line
from tui_agent.events import Event, ToolProgress
from tui_agent.handle import RunHandle


def servers_fact(run: RunHandle) -> list[dict[str, Any]]:
    """Each server's ServerStatus as plain data; [] when the project has none (or its manager is being closed)."""
    try:
        return [status.to_dict() for status in run.servers()]
    except Exception:  # a manager being closed: the next facts say how it ended
        return []


def moved(event: Event) -> bool:
    """A server's own state line (starting, ready, failed: ..., restarting), not a tool call's progress."""
    return isinstance(event, ToolProgress) and event.call_id is None and event.source.startswith("mcp:")


def servers_line(run: RunHandle, event: Event) -> bytes | None:
    """The facts line to send before `event` when it says a server moved (the window then reads the new state)."""
    return line("facts", {"servers": servers_fact(run)}) if moved(event) else None
