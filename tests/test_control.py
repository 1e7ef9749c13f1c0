"""The points of control: pause, resume, step and stop; each tool call's permit; the person's answers and commands."""

import asyncio

import pytest

from loop_fixtures import until
from tui_agent.agent.breakpoints import Breakpoints
from tui_agent.agent.control import Controller, StopRequested
from tui_agent.agent.gate import NOBODY
from tui_agent.commands import AddBreakpoint, Answer, Command, Pause, RemoveBreakpoint, Reply, Resume, Step, Stop
from tui_agent.events import Paused, Resumed, ToolCallDecided
from tui_agent.models.base import ToolCall
from tui_agent.tools.permissions.policy import Policy

EDIT = ToolCall("c1", "edit_file", {"path": "a.py", "old_string": "a", "new_string": "b"})


def controller(**kwargs) -> tuple[Controller, list]:
    control, seen = Controller(**kwargs), []
    control.bind(seen.append)
    return control, seen


async def test_a_point_passes_when_running():
    control, seen = controller()
    await asyncio.wait_for(control.at("turn", 1), 1)
    assert seen == []


async def test_pause_blocks_until_resume_and_emits_events():
    control, seen = controller()
    control.send(Pause())
    waiter = asyncio.ensure_future(control.at("turn", 2))
    await until(lambda: seen, what="Paused")
    assert not waiter.done()
    control.send(Resume())
    await asyncio.wait_for(waiter, 1)
    assert [type(e) for e in seen] == [Paused, Resumed]
    assert (seen[0].iteration, seen[0].reason) == (2, "person")


async def test_step_lets_one_iteration_through_then_pauses():
    control, seen = controller(start_paused=True)
    first = asyncio.ensure_future(control.at("iteration", 1))
    await until(lambda: seen, what="paused before iteration 1")
    assert seen[0].reason == "step" and not first.done(), "--step starts paused"
    control.send(Step())
    await asyncio.wait_for(first, 1)
    await asyncio.wait_for(control.at("turn", 1), 1)  # inside the iteration: runs on
    second = asyncio.ensure_future(control.at("iteration", 2))
    await until(lambda: len(seen) == 3, what="paused before iteration 2")
    assert not second.done(), "after one step the next iteration waits"
    control.send(Resume())
    await asyncio.wait_for(second, 1)


async def test_stop_wakes_a_paused_loop_with_its_reason():
    control, seen = controller()
    control.send(Pause())
    waiter = asyncio.ensure_future(control.at("check", 1))
    await until(lambda: seen, what="Paused")
    control.send(Stop("enough"))
    with pytest.raises(StopRequested, match="enough"):
        await asyncio.wait_for(waiter, 1)
    with pytest.raises(StopRequested):
        await control.at("turn", 1)


@pytest.mark.parametrize("spec, point, facts, reason", [
    ("check", "check", {}, "breakpoint: before the check"),
    ("iteration:2", "iteration", {"iteration": 2}, "breakpoint: iteration 2"),
])
async def test_a_breakpoint_pauses_at_its_point(spec, point, facts, reason):
    control, seen = controller(breakpoints=Breakpoints.parse([spec]))
    waiter = asyncio.ensure_future(control.at(point, **facts))
    await until(lambda: seen, what="Paused")
    assert seen[0].reason == reason
    control.send(Resume())
    await asyncio.wait_for(waiter, 1)


@pytest.mark.parametrize("spec, facts, reason", [
    ("failure", {"passed": False}, "breakpoint: the check failed"),
    ("spend:0.5", {"cost_usd": 0.6}, "breakpoint: spend passed $0.5"),
])
async def test_failure_and_spend_arm_a_pause_for_the_next_point(spec, facts, reason):
    control, seen = controller(breakpoints=Breakpoints.parse([spec]))
    point = "failure" if spec == "failure" else "spend"
    await asyncio.wait_for(control.at(point, 1, **facts), 1)
    assert seen == [] and control.paused
    waiter = asyncio.ensure_future(control.at("turn", 1))
    await until(lambda: seen, what="Paused")
    assert seen[0].reason.startswith(reason)
    control.send(Resume())
    await asyncio.wait_for(waiter, 1)


async def test_nobody_ignores_breakpoints_and_no_progress_stops():
    control, seen = controller(who=NOBODY, breakpoints=Breakpoints.parse(["check", "failure"]))
    await asyncio.wait_for(control.at("check", 1), 1)
    await asyncio.wait_for(control.at("failure", 1, passed=False), 1)
    assert seen == [] and not control.paused
    with pytest.raises(StopRequested, match="no progress"):
        control.ask_to_go_on("no progress: the same failure")


async def test_permission_is_a_future_the_person_resolves():
    control, seen = controller()
    permit = asyncio.ensure_future(control.permit(EDIT, 1))
    await asyncio.sleep(0)
    assert control.answer("c1", "allow", {"path": "b.py"}) == Reply(True, "now")
    granted = await asyncio.wait_for(permit, 1)
    assert granted.allowed and granted.arguments == {"path": "b.py"}
    assert seen == [ToolCallDecided("c1", "edit_file", "allow", "person", None, {"path": "b.py"})]
    assert not control.answer("c1", "deny").ok, "a decided call cannot be answered twice"


async def test_a_call_answered_ahead_at_a_breakpoint_is_not_asked():
    control, seen = controller(breakpoints=Breakpoints.parse(["tool:edit_file"]),
                               policy=Policy(allow=["edit_file"]))
    permit = asyncio.ensure_future(control.permit(EDIT, 1))
    await until(lambda: seen, what="paused before the call")
    assert seen[0].reason.startswith("breakpoint: before edit_file")
    assert control.answer("c1", "deny") == Reply(True, "ahead"), "the rule allows it, the person's answer counts"
    control.send(Resume())
    denied = await asyncio.wait_for(permit, 1)
    assert not denied.allowed and denied.denial == "denied by the person: edit_file"


async def test_rules_decide_without_asking_and_nobody_denies_what_would_ask():
    control, seen = controller(who=NOBODY, policy=Policy(deny=["edit_file(secret.py)"]))
    read = await control.permit(ToolCall("r", "read_file", {"path": "a.py"}), 1)
    secret = await control.permit(ToolCall("s", "edit_file", {"path": "secret.py"}), 1)
    asked = await control.permit(EDIT, 1)
    assert read.allowed and [e.by for e in seen] == ["default", "rule", "headless"]
    assert secret.denial == "denied by rule edit_file(secret.py): edit_file"
    assert asked.denial == "denied: edit_file needs the person's permission, and headless mode never asks"


async def test_always_keeps_a_rule(tmp_path):
    control, seen = controller(policy=Policy(project=tmp_path))
    permit = asyncio.ensure_future(control.permit(EDIT, 1))
    await asyncio.sleep(0)
    control.answer("c1", "always")
    assert (await permit).allowed and seen[0].rule == "edit_file(a.py)"
    assert (await control.permit(ToolCall("c2", "edit_file", {"path": "a.py"}), 1)).allowed, "not asked again"
    assert seen[1].by == "rule"


async def test_stop_denies_a_pending_permission():
    control, _ = controller()
    permit = asyncio.ensure_future(control.permit(ToolCall("c1", "run_command", {"command": "ls"}), 1))
    await asyncio.sleep(0)
    control.send(Stop())
    assert not (await asyncio.wait_for(permit, 1)).allowed


def test_commands_round_trip_as_plain_data_and_breakpoints_change():
    control, _ = controller()
    for command in (Pause(), Stop("why"), Answer("c1", "allow", {"path": "x"}), AddBreakpoint("check")):
        assert Command.from_dict(command.to_dict()) == command
    assert control.send(AddBreakpoint("check")).ok and control.breakpoints.specs() == ["check"]
    refused = control.send(AddBreakpoint("lunch"))
    assert not refused.ok and "bad breakpoint 'lunch'" in refused.note
    assert control.send(RemoveBreakpoint("check")).ok and not control.send(RemoveBreakpoint("check")).ok
    assert not control.send(Answer("ghost", "allow")).ok
