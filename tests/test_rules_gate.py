"""The gate says why a call asks when the reason is not obvious, and tells the model why a mode refused it."""

from __future__ import annotations

import pytest

from tui_agent.agent.gate import NOBODY, PERSON, PermissionGate
from tui_agent.commands import Answer
from tui_agent.events import ToolCallDecided, ToolProgress
from tui_agent.models.base import ToolCall
from tui_agent.tools.permissions.policy import Policy

pytestmark = pytest.mark.unit


async def test_a_non_literal_command_asks_and_says_why():
    gate = PermissionGate(Policy(deny=["run_command(rm *)"], mode="auto"), PERSON)
    seen: list = []
    gate.emit = seen.append

    async def ask() -> Answer:
        return Answer("c1", "deny")

    permit = await gate.decide(ToolCall("c1", "run_command", {"command": "R=rm; $R x"}), ask, False)
    assert not permit.allowed
    (note,) = [e for e in seen if isinstance(e, ToolProgress)]
    assert "not literal" in note.message and "$R" in note.message
    assert [(e.decision, e.by) for e in seen if isinstance(e, ToolCallDecided)] == [("deny", "person")]


async def test_headless_denial_and_plan_refusal_tell_the_model_why():
    async def never() -> Answer:
        return Answer("c", "deny")

    gate = PermissionGate(Policy(deny=["run_command(rm *)"], mode="auto"), NOBODY)
    permit = await gate.decide(ToolCall("c", "run_command", {"command": "eval \"$X\""}), never, False)
    assert "not literal" in permit.denial and "headless mode never asks" in permit.denial
    gate = PermissionGate(Policy(mode="plan"), NOBODY)
    permit = await gate.decide(ToolCall("c", "write_file", {"path": "a", "content": ""}), never, False)
    assert permit.denial == "denied: write_file: the run is in plan mode (read-only): nothing may change"
