"""RunState, what the screen shows, is a pure fold of the event stream (a real run's recorded events here)."""

import pytest
from tui_fixtures import recorded, upto

from tui_agent.events import (
    Error, Event, Finished, ModelResponded, ModelRetrying, Paused, Resumed, ToolCallRequested,
)
from tui_agent.tui.state import RunState

pytestmark = pytest.mark.unit

EVENTS = recorded()


def folded(events: list[Event]) -> RunState:
    state = RunState()
    for event in events:
        state.apply(event)
    return state


def test_the_phase_follows_the_run():
    first_edit = lambda e: isinstance(e, ToolCallRequested) and e.name == "edit_file"  # noqa: E731
    assert folded([]).phase == "starting"
    assert folded(EVENTS[:2]).phase == "checking"
    assert folded(upto(EVENTS, first_edit)).phase == "waiting for approval"
    assert folded(upto(EVENTS, lambda e: isinstance(e, Finished))).phase == "ready to deploy"
    assert folded(EVENTS).phase == "deployed"


def test_calls_wait_until_decided_and_decisions_say_who():
    at_edit = folded(upto(EVENTS, lambda e: isinstance(e, ToolCallRequested) and e.name == "edit_file"))
    assert [c.name for c in at_edit.pending.values()] == ["edit_file"] and at_edit.last_tool == "edit_file calc.py"
    done = folded(EVENTS)
    assert done.pending == {} and [(d.name, d.by) for d in done.decisions][:3] == [
        ("update_plan", "default"), ("read_file", "default"), ("edit_file", "person")]


def test_each_fix_is_linked_to_the_failing_check_that_caused_it():
    state = folded(EVENTS)
    assert [f.iteration for f in state.fixes] == [1, 2]
    assert [f.cause.iteration for f in state.fixes] == [0, 1] and not state.fixes[0].cause.passed
    assert state.last_check.passed and state.iterations_done == 2 and state.plan[-1]["status"] == "done"
    assert state.cost_usd == state.finished.cost_usd


def test_pauses_retries_and_fatal_errors():
    state = folded(EVENTS[:6] + [Paused("breakpoint: before the check", 1)])
    assert state.phase == "at breakpoint" and state.at_breakpoint
    state.apply(Resumed())
    assert state.phase == "running"
    state.apply(ModelRetrying(1, 1, "overloaded", 0.5))
    assert state.phase == "retrying model"
    state.apply(ModelResponded(1, 1, (), "end_turn", {}, 0.01))
    assert state.retrying is None and state.phase == "running"
    state.apply(Error("model error: gave up", fatal=True))
    state.apply(Finished("error", "model error: gave up", 1, 0.01, 2.0))
    assert state.fatal_error == "model error: gave up" and state.phase == "done: error"


def test_a_finished_run_waits_for_nothing():
    events = upto(EVENTS, lambda e: isinstance(e, ToolCallRequested) and e.name == "edit_file")
    state = folded(events + [Finished("stopped", "stopped by the person", 1, 0.0, 1.0)])
    assert state.pending == {} and not state.paused and state.phase == "done: stopped"
