"""A model that answers with the responses recorded in a session file: replay without a key."""

from __future__ import annotations

from pathlib import Path

from tui_agent.config import ConfigError
from tui_agent.events import ModelResponded
from tui_agent.models.base import BadModelSpec, ModelError, ModelRequest, ModelTurn, ToolCall, Usage
from tui_agent.sessions.recorder import effective, read_events


class ReplayModel:
    def __init__(self, path: Path, start_turn: int = 0) -> None:
        try:
            events = effective(read_events(Path(path)))
        except FileNotFoundError:
            raise BadModelSpec(f"replay: no session file at {path}") from None
        except ConfigError as exc:
            raise BadModelSpec(f"replay: {exc}") from None
        self.responses = [e for e in events if isinstance(e, ModelResponded)]
        if not self.responses:
            raise BadModelSpec(f"replay: {path} holds no model responses")
        self.position = start_turn
        self.name = f"replay:{path}"

    async def complete(self, request: ModelRequest, on_delta, on_retry=None) -> ModelTurn:
        if self.position >= len(self.responses):
            raise ModelError(f"the recorded session has no more model responses ({len(self.responses)} replayed)")
        recorded = self.responses[self.position]
        self.position += 1
        content = tuple(dict(block) for block in recorded.content)
        for block in content:
            if block.get("type") == "text":
                on_delta(block["text"])
        calls = tuple(
            ToolCall(b["id"], b["name"], dict(b.get("input") or {}), recorded.call_errors.get(b["id"]))
            for b in content if b.get("type") == "tool_use"
        )
        return ModelTurn(content, recorded.stop_reason, Usage(**recorded.usage), recorded.cost_usd, calls)
