"""The conversation is a pure function of the events: the same messages live, rebuilt from a record, and on resume."""

import asyncio
from dataclasses import replace

import pytest
from fakes import edit

from tui_agent.agent.control import Controller
from tui_agent.agent.conversation import Conversation, check_report
from tui_agent.agent.loop import AgentLoop
from tui_agent.config import Criteria
from tui_agent.events import (
    CheckFinished, Event, IterationFinished, ModelResponded, PlanUpdated, SessionResumed, SessionStarted,
    ToolCallFinished,
)
from tui_agent.sessions.recorder import whole_iterations

pytestmark = pytest.mark.unit

START = SessionStarted("s", "/p", "fix it", "pytest -q", "scripted", "fake", "/w")


def rebuilt(events: list[Event]) -> list[dict]:
    conversation = Conversation()
    for event in events:
        conversation.apply(event)
    return conversation.messages


def test_events_become_anthropic_messages():
    use = {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "a.py"}}
    plan = ({"title": "read", "status": "done"}, {"title": "fix", "status": "in_progress"})
    messages = rebuilt([
        START,
        CheckFinished(0, 1, False, 0.1, output_tail="Traceback\nKeyError: 'x'"),
        ModelResponded(1, 1, ({"type": "text", "text": "reading"}, use), "tool_use", {}, 0.0),
        ToolCallFinished(1, "t1", "read_file", "no such file in the workspace: a.py", is_error=True),
        PlanUpdated(plan),
        CheckFinished(1, 1, False, 0.1, output_tail="still KeyError"),
    ])
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    goal, report = messages[0]["content"]
    assert goal["text"] == "Goal: fix it" and "failed (exit code 1) before any change" in report["text"]
    assert "KeyError: 'x'" in report["text"]
    result, again = messages[2]["content"]
    assert result == {"type": "tool_result", "tool_use_id": "t1", "is_error": True,
                      "content": "no such file in the workspace: a.py"}
    assert "after iteration 1" in again["text"] and "- [in_progress] fix" in again["text"], "the plan, on failure"


@pytest.mark.parametrize("check, said", [
    (CheckFinished(2, 0, True, 0.1), "passed after iteration 2"),
    (CheckFinished(2, None, False, 120.0, timed_out=True), "was killed after its time limit"),
    (CheckFinished(2, None, False, 0.0, error="the engine stopped"), "could not run: the engine stopped"),
])
def test_check_reports_say_what_happened(check, said):
    assert said in check_report(check, "pytest -q")


async def test_the_live_conversation_is_the_one_rebuilt_from_the_events(fast):
    read = {"name": "read_file", "arguments": {"path": "app.py"}}
    run = fast(turns=[{"text": "reading", "tool_calls": [read]}, {"tool_calls": [edit("VALUE = 0\n", "VALUE = 1\n")]},
                      {"text": "done"}])
    assert (await run.finish()).outcome == "met"
    assert rebuilt(run.events) == run.loop.conversation.messages
    assert run.loop.conversation.awaiting_model, "the last check report waits for the model"


async def test_resume_restores_the_conversation_of_the_whole_iterations(fast):
    first = fast(turns=[{"text": "looking"}, {"tool_calls": [edit("VALUE = 0\n", "VALUE = 1\n")]}, {"text": "done"}],
                 max_iterations=1)
    assert (await first.finish()).outcome == "stopped"
    history = whole_iterations(first.events)
    assert isinstance(history[-1], IterationFinished)
    config = replace(first.loop.config, criteria=Criteria(max_iterations=2, no_progress=0))
    resumed = AgentLoop(config, first.loop.parts, Controller(policy=first.control.gate.policy))
    seen: list[Event] = []
    resumed.subscribe(seen.append)
    resumed.restore(history)
    assert resumed.conversation.messages == rebuilt(history)
    finished = await asyncio.wait_for(resumed.run(), 5)
    assert isinstance(seen[0], SessionResumed) and seen[0].iteration == 1
    assert (finished.outcome, finished.iterations) == ("met", 2)
    assert rebuilt(history + seen) == resumed.conversation.messages
