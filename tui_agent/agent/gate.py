"""The permission gate: the rules decide a tool call, or the person does; who decided, the audit, the denial."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from tui_agent.commands import Answer
from tui_agent.events import Event, ToolCallDecided, ToolProgress
from tui_agent.models.base import ToolCall
from tui_agent.tools.permissions.policy import Policy


@dataclass(frozen=True)
class WhoAnswers:
    """Who answers what the loop asks (a tool call, going on at a pause, the deploy): the person, or nobody.

    Nobody (headless): what the rules would ask about is denied, breakpoints are ignored, no progress
    ends the run, and nothing is offered for deploy."""

    name: str  # how a decision is recorded (ToolCallDecided.by)
    present: bool

    def denial(self, tool: str, reason: str = "") -> str:
        """What the model is told when a call the rules leave to this answerer does not run."""
        if self.present:
            return f"denied by the {self.name}: {tool}"
        why = f" ({reason})" if reason else ""
        return f"denied: {tool} needs the person's permission{why}, and {self.name} mode never asks"


PERSON = WhoAnswers("person", present=True)
NOBODY = WhoAnswers("headless", present=False)


@dataclass(frozen=True)
class Permit:
    """The gate's answer: run the call (with these arguments, maybe the person's edit), or tell the model why not."""

    allowed: bool
    arguments: dict[str, Any]
    denial: str = ""


Ask = Callable[[], Awaitable[Answer]]
BIG_ARGUMENTS = 64 * 1024  # characters of string arguments above which the rules are matched in a thread


def _size(arguments: object) -> int:
    if not isinstance(arguments, dict):
        return 0
    return sum(len(v) for v in arguments.values() if isinstance(v, str))


class PermissionGate:
    """Each tool call passes here once: rule, default or the person; every decision audited and emitted."""

    def __init__(self, policy: Policy, who: WhoAnswers) -> None:
        self.policy, self.who = policy, who
        self.emit: Callable[[Event], None] = lambda event: None

    async def decide(self, call: ToolCall, ask: Ask, answered_ahead: bool) -> Permit:
        if _size(call.arguments) > BIG_ARGUMENTS:  # parsing a long command takes a while: not on the event loop
            verdict = await asyncio.to_thread(self.policy.evaluate, call.name, call.arguments)
        else:
            verdict = self.policy.evaluate(call.name, call.arguments)
        action, rule, edited = verdict.action, verdict.rule, None
        if action == "allow" and answered_ahead:
            action, rule = "ask", None  # the person answered (maybe edited) it at a breakpoint: that answer counts
        by = verdict.by
        if action == "ask":
            if verdict.reason:  # e.g. a command the rules can't read: say why this one asks
                self.emit(ToolProgress(call.id, call.name, f"asks: {verdict.reason}"))
            answer = await ask()
            by, edited = self.who.name, answer.arguments
            action = "allow" if answer.action in ("allow", "always") else "deny"
            if answer.action == "always":
                rule = self.policy.allow_always(call.name, edited or call.arguments)
        self.policy.record(call.name, edited or call.arguments, action, by, rule=rule, call_id=call.id)
        self.emit(ToolCallDecided(call.id, call.name, action, by, rule, edited))
        if action == "allow":
            return Permit(True, edited or call.arguments)
        if by == self.who.name:
            denial = self.who.denial(call.name, verdict.reason)
        elif verdict.by == "mode":
            denial = f"denied: {call.name}: {verdict.reason}"
        else:
            denial = f"denied by rule {rule}: {call.name}"
        return Permit(False, call.arguments, denial)
