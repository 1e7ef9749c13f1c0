"""Pilot: the debugging keys — inspector (browse, search, copy, fork), edit a pending call, breakpoints, replay."""

from __future__ import annotations

import json
from dataclasses import replace

from textual.widgets import Input, TextArea
from tui_fixtures import DATA, until

from tui_agent.events import ToolCallDecided, ToolCallFinished
from tui_agent.replay_run import ReplayRun
from tui_agent.sessions.recorder import read_events
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.breakpoints import BreakpointsScreen
from tui_agent.tui.screens.edit_call import EditCallScreen
from tui_agent.tui.screens.inspector import InspectorScreen, fork_command

SIZE = (160, 48)
EDITED = "    if b == 0:\n        return None  # edited by the person\n    return a / b\n"


def recorded_session(tmp_path):
    """The calculator fixture as a session folder, as `tui-agent replay` finds it."""
    folder = tmp_path / "sessions" / "demo-session"
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text((DATA / "calculator.jsonl").read_text())
    return folder


def pending(app) -> bool:
    return bool(app.agent_run and app.state.pending and not app.state.paused)  # asked, not at a breakpoint


def first_edit(run_dir):
    events = read_events(run_dir)
    decided = next(e for e in events if isinstance(e, ToolCallDecided) and e.name == "edit_file")
    finished = next(e for e in events if isinstance(e, ToolCallFinished) and e.call_id == decided.call_id)
    return decided, finished


async def test_inspector_browses_searches_copies_and_forks(tmp_path):
    folder = recorded_session(tmp_path)
    run = ReplayRun(folder, speed=0)
    app = AgentApp(run.settings, run=run)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.finished is not None, what="the replay to end")
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, InspectorScreen) and screen.iteration == 2
        labels = [item.label for item in screen.shown]
        assert labels[:3] == ["Iteration 2: tokens, cost, timing", "Request 1 (7 messages)", "Response 1 (tool_use)"]
        assert "Tool edit_file calc.py · allow" in labels and labels[-1] == "Check passed"
        last = next(i for i in screen.shown if i.key == "request-3")
        assert len(last.data["messages"]) == last.data["message_count"] == 11, "the whole conversation, rebuilt"
        assert last.data["system"].startswith("You are") and "edit_file" in last.data["tools"]
        await pilot.press("left_square_bracket")
        assert screen.iteration == 1 and screen.shown[1].data["messages"][0]["role"] == "user"
        await pilot.press("left_square_bracket")
        assert screen.iteration == 1, "no iteration before the first"
        await pilot.press("slash", *"IF B == 0")
        assert [i.key for i in screen.shown] == ["response-2", "call-toolu_s002_0", "request-3"]
        assert "if b == 0" in str(screen.query_one("#insp-text").render())
        await pilot.press("enter", "down")
        assert app.focused is screen.items_list and screen.selected.key == "call-toolu_s002_0"
        await pilot.press("c")
        copied = json.loads(app.clipboard)
        assert copied["name"] == "edit_file" and copied["decision"]["by"] == "person"
        assert copied["result"] == "edited calc.py" and "return None" in copied["arguments"]["new_string"]
        written = folder / "inspector-1-call-toolu_s002_0.json"
        assert json.loads(written.read_text()) == copied
        await pilot.press("f")
        assert app.clipboard == fork_command(str(folder), 1)
        assert any(str(folder) in n.message and "--fork-at 1" in n.message for n in app._notifications)
        await pilot.press("escape")
        assert app.screen is app.main


async def test_replay_steps_shows_replay_and_never_deploys(tmp_path):
    run = ReplayRun(recorded_session(tmp_path), speed=0, step=True)
    app = AgentApp(run.settings, run=run)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.paused, what="paused before iteration 1")
        badge = str(app.main.query_one("#phase").render())
        assert "REPLAY" in badge and "PAUSED" in badge and "REPLAY" in app.title
        assert app.state.iterations_done == 0
        await pilot.press("s")
        await until(pilot, lambda: app.state.paused and app.state.iterations_done == 1, what="one iteration")
        assert [f.iteration for f in app.main.fixes.fixes] == [1]
        await pilot.press("y")  # a replay's calls were answered when it was recorded
        await pilot.press("p")
        await until(pilot, lambda: app.state.finished is not None, what="the end of the replay")
        assert app.state.plan[-1]["status"] == "done" and len(app.state.fixes) == 2
        await pilot.press("d")
        assert "this is a replay" in app.state.deploy_refused
        await pilot.press("ctrl+q")
    assert app.closed


async def test_edit_a_pending_call_runs_the_edited_arguments(calculator):
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pending(app), what="the first edit_file")
        call_id = app.main.permissions.selected
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, EditCallScreen) and "return None" in dialog.query_one(TextArea).text
        await pilot.press("ctrl+t")  # all the arguments, as JSON
        area = dialog.query_one(TextArea)
        assert json.loads(area.text)["path"] == "calc.py"
        area.load_text('{"path": "calc.py", oops}')
        await pilot.press("ctrl+s")
        assert app.screen is dialog and "Not sent: not valid JSON" in str(dialog.query_one("#edit-error").render())
        assert call_id in app.state.pending, "invalid JSON is not sent"
        area.load_text(json.dumps({"path": "calc.py", "old_string": "    return a / b\n", "new_string": EDITED}))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(d.summary.endswith("(edited)") for d in app.state.decisions))
        await until(pilot, lambda: "edited by the person" in app.agent_run.inner.workspace.files.read_text("calc.py"))
        await pilot.press("x")
        await until(pilot, lambda: app.state.finished is not None)
        run_dir = app.agent_run.session_dir
        await pilot.press("ctrl+q")
    decided, finished = first_edit(run_dir)
    assert decided.call_id == call_id and decided.by == "person" and decided.arguments["new_string"] == EDITED
    assert finished.result == "edited calc.py" and not finished.is_error


async def test_edit_at_a_tool_breakpoint_then_step(calculator):
    app = AgentApp(replace(calculator, breakpoints=("tool:edit_file",)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.at_breakpoint, what="the edit_file breakpoint")
        assert app.state.phase == "at breakpoint"
        assert "breakpoint: before edit_file (tool:edit_file)" in str(app.main.query_one("#facts").render())
        await pilot.press("e")
        area = app.screen.query_one(TextArea)
        area.load_text(EDITED)  # the plain new_string
        await pilot.press("ctrl+s")
        assert app.screen is app.main and app.state.answered_ahead
        assert "Answered at the breakpoint" in str(app.main.query_one("#call-args").render())
        await pilot.pause(0.3)
        assert app.state.iterations_done == 0, "nothing runs until the person goes on"
        await pilot.press("s")
        await until(pilot, lambda: app.state.iterations_done == 1 and app.state.paused, what="one step")
        assert "edited by the person" in app.agent_run.inner.workspace.files.read_text("calc.py")
        await pilot.press("x")
        await until(pilot, lambda: app.state.finished is not None)
        run_dir = app.agent_run.session_dir
        await pilot.press("ctrl+q")
    decided, finished = first_edit(run_dir)
    assert decided.by == "person" and decided.arguments["new_string"] == EDITED and finished.result == "edited calc.py"


async def test_breakpoints_dialog_adds_removes_and_rejects(calculator):
    app = AgentApp(replace(calculator, step=True, breakpoints=("check",)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.paused, what="paused before iteration 1")
        await pilot.press("b")
        dialog = app.screen
        assert isinstance(dialog, BreakpointsScreen)
        box = dialog.query_one("#bp-input", Input)
        assert app.focused is box
        await pilot.press(*"tool:edit_file", "enter")
        await pilot.press(*"iteration:3", "enter")
        points = app.agent_run.breakpoints
        assert points() == ["tool:edit_file", "check", "iteration:3"]
        await pilot.press(*"sometimes", "enter")
        assert "bad breakpoint 'sometimes'" in str(dialog.query_one("#bp-error").render())
        assert box.value == "sometimes" and len(points()) == 3
        await pilot.press("tab")
        assert app.focused is dialog.listing
        dialog.listing.highlighted = 1
        await pilot.press("r")
        assert points() == ["tool:edit_file", "iteration:3"]
        await pilot.press("escape")
        assert app.screen is app.main
        await pilot.press("s")
        await until(pilot, lambda: app.state.at_breakpoint, what="the breakpoint added from the dialog")
        assert "edit_file" in app.state.pause_reason
        await pilot.press("x")
        await until(pilot, lambda: app.state.finished is not None)
        await pilot.press("ctrl+q")
