"""Size bounds on what the model sends: an over-long tool call is refused before anything parses it, and long
arguments are echoed (events, audit log) shortened, since the model's response already holds them once."""

from __future__ import annotations

import dataclasses
from typing import Any

from tui_agent.models.base import MAX_TOOL_ARGUMENTS, ModelTurn
from tui_agent.tools.base import ToolResult
from tui_agent.tools.permissions.policy import AuditLog

MAX_COMMAND = 128 * 1024  # Linux refuses one argv string over 128 KiB (MAX_ARG_STRLEN): `sh -c` could not run it
ECHO_OVER = 16_000  # a string argument longer than this is echoed shortened ...
ECHO_KEEP = 4_000  # ... to its first characters
ECHO_ITEMS = 200  # items of a list echoed
MAX_RESULT = 400_000  # characters of a tool's result (an MCP server's, say) the model and the session get


def measure(value: Any, limit: int) -> int:
    """Characters in `value`'s strings, keys and scalars; stops counting once past `limit` (no copy is made)."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            total += len(item)
            stack.extend(item)
        else:
            total += 8
    return total


def over_cap(name: str, arguments: Any) -> str | None:
    """Why a call is refused for its size (what the model is told), or None."""
    size = measure(arguments, MAX_TOOL_ARGUMENTS)
    if size > MAX_TOOL_ARGUMENTS:
        return (f"{name} refused: its arguments are over {MAX_TOOL_ARGUMENTS:,} characters (the cap on one call), "
                "so nothing ran. Send it in smaller pieces (e.g. write a file in parts, then edit_file).")
    command = arguments.get("command") if name == "run_command" and isinstance(arguments, dict) else None
    if isinstance(command, str) and len(command) > MAX_COMMAND:
        return (f"run_command refused: the command is {len(command):,} characters, over the {MAX_COMMAND:,} a "
                "single command can be, so nothing ran. Write a script with write_file and run that.")
    return None


def shorten(value: Any) -> Any:
    """`value` with long strings (and lists) cut to their head, and a note of what was left out."""
    if isinstance(value, str):
        if len(value) <= ECHO_OVER:
            return value
        return value[:ECHO_KEEP] + f"… [{len(value) - ECHO_KEEP:,} more characters not shown]"
    if isinstance(value, dict):
        return {k: shorten(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        more = [f"… [{len(value) - ECHO_ITEMS:,} more items not shown]"] if len(value) > ECHO_ITEMS else []
        return [shorten(v) for v in value[:ECHO_ITEMS]] + more
    return value


def bound_turn(turn: ModelTurn) -> ModelTurn:
    """The turn with each over-long call refused (an error result, its arguments shortened everywhere)."""
    refused = {c.id: why for c in turn.tool_calls if not c.error and (why := over_cap(c.name, c.arguments))}
    if not refused:
        return turn
    calls = tuple(dataclasses.replace(c, arguments=shorten(c.arguments), error=refused[c.id]) if c.id in refused
                  else c for c in turn.tool_calls)
    content = tuple({**b, "input": shorten(b.get("input"))} if b.get("type") == "tool_use" and b.get("id") in refused
                    else b for b in turn.content)
    return dataclasses.replace(turn, content=content, tool_calls=calls, raw=None)


def bound_result(result: ToolResult) -> ToolResult:
    """A tool's result cut to MAX_RESULT characters, saying how much was left out."""
    if len(result.content) <= MAX_RESULT:
        return result
    cut = f"\n[... {len(result.content) - MAX_RESULT:,} more characters of this result not shown ...]"
    return dataclasses.replace(result, content=result.content[:MAX_RESULT] + cut)  # images kept


class BoundedAudit(AuditLog):
    """The audit log with long arguments shortened: a 1 MB write_file is recorded once, in the session."""

    def record(self, name: str, arguments: dict, *args: Any, **kwargs: Any) -> dict:
        return super().record(name, shorten(arguments), *args, **kwargs)
