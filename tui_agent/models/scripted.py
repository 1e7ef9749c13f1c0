"""A deterministic model that plays model turns from a JSON file: for tests, the demo and examples.

File format (JSON):

    {
      "description": "what this script does",
      "turns": [
        {"text": "I'll read the failing test.",
         "tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
        {"expect": "ZeroDivisionError",
         "text": "Fixing the division.",
         "tool_calls": [{"name": "edit_file", "arguments": {"path": "calc.py", "old_string": "a / b",
                                                          "new_string": "a / b if b else 0"}}]},
        {"text": "Done: division by zero now returns 0."}
      ]
    }

Each turn is one model response. A turn without tool_calls ends the model's part of an iteration
(the check runs next). Optional per turn: "expect" (a string the latest prompt must contain, else
the model fails loudly: tests use it to prove the traceback reached the model), "usage"
({"input_tokens", "output_tokens", ...}), "cost_usd". Optional top level: "delay_s" (pause between
streamed words, to make the demo watchable).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tui_agent.models.base import BadModelSpec, ModelError, ModelRequest, ModelTurn, ToolCall, Usage

_TURN_KEYS = {"text", "tool_calls", "expect", "usage", "cost_usd"}


def load_script(path: Path) -> dict:
    """Read and validate a script; raise BadModelSpec naming the problem and its place."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BadModelSpec(f"scripted model file not found: {path}") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise BadModelSpec(f"scripted model {path}: {where}: invalid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadModelSpec(f"scripted model {path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list) or not data["turns"]:
        raise BadModelSpec(f'scripted model {path}: top level: expected an object with a non-empty "turns" list')
    for i, turn in enumerate(data["turns"], 1):
        check_turn(turn, f"scripted model {path}: turn {i}")
    return data


def check_turn(turn: object, where: str) -> None:
    """Raise BadModelSpec (prefixed with `where`) when `turn` is not a turn of the format above."""
    if not isinstance(turn, dict):
        raise BadModelSpec(f"{where}: expected an object")
    if unknown := set(turn) - _TURN_KEYS:
        raise BadModelSpec(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
    for j, call in enumerate(turn.get("tool_calls", []) or [], 1):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise BadModelSpec(f'{where} tool call {j}: expected {{"name": ..., "arguments": {{...}}}}')
        if not isinstance(call.get("arguments", {}), dict):
            raise BadModelSpec(f'{where} tool call {j}: "arguments" must be an object')


def _last_user_text(request: ModelRequest) -> str:
    for message in reversed(request.messages):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, str):
                return content
            return "\n".join(str(b.get("text") or b.get("content") or "") for b in content)
    return ""


class ScriptedModel:
    """Plays its turns in order: from a script file (`scripted:FILE`), or queued by a test with enqueue()."""

    def __init__(self, turns: list[dict] | None = None, *, name: str = "scripted", start_turn: int = 0,
                 delay_s: float = 0.0) -> None:
        self.turns: list[dict] = []
        self.position = start_turn  # turns already played (resume continues from here)
        self.delay_s, self.name = delay_s, name
        self.enqueue(*(turns or ()))

    @classmethod
    def from_file(cls, path: Path, start_turn: int = 0) -> "ScriptedModel":
        script = load_script(Path(path))
        return cls(script["turns"], name=f"scripted:{path}", start_turn=start_turn,
                   delay_s=float(script.get("delay_s", 0)))

    def enqueue(self, *turns: dict) -> None:
        """Queue model turns (the file format's turn objects), played after those already queued."""
        for turn in turns:
            check_turn(turn, f"scripted turn {len(self.turns) + 1}")
            self.turns.append(turn)

    async def complete(self, request: ModelRequest, on_delta, on_retry=None) -> ModelTurn:
        if self.position >= len(self.turns):
            raise ModelError(f"the scripted model ran out of turns ({len(self.turns)} played)")
        turn = self.turns[self.position]
        self.position += 1
        if "expect" in turn and turn["expect"] not in _last_user_text(request):
            raise ModelError(f"scripted turn {self.position}: expected {turn['expect']!r} in the prompt")
        text = turn.get("text", "")
        for word in text.split(" ") if text else []:
            on_delta(word + " ")
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
        content: list[dict] = [{"type": "text", "text": text}] if text else []
        calls = []
        for j, call in enumerate(turn.get("tool_calls", []) or []):
            call_id = f"toolu_s{self.position:03d}_{j}"
            arguments = call.get("arguments", {})
            content.append({"type": "tool_use", "id": call_id, "name": call["name"], "input": arguments})
            calls.append(ToolCall(call_id, call["name"], arguments))
        usage = Usage(**turn.get("usage", {}))
        return ModelTurn(
            content=tuple(content),
            stop_reason="tool_use" if calls else "end_turn",
            usage=usage,
            cost_usd=float(turn.get("cost_usd", 0.0)),
            tool_calls=tuple(calls),
        )
