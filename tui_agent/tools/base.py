"""What a tool is to the loop: a spec the model sees and an async call returning a result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from tui_agent.models.base import ToolSpec

ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class ToolResult:
    content: str
    is_error: bool = False
    images: tuple[dict, ...] = ()  # Anthropic image blocks (an MCP tool's images reach the model as images)


class ToolError(Exception):
    """Raised by a tool to return an error result to the model (the loop goes on)."""


class ToolProvider(Protocol):
    """A source of tools: the built-ins, or one MCP server."""

    def specs(self) -> list[ToolSpec]: ...

    async def call(self, name: str, arguments: dict, progress: ProgressCallback | None = None) -> ToolResult: ...


ToolFunction = Callable[[dict], Awaitable[ToolResult]]
