"""The loop's logic on a FakeSandbox and a ScriptedModel: criteria, errors, pause/step/stop, permissions."""

from dataclasses import replace

import pytest
from fakes import Outcome, edit

from tui_agent.agent.gate import NOBODY
from tui_agent.agent.loop import AgentLoop
from tui_agent.commands import Pause, Resume, Step, Stop
from tui_agent.events import (
    CheckStarted, DeployReady, Error, IterationStarted, Paused, ToolCallDecided, ToolCallFinished, ToolCallRequested,
)
from tui_agent.tools.permissions.policy import Policy

pytestmark = pytest.mark.unit

FIX = edit("VALUE = 0\n", "VALUE = 1\n")
DONE = {"text": "done"}
IDLE = {"text": "I am not changing anything."}


async def test_a_fix_that_passes_meets_the_goal_and_is_offered_for_deploy(fast):
    run = fast(turns=[{"text": "fixing", "tool_calls": [FIX]}, DONE])
    finished = await run.finish()
    assert (finished.outcome, finished.reason, finished.iterations) == ("met", "the check passes", 1)
    assert run.types() == [
        "session_started", "check_started", "check_finished", "iteration_finished",
        "iteration_started", "model_requested", "model_responded", "tool_call_requested", "tool_call_decided",
        "tool_call_finished", "model_requested", "model_responded", "fix_applied", "check_started",
        "check_finished", "iteration_finished", "deploy_ready", "finished",
    ]
    (ready,) = run.of(DeployReady)
    assert ready.files == ("app.py",) and "+VALUE = 1" in ready.diff
    assert run.workspace.files.read_text("app.py") == "VALUE = 1\n"


async def test_headless_never_offers_a_deploy(fast):
    run = fast(turns=[{"tool_calls": [FIX]}, DONE], who=NOBODY)
    assert (await run.finish()).outcome == "met" and run.of(DeployReady) == []


async def test_max_iterations(fast):
    finished = await fast(turns=[IDLE] * 3, max_iterations=2).finish()
    assert (finished.outcome, finished.iterations, finished.reason) == ("stopped", 2, "max iterations reached: 2 of 2")


async def test_budget_counts_every_turn(fast):
    finished = await fast(turns=[{"text": "thinking", "cost_usd": 0.3}] * 5, budget_usd=0.5).finish()
    assert finished.outcome == "stopped" and finished.reason.startswith("budget reached: $0.6000 of $0.50")
    assert finished.cost_usd == pytest.approx(0.6)


async def test_wall_time_stops_within_an_iteration(fast):
    finished = await fast(turns=[{"tool_calls": [edit("VALUE = 0\n", "VALUE = 2\n")]}] * 3, wall_time_s=0.0).finish()
    assert finished.outcome == "stopped" and finished.reason.startswith("wall time reached")
    assert finished.iterations == 0, "stopped after the tool calls, before the check"


async def test_no_progress_stops_headless(fast):
    finished = await fast(turns=[IDLE] * 5, who=NOBODY, no_progress=2).finish()
    assert finished.outcome == "stopped" and finished.iterations == 2
    assert finished.reason == "no progress: the same failure after 2 iterations in a row"


async def test_no_progress_asks_the_person_who_may_go_on(fast):
    run = fast(turns=[IDLE] * 5, no_progress=2, max_iterations=3)
    run.start()
    await run.until(lambda: run.of(Paused), "the no-progress pause")
    assert run.of(Paused)[0].reason.startswith("no progress") and run.of(Paused)[0].iteration == 3
    run.send(Resume())
    finished = await run.finish()
    assert (finished.iterations, finished.reason) == (3, "max iterations reached: 3 of 3")


async def test_a_pass_pattern_must_match_too(fast):
    finished = await fast(turns=[IDLE], checks=(Outcome(0, "ok\n"),), pass_pattern="ALL GOOD",
                          max_iterations=1).finish()
    assert finished.outcome == "stopped", "exit code 0 alone is not enough when a pattern is set"


async def test_a_check_that_is_not_found_is_bad_input(fast):
    finished = await fast(checks=(Outcome(127, "sh: 1: nope: not found\n"),)).finish()
    assert finished.outcome == "invalid" and "not found in the sandbox" in finished.reason


async def test_a_failing_sandbox_ends_the_run_with_a_fatal_error(fast):
    run = fast(checks=(Outcome(None, error="the engine stopped"),))
    finished = await run.finish()
    assert (finished.outcome, finished.reason) == ("error", "sandbox error: the engine stopped")
    assert [(e.message, e.fatal) for e in run.of(Error)] == [("sandbox error: the engine stopped", True)]


async def test_a_model_that_cannot_answer_ends_the_run(fast):
    finished = await fast(turns=[]).finish()
    assert (finished.outcome, finished.iterations) == ("error", 0)
    assert finished.reason == "model error: the scripted model ran out of turns (0 played)"


async def test_step_runs_one_iteration_then_pauses(fast):
    run = fast(turns=[IDLE] * 3, step=True)
    run.start()
    await run.until(lambda: run.of(Paused), "paused before iteration 1")
    assert run.of(IterationStarted) == [] and run.of(Paused)[0].reason == "step"
    run.send(Step())
    await run.until(lambda: len(run.of(Paused)) == 2, "paused again")
    assert [e.iteration for e in run.of(IterationStarted)] == [1]
    run.send(Stop())
    finished = await run.finish()
    assert (finished.iterations, finished.reason) == (1, "stopped by the person")


async def test_pause_waits_at_the_next_point_and_resume_goes_on(fast):
    run = fast(turns=[{"tool_calls": [FIX]}, DONE])
    run.send(Pause())
    run.start()
    await run.until(lambda: run.of(Paused), "paused")
    assert (run.of(Paused)[0].reason, run.of(Paused)[0].iteration) == ("person", 1)
    assert run.of(IterationStarted) == []
    run.send(Resume())
    assert (await run.finish()).outcome == "met"


async def test_stop_during_a_check_cancels_it(fast):
    run = fast()
    run.sandbox.blocking = True
    run.start()
    await run.until(lambda: run.of(CheckStarted), "the check")
    run.send(Stop("enough"))
    finished = await run.finish()
    assert (finished.outcome, finished.reason) == ("stopped", "enough") and run.sandbox.cancelled == 1
    assert "check_finished" not in run.types()


async def test_the_person_allows_an_edited_call(fast):
    run = fast(turns=[{"tool_calls": [edit("VALUE = 0\n", "VALUE = 5\n")]}, DONE], policy=Policy())
    run.start()
    await run.until(lambda: run.of(ToolCallRequested), "the call")
    call_id = run.of(ToolCallRequested)[0].call_id
    edited = {"path": "app.py", "old_string": "VALUE = 0\n", "new_string": "VALUE = 1\n"}
    assert run.control.answer(call_id, "allow", edited).note == "now"
    assert (await run.finish()).outcome == "met"
    (decided,) = run.of(ToolCallDecided)
    assert (decided.by, decided.decision, decided.arguments) == ("person", "allow", edited)


@pytest.mark.parametrize("who, policy, said", [
    (None, Policy(), "denied by the person: edit_file"),
    (NOBODY, Policy(), "denied: edit_file needs the person's permission, and headless mode never asks"),
    (NOBODY, Policy(deny=["edit_file(app.py)"]), "denied by rule edit_file(app.py): edit_file"),
])
async def test_a_denied_call_tells_the_model_who_denied_it(fast, who, policy, said):
    run = fast(turns=[{"tool_calls": [FIX]}, {"expect": said, "text": "understood"}], policy=policy,
               max_iterations=1, **({"who": who} if who else {}))
    run.start()
    if who is None:
        await run.until(lambda: run.of(ToolCallRequested), "the call")
        run.control.answer(run.of(ToolCallRequested)[0].call_id, "deny")
    finished = await run.finish()
    assert finished.outcome == "stopped", "the scripted model's `expect` saw the denial in its prompt"
    assert run.of(ToolCallFinished)[0].result == said and run.of(ToolCallFinished)[0].is_error


async def test_unknown_tools_and_escaping_paths_go_back_to_the_model(fast):
    calls = [{"name": "nope", "arguments": {}}, {"name": "read_file", "arguments": {"path": "../../etc/passwd"}},
             {"name": "write_file", "arguments": {"path": "/tmp/evil", "content": "x"}}]
    run = fast(turns=[{"tool_calls": calls}, IDLE], max_iterations=1, who=NOBODY, policy=Policy(allow=["*"]))
    await run.finish()
    unknown, outside, absolute = run.of(ToolCallFinished)
    assert unknown.is_error and "unknown tool 'nope'" in unknown.result
    for call in (outside, absolute):  # an allow rule never covers a path that leads outside: nobody was asked
        assert call.is_error and call.result.startswith("denied: ") and "root:" not in call.result
    assert [e.call_id for e in run.of(ToolCallDecided)] == [outside.call_id, absolute.call_id], "unknown: undecided"


async def test_stop_while_the_person_is_asked_denies_the_call(fast):
    run = fast(turns=[{"tool_calls": [FIX]}, DONE], policy=Policy())
    run.start()
    await run.until(lambda: run.of(ToolCallRequested), "the call")
    run.send(Stop())
    finished = await run.finish()
    assert finished.reason == "stopped by the person" and run.of(ToolCallDecided)[0].decision == "deny"


@pytest.mark.parametrize("where, expect", [
    ("tool:run_command(echo *)", "breakpoint: before run_command"),
    ("check", "breakpoint: before the check"),
    ("failure", "breakpoint: the check failed"),
    ("spend:0.1", "breakpoint: spend passed $0.1"),
    ("iteration:2", "breakpoint: iteration 2"),
])
async def test_breakpoints_pause_with_their_reason(fast, where, expect):
    echo = {"name": "run_command", "arguments": {"command": "echo x"}}
    run = fast(turns=[{"text": "t", "cost_usd": 0.2, "tool_calls": [echo]}, IDLE] * 3, breakpoints=(where,),
               policy=Policy(allow=["run_command"]), max_iterations=3)
    run.start()
    await run.until(lambda: run.of(Paused), "the breakpoint")
    assert run.of(Paused)[0].reason.startswith(expect)
    run.send(Stop())
    await run.finish()


async def test_breakpoints_are_ignored_headless(fast):
    run = fast(turns=[{"tool_calls": [FIX]}, DONE], who=NOBODY, breakpoints=("tool", "check", "iteration:1"))
    assert (await run.finish()).outcome == "met" and run.of(Paused) == []


async def test_an_answer_given_at_a_tool_breakpoint_counts_over_the_rule(fast):
    run = fast(turns=[{"tool_calls": [edit("VALUE = 0\n", "VALUE = 5\n")]}, DONE], breakpoints=("tool:edit_file",))
    run.start()
    await run.until(lambda: run.of(Paused), "the breakpoint")
    edited = {"path": "app.py", "old_string": "VALUE = 0\n", "new_string": "VALUE = 1\n"}
    assert run.control.answer(run.of(ToolCallRequested)[0].call_id, "allow", edited).note == "ahead"
    run.send(Resume())
    assert (await run.finish()).outcome == "met"
    assert run.of(ToolCallDecided)[0].by == "person", "rules allow edit_file, but the person's answer counts"


async def test_a_fix_round_starts_from_the_watchers_check_and_offers_nothing(fast):
    run = fast(turns=[{"tool_calls": [FIX]}, DONE])
    loop = AgentLoop(replace(run.loop.config, fix_round=True), run.loop.parts, run.control.for_round())
    seen: list = []
    loop.subscribe(seen.append)
    assert loop.conversation.messages[0]["content"][0]["text"] == "Goal: make the check pass"
    assert await loop.check(0) is False
    finished = await loop.run()
    assert finished.outcome == "met"
    assert [e.type for e in seen if e.type in ("session_started", "deploy_ready")] == []
    report = loop.conversation.messages[0]["content"][1]["text"]
    assert report.startswith("The check `check` failed (exit code 1) before any change")
