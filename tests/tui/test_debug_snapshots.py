"""Snapshots of the debugging views, from the recorded events of a real run (deterministic: no live clock)."""

from __future__ import annotations

from pathlib import Path

from conftest import recorded, upto

from tui_agent.config import Settings
from tui_agent.events import Finished, Paused, ToolCallRequested
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.breakpoints import BreakpointsScreen

BIG = (160, 48)
EVENTS = recorded()
AT_EDIT = "breakpoint: before edit_file (tool:edit_file)"


def replay(events) -> AgentApp:
    return AgentApp(Settings(project=Path("/home/you/calculator")), replay=events)


def second_edit():
    return upto(EVENTS, lambda e: isinstance(e, ToolCallRequested) and e.name == "edit_file", nth=2)


def at_breakpoint():
    return second_edit() + [Paused(AT_EDIT, 2)]


def test_inspector(snap_compare):
    """The inspector over the main screen at iteration 2 (`2 of 2 recorded: 1–2`, tokens, $0.0000, model and
    tools time in the header); the list holds the iteration summary, Requests 1–3, Responses 1–3, the tool
    calls (update_plan · allow, edit_file calc.py · allow) and `Check passed`; Request 1 is selected and shown
    in full: iteration, turn, the system prompt as an indented block, the six tool names, max_tokens,
    message_count 7 and the messages from the goal on."""
    app = replay(upto(EVENTS, lambda e: isinstance(e, Finished)))
    assert snap_compare(app, terminal_size=BIG, press=["i", "down"])


def test_inspector_search(snap_compare):
    """The inspector at iteration 2 searched for `average`: the header says how many items match; only the
    matching items are listed; the selected one scrolls to its first match, every match highlighted."""
    app = replay(upto(EVENTS, lambda e: isinstance(e, Finished)))
    assert snap_compare(app, terminal_size=BIG, press=["i", "slash", *"average", "enter", "down", "down"])


def test_breakpoint_pause(snap_compare):
    """AT BREAKPOINT badge (red) followed by the reason `breakpoint: before edit_file (tool:edit_file)` in the
    status line; the Permissions panel lists `edit_file calc.py` and says `Paused at a breakpoint before this
    call: e edit · y allow · n deny`, with its full arguments; Edit, Allow and Deny are enabled in the footer."""
    assert snap_compare(replay(at_breakpoint()), terminal_size=BIG)


def test_edit_dialog(snap_compare):
    """The edit dialog over the main screen, titled `Edit edit_file calc.py before it runs`: it says the
    new_string is edited as plain text (ctrl+t for all arguments as JSON); a text area with line numbers holds
    the three lines of the new_string (`if not numbers:` / `return 0` / `return sum(numbers) / len(numbers)`);
    Allow edited (ctrl+s) and Cancel (esc) buttons."""
    assert snap_compare(replay(second_edit()), terminal_size=BIG, press=["e"])


def test_edit_dialog_invalid_json(snap_compare):
    """The edit dialog switched to JSON (ctrl+t) with a broken object: a red line under the text area says
    `Not sent: not valid JSON: ...` with the line and column; the dialog stays open."""

    async def break_json(pilot) -> None:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("ctrl+t")
        pilot.app.screen.query_one("TextArea").load_text('{\n  "path": "calc.py",\n  oops\n}')
        await pilot.press("ctrl+s")

    assert snap_compare(replay(second_edit()), terminal_size=BIG, run_before=break_json)


def test_breakpoints_dialog(snap_compare):
    """The breakpoints dialog over the main screen: `Pause the agent at:` then the list tool:edit_file,
    check, iteration:3 (the first highlighted), the input to add one with a hint of every form, and the keys
    (Enter adds, r or Delete removes, Esc closes)."""

    async def open_dialog(pilot) -> None:
        await pilot.app.push_screen(BreakpointsScreen(["tool:edit_file", "check", "iteration:3"]))
        await pilot.pause()

    assert snap_compare(replay(second_edit()), terminal_size=BIG, run_before=open_dialog)
