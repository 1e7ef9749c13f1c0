"""The events of a model turn: the request, streamed text, the response, retries; and each tool call's life."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from tui_agent.events.record import Event


# --- model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRequested(Event):
    """The exact request about to be sent to the model (for the inspector)."""

    type: ClassVar[str] = "model_requested"
    iteration: int
    turn: int
    request: dict


@dataclass(frozen=True)
class ModelDelta(Event):
    """Text streamed by the model as it arrives."""

    type: ClassVar[str] = "model_delta"
    iteration: int
    text: str


@dataclass(frozen=True)
class ModelResponded(Event):
    """One whole model turn: its content blocks (Anthropic format), usage and cost."""

    type: ClassVar[str] = "model_responded"
    iteration: int
    turn: int
    content: tuple  # content blocks: {"type": "text", ...} / {"type": "tool_use", ...}
    stop_reason: str
    usage: dict
    cost_usd: float
    duration_s: float = 0.0
    call_errors: dict = field(default_factory=dict)  # tool_use id -> why its call could not be parsed


@dataclass(frozen=True)
class ModelRetrying(Event):
    type: ClassVar[str] = "model_retrying"
    iteration: int
    attempt: int
    reason: str
    wait_s: float


# --- tools ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCallRequested(Event):
    type: ClassVar[str] = "tool_call_requested"
    iteration: int
    call_id: str
    name: str
    arguments: dict  # long strings shortened (the model's response holds them whole): see `shortened`
    shortened: bool = False
    hints: tuple = ()  # an MCP tool's annotations as its server claims them (read-only, destructive, ...)


@dataclass(frozen=True)
class ToolCallDecided(Event):
    type: ClassVar[str] = "tool_call_decided"
    call_id: str
    name: str
    decision: str  # "allow" | "deny"
    by: str  # "rule" | "person" | "headless" | "default" | "mode" (auto allowed it, plan refused it)
    rule: str | None = None
    arguments: dict | None = None  # set when the person edited the arguments before allowing


@dataclass(frozen=True)
class ToolCallFinished(Event):
    type: ClassVar[str] = "tool_call_finished"
    iteration: int
    call_id: str
    name: str
    result: str
    is_error: bool = False
    duration_s: float = 0.0
    images: tuple = ()  # Anthropic image blocks that go with the result


@dataclass(frozen=True)
class ToolProgress(Event):
    """Progress or log line from a tool (e.g. an MCP server's notification)."""

    type: ClassVar[str] = "tool_progress"
    call_id: str | None
    source: str
    message: str
