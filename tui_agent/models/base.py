"""The Model protocol, its request and turn types, and the registry of model specs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

DeltaCallback = Callable[[str], None]  # streamed text as it arrives
# on_retry(attempt, reason, wait_s): a transient fault is being retried
RetryCallback = Callable[[int, str, float], None]


class ModelError(RuntimeError):
    """The model could not answer (after retries); the loop stops with this message."""


MISSING_KEY = "ANTHROPIC_API_KEY is not set: export it, or use --model scripted:FILE / replay:SESSION"


class BadModelSpec(ValueError):
    """A --model value that names no known provider or a missing file: exit code 2."""


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict

    def to_anthropic(self) -> dict:
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}


MAX_TOOL_ARGUMENTS = 1_000_000  # characters in one tool call's arguments; a larger call is refused, never run


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict
    error: str | None = None  # e.g. the arguments were not valid JSON


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ModelRequest:
    """What the loop asks the model: messages are in the Anthropic Messages format."""

    system: str
    messages: list[dict]
    tools: list[ToolSpec]
    max_tokens: int = 8192

    def to_dict(self) -> dict:
        return {
            "system": self.system,
            "messages": self.messages,
            "tools": [t.to_anthropic() for t in self.tools],
            "max_tokens": self.max_tokens,
        }


@dataclass(frozen=True)
class ModelTurn:
    """One whole response: content blocks in Anthropic format, plus what it cost."""

    content: tuple[dict, ...]
    stop_reason: str = "end_turn"
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    tool_calls: tuple[ToolCall, ...] = ()
    raw: dict[str, Any] | None = None  # the provider's response, for the inspector

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.content if b.get("type") == "text")


class Model(Protocol):
    name: str  # the spec, e.g. "anthropic:claude-sonnet-4-5" or "scripted:fix.json"

    async def complete(
        self, request: ModelRequest, on_delta: DeltaCallback, on_retry: RetryCallback | None = None
    ) -> ModelTurn:
        """Answer one request; raise ModelError when it cannot."""
