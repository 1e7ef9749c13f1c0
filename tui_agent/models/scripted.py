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


def _fail(path: Path, where: str, what: str) -> BadModelSpec:
    return BadModelSpec(f"scripted model {path}: {where}: {what}")


def load_script(path: Path) -> dict:
    """Read and validate a script; raise BadModelSpec naming the problem and its place."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BadModelSpec(f"scripted model file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise _fail(path, f"line {exc.lineno} column {exc.colno}", f"invalid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadModelSpec(f"scripted model {path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list) or not data["turns"]:
        raise _fail(path, "top level", 'expected an object with a non-empty "turns" list')
    for i, turn in enumerate(data["turns"], 1):
        if not isinstance(turn, dict):
            raise _fail(path, f"turn {i}", "expected an object")
        if unknown := set(turn) - _TURN_KEYS:
            raise _fail(path, f"turn {i}", f"unknown key(s): {', '.join(sorted(unknown))}")
        for j, call in enumerate(turn.get("tool_calls", []) or [], 1):
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise _fail(path, f"turn {i} tool call {j}", 'expected {"name": ..., "arguments": {...}}')
            if not isinstance(call.get("arguments", {}), dict):
                raise _fail(path, f"turn {i} tool call {j}", '"arguments" must be an object')
    return data


def _last_user_text(request: ModelRequest) -> str:
    for message in reversed(request.messages):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, str):
                return content
            return "\n".join(str(b.get("text") or b.get("content") or "") for b in content)
    return ""


class ScriptedModel:
    def __init__(self, path: Path, start_turn: int = 0) -> None:
        self.path = Path(path)
        self.script = load_script(self.path)
        self.turns: list[dict] = self.script["turns"]
        self.position = start_turn  # turns already played (resume continues from here)
        self.delay_s = float(self.script.get("delay_s", 0))
        self.name = f"scripted:{path}"

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
