"""The loop through its Python API: criteria stop it with a clear reason; pause, step and stop behave."""

import asyncio
import json

import pytest

from tui_agent import config
from tui_agent.agent.gate import NOBODY, PERSON
from tui_agent.commands import Answer, Reply, Step, Stop
from tui_agent.events import CheckStarted, Finished, IterationStarted, Paused, ToolCallRequested
from tui_agent.runner import prepare

from loop_fixtures import copy_example, script, until

NO_FIX = {"text": "I am not changing anything."}
CHECK = "python3 -m unittest -q"


async def _start(tmp_path, turns, who=NOBODY, **flags):
    project = copy_example("inventory", tmp_path / "proj")
    flags = {"check": CHECK, "session_root": tmp_path / "sessions", **flags}
    settings = config.load(project, model=script(tmp_path, turns), **flags)
    run = await prepare(settings, who=who)
    seen = []
    run.subscribe(seen.append)
    return run, seen


async def _finish(run) -> Finished:
    try:
        return await asyncio.wait_for(run.execute(), 600)
    finally:
        await run.close()


async def test_max_iterations(tmp_path):
    run, _ = await _start(tmp_path, [NO_FIX] * 5, max_iterations=2, no_progress=0)
    finished = await _finish(run)
    assert (finished.outcome, finished.iterations) == ("stopped", 2)
    assert finished.reason == "max iterations reached: 2 of 2"


async def test_no_progress_stops_headless(tmp_path):
    run, _ = await _start(tmp_path, [NO_FIX] * 5, no_progress=2)
    finished = await _finish(run)
    assert finished.outcome == "stopped" and "no progress: the same failure after 2 iterations" in finished.reason
    assert finished.iterations == 2


async def test_no_progress_pauses_and_asks_when_interactive(tmp_path):
    run, seen = await _start(tmp_path, [NO_FIX] * 5, who=PERSON, no_progress=2, max_iterations=5)
    task = asyncio.ensure_future(run.execute())
    await until(lambda: any(isinstance(e, Paused) for e in seen), what="the pause")
    paused = [e for e in seen if isinstance(e, Paused)]
    assert paused and paused[0].reason.startswith("no progress")
    run.send(Stop("the person gave up"))
    finished = await asyncio.wait_for(task, 300)
    await run.close()
    assert finished.reason == "the person gave up"


async def test_budget(tmp_path):
    turn = {"text": "thinking", "cost_usd": 0.3}
    run, _ = await _start(tmp_path, [turn] * 5, budget_usd=0.5, no_progress=0)
    finished = await _finish(run)
    assert finished.outcome == "stopped" and finished.reason.startswith("budget reached")
    assert finished.cost_usd == pytest.approx(0.6)


async def test_wall_time(tmp_path):
    slow = {"text": "slow", "tool_calls": [{"name": "run_command", "arguments": {"command": "sleep 1.2"}}]}
    run, _ = await _start(tmp_path, [slow] * 5, wall_time_s=1.0, no_progress=0, permissions={"allow": ["run_command"]})
    finished = await _finish(run)
    assert finished.outcome == "stopped" and finished.reason.startswith("wall time reached")


async def test_pass_pattern_must_match_too(tmp_path):
    fix = [
        {"tool_calls": [{"name": "edit_file", "arguments": {"path": "stock.json", "old_string": '"quantity": 3',
                                                           "new_string": '"qty": 3'}},
                        {"name": "edit_file", "arguments": {"path": "inventory.py", "old_string": '] < threshold',
                                                           "new_string": '] <= threshold'}}]},
        {"text": "fixed"}, NO_FIX,
    ]
    run, _ = await _start(tmp_path, fix, pass_pattern="NEVER PRINTED", max_iterations=2, no_progress=0,
                          permissions={"allow": ["edit_file"]})
    finished = await _finish(run)
    assert finished.outcome == "stopped", "exit code 0 alone is not enough when a pattern is set"


async def test_step_runs_one_iteration_then_pauses(tmp_path):
    run, seen = await _start(tmp_path, [NO_FIX] * 5, who=PERSON, step=True, no_progress=0)
    task = asyncio.ensure_future(run.execute())
    await until(lambda: any(isinstance(e, Paused) for e in seen), what="paused before iteration 1")
    assert [e for e in seen if isinstance(e, IterationStarted)] == [], "--step starts paused before iteration 1"
    run.send(Step())
    await until(lambda: sum(isinstance(e, Paused) for e in seen) >= 2, what="paused again")
    assert [e.iteration for e in seen if isinstance(e, IterationStarted)] == [1]
    run.send(Stop())
    finished = await asyncio.wait_for(task, 300)
    await run.close()
    assert finished.iterations == 1 and finished.reason == "stopped by the person"


async def test_stop_during_a_check_kills_it(tmp_path):
    run, seen = await _start(tmp_path, [NO_FIX] * 3, check="sleep 30", no_progress=0)
    task = asyncio.ensure_future(run.execute())
    await until(lambda: any(isinstance(e, CheckStarted) for e in seen), what="the check")
    run.send(Stop())
    finished = await asyncio.wait_for(task, 300)
    await run.close()
    assert finished.outcome == "stopped"


async def test_permission_waits_for_the_person(tmp_path):
    turns = [{"tool_calls": [{"name": "run_command", "arguments": {"command": "echo hi"}}]}, NO_FIX]
    run, seen = await _start(tmp_path, turns, who=PERSON, max_iterations=1, mode="ask")
    task = asyncio.ensure_future(run.execute())
    await until(lambda: any(isinstance(e, ToolCallRequested) for e in seen), what="the call")
    (call_id,) = [e.call_id for e in seen if isinstance(e, ToolCallRequested)]
    assert run.send(Answer(call_id, "allow", {"command": "echo edited"})) == Reply(True, "now")
    finished = await asyncio.wait_for(task, 300)
    await run.close()
    results = [e for e in seen if type(e).__name__ == "ToolCallFinished"]
    assert "edited" in results[0].result and not results[0].is_error
    assert any(isinstance(e, ToolCallRequested) for e in seen) and finished.iterations == 1


async def test_unknown_tool_and_bad_arguments_go_back_to_the_model(tmp_path):
    turns = [{"tool_calls": [{"name": "nope", "arguments": {}},
                             {"name": "read_file", "arguments": {"path": "../../etc/passwd"}}]}, NO_FIX]
    run, seen = await _start(tmp_path, turns, max_iterations=1)
    await _finish(run)
    results = [e for e in seen if type(e).__name__ == "ToolCallFinished"]
    assert results[0].is_error and "unknown tool 'nope'" in results[0].result
    assert results[1].is_error and "root:" not in results[1].result
    recorded = (run.session_dir / "events.jsonl").read_text()
    assert json.loads(recorded.splitlines()[-1])["type"] == "finished"


@pytest.mark.parametrize("where, expect", [
    ("tool:run_command(echo *)", "breakpoint: before run_command"),
    ("check", "breakpoint: before the check"),
    ("failure", "breakpoint: the check failed"),
    ("spend:0.1", "breakpoint: spend passed $0.1"),
    ("iteration:2", "breakpoint: iteration 2"),
])
async def test_breakpoints_pause_with_their_reason(tmp_path, where, expect):
    echo = {"name": "run_command", "arguments": {"command": "echo x"}}
    turns = [{"text": "t", "cost_usd": 0.2, "tool_calls": [echo]},
             NO_FIX] * 3
    run, seen = await _start(tmp_path, turns, who=PERSON, breakpoints=(where,), no_progress=0,
                             max_iterations=3, permissions={"allow": ["run_command"]})
    task = asyncio.ensure_future(run.execute())
    await until(lambda: any(isinstance(e, Paused) for e in seen), what="the breakpoint")
    paused = [e for e in seen if isinstance(e, Paused)]
    assert paused and paused[0].reason.startswith(expect), paused
    run.send(Stop())
    await asyncio.wait_for(task, 300)
    await run.close()


def test_bad_breakpoint_is_bad_input(tmp_path):
    from loop_fixtures import cli
    done = cli("run", str(tmp_path), "--check", "true", "--model", script(tmp_path, [NO_FIX]), "--break-on", "lunch",
               "--headless")
    assert done.returncode == 2 and "bad breakpoint 'lunch'" in done.stderr
