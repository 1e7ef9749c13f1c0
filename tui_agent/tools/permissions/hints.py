"""What an MCP server claims of its tools (annotations) may only tighten the policy, never loosen it.

A server can lie, so a claim never lets anything run that would not run without it:
- `destructiveHint`: the tool asks unless an allow rule names exactly this tool (a server-wide rule such as
  `mcp__git` or `mcp__git__*` does not cover it); deny and ask rules count as always.
- plan mode (read-only): an MCP tool not marked `readOnlyHint` is refused, whatever the allow and ask rules say;
  one marked read-only goes on to the rules and the person as usual (the claim alone runs nothing).
- `idempotentHint` and `openWorldHint` are shown, and change nothing.
Only an explicit `true` counts: the spec's default of destructive for a tool without annotations would make every
server-wide rule useless, and it is the absence of `readOnlyHint` that plan mode refuses anyway.
"""

from __future__ import annotations

from typing import Callable, Iterable

READ_ONLY, DESTRUCTIVE = "read-only", "destructive"  # as results.tool_hints words them
Hints = Callable[[str], Iterable[str]]  # a tool's name -> what its server claims of it


def is_mcp(name: str) -> bool:
    return name.startswith("mcp__")


def plan_refusal(name: str, hints: Iterable[str]) -> str | None:
    """Why plan mode refuses this call, or None: an MCP tool its server does not call read-only."""
    if is_mcp(name) and READ_ONLY not in hints:
        return f"the run is in plan mode (read-only) and the server does not mark {name} read-only"
    return None


def destructive(name: str, hints: Iterable[str]) -> bool:
    return is_mcp(name) and DESTRUCTIVE in hints


def names_exactly(rule_tool: str, name: str) -> bool:
    """Does a rule's tool part name exactly this tool (no wildcard, not the server alone)?"""
    return rule_tool == name and not any(c in rule_tool for c in "*?[")


def destructive_reason(name: str) -> str:
    return f"its server marks {name} destructive: only a rule naming exactly this tool allows it without asking"
