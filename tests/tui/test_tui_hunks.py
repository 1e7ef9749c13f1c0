"""Pilot: the per-hunk deploy review of a live run (real sandbox): accept, reject and edit files and hunks with keys
and the mouse; the recheck of the accepted subset; a failed recheck, then deploy anyway; feedback to the model;
undo, and undo refused after a change. And a snapshot of the review screen."""

from __future__ import annotations

import json
from pathlib import Path

from tui_fixtures import REPO, example_settings, recorded, tree, until, upto

from tui_agent.config import Settings
from tui_agent.events import Finished, IterationStarted
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.hunk_actions import HunkHost
from tui_agent.tui.screens.hunk_confirm import HunkConfirmScreen
from tui_agent.tui.screens.hunk_edit import HunkEditScreen
from tui_agent.tui.screens.hunks import HunkReviewScreen
from tui_agent.tui.screens.main import MainScreen
from tui_agent.workspace.hunks import lines, split


def _main_screen_is_a_hunk_host(screen: MainScreen) -> HunkHost:
    return screen  # mypy (scripts/lint.sh) fails here if the keys' HunkActions use what MainScreen lacks

SIZE = (160, 48)
ORIGINAL = (REPO / "examples" / "calculator" / "calc.py").read_text()
DIVIDE = "    if b == 0:\n        return None\n"
AVERAGE = "    if not numbers:\n        return 0\n    return sum(numbers) / len(numbers)\n"


def settings(tmp_path, extra_turns=()):
    s = example_settings(tmp_path, mode="auto")
    if extra_turns:
        turns = json.loads((REPO / "examples" / "calculator" / "model.json").read_text())["turns"]
        path = tmp_path / "model.json"
        path.write_text(json.dumps({"turns": turns + list(extra_turns)}))
        s = example_settings(tmp_path / "again", mode="auto", model=f"scripted:{path}")
    return s


async def review(pilot, app) -> HunkReviewScreen:
    await until(pilot, lambda: app.state.deploy_ready is not None, what="the check to pass")
    await pilot.press("h")
    assert isinstance(app.screen, HunkReviewScreen)
    return app.screen


async def test_accept_all_rechecks_deploys_and_undo_redo(tmp_path):
    s = settings(tmp_path)
    app = AgentApp(s)
    async with app.run_test(size=SIZE) as pilot:
        screen = await review(pilot, app)
        assert screen.selection.command_hunks()[0][2] == "all"  # everything starts accepted
        await pilot.press("y")
        assert isinstance(app.screen, HunkConfirmScreen)
        shown = str(app.screen.query_one("#hunk-confirm-files").render())
        assert "calc.py:" in shown and DIVIDE.strip().splitlines()[0].strip() in shown
        assert (s.project / "calc.py").read_text() == ORIGINAL, "nothing is written before the recheck"
        await pilot.press("y")
        await until(pilot, lambda: app.state.deployed is not None, what="the deploy")
        assert "Recheck" in "".join(app.main.output.lines) or any("recheck" in x for x in app.main.output.lines)
        assert DIVIDE in (s.project / "calc.py").read_text()
        await pilot.press("u")
        await until(pilot, lambda: (s.project / "calc.py").read_text() == ORIGINAL, what="the undo")
        await pilot.press("u")
        await until(pilot, lambda: DIVIDE in (s.project / "calc.py").read_text(), what="the undo undone")


async def test_reject_one_hunk_edit_another_failed_recheck_then_deploy_anyway(tmp_path):
    s = settings(tmp_path)
    app = AgentApp(s)
    async with app.run_test(size=SIZE) as pilot:
        screen = await review(pilot, app)
        assert screen.focused.id == "file-0"
        await pilot.press("down", "r")  # hunk 1 (divide) rejected
        assert not screen.selection.hunks[0, 0] and screen.selection.files[0]
        await pilot.press("down", "e")
        assert isinstance(app.screen, HunkEditScreen)
        area = app.screen.query_one("#hunk-edit")
        area.text = "    if not numbers:\n        return 0  # edited\n    return sum(numbers) / len(numbers)\n"
        await pilot.press("ctrl+s")
        assert app.screen is screen and screen.selection.edits[0, 1].endswith("len(numbers)\n")
        await pilot.press("y")
        shown = str(app.screen.query_one("#hunk-confirm-files").render())  # the exact bytes that would land
        assert "return 0  # edited" in shown and "if b == 0" not in shown and "sha256" in shown
        await pilot.press("y")
        await until(pilot, lambda: app.screen.phase == "failed", what="the failed recheck")
        status = str(app.screen.query_one("#hunk-confirm-status").render())
        assert "FAILS" in status
        assert "test_divide" in str(app.screen.query_one("#hunk-recheck-output").render())
        assert (s.project / "calc.py").read_text() == ORIGINAL
        await pilot.press("y")  # deploy anyway
        await until(pilot, lambda: app.state.deployed is not None, what="deploy anyway")
    landed = (s.project / "calc.py").read_text()
    assert "return 0  # edited" in landed and "if b == 0" not in landed


async def test_mouse_toggles_a_file_and_escape_writes_nothing(tmp_path):
    s = settings(tmp_path)
    before = None
    app = AgentApp(s)
    async with app.run_test(size=SIZE) as pilot:
        screen = await review(pilot, app)
        before = tree(s.project)
        await pilot.click("#file-0")
        assert not screen.selection.files[0] and not any(screen.selection.hunks.values())
        await pilot.click("#hunk-0-1")
        assert screen.selection.hunks[0, 1] and screen.selection.files[0]
        await pilot.press("escape")
        assert not isinstance(app.screen, HunkReviewScreen)
    assert tree(s.project) == before


async def test_feedback_on_rejected_hunks_starts_another_iteration(tmp_path):
    s = settings(tmp_path, [{"text": "Understood: divide() keeps raising; nothing else to change."}])
    app = AgentApp(s)
    async with app.run_test(size=SIZE) as pilot:
        screen = await review(pilot, app)
        await pilot.press("down", "r")
        screen.query_one("#hunks-reason").value = "divide by zero must raise"
        await pilot.click("#feedback")
        await until(pilot, lambda: not isinstance(app.screen, HunkReviewScreen), what="the review to close")
        run = app.agent_run.inner  # the run itself, under the attach server (attach.shared.Shared)
        await until(pilot, lambda: any(isinstance(e, Finished) and e.iterations == 3 for e in run.history()),
                    what="another iteration, finished")
        asked = json.dumps([m for m in run.loop.conversation.messages])
        assert "the person rejected this hunk: divide by zero must raise" in asked
        assert any(isinstance(e, IterationStarted) and e.iteration == 3 for e in run.history())


async def test_undo_is_refused_after_a_change(tmp_path):
    s = settings(tmp_path)
    app = AgentApp(s)
    async with app.run_test(size=SIZE) as pilot:
        await review(pilot, app)
        await pilot.press("y", "y")
        await until(pilot, lambda: app.state.deployed is not None, what="the deploy")
        (s.project / "calc.py").write_text("# the person's own edit\n")
        await pilot.press("u")
        await until(pilot, lambda: any("Undo refused" in n.message for n in app._notifications), what="refusal")
        message = [n.message for n in app._notifications if "Undo refused" in n.message][0]
        assert "calc.py" in message
    assert (s.project / "calc.py").read_text() == "# the person's own edit\n"


def _review_of_calculator() -> tuple:
    fixed = ORIGINAL.replace("    return a / b\n", DIVIDE + "    return a / b\n").replace(
        "    return sum(numbers) / len(numbers) + 1\n", AVERAGE)
    a, b = lines(ORIGINAL.encode()) or [], lines(fixed.encode()) or []
    hunks = tuple((h.text, h.new_text(b)) for h in split(a, b))
    return (("calc.py", "modified", "0" * 64 + ":" + "1" * 64, "", hunks),
            ("Makefile", "added", ":" + "2" * 64, "make runs it", ()))


def test_review_screen_snapshot(snap_compare):
    """The per-hunk review over the finished calculator run: calc.py checked with its two hunks (divide() gets
    `if b == 0: return None`, average() loses the `+ 1`), the second hunk rejected (unchecked), a flagged
    Makefile listed unchecked with why (make runs it); the summary says 1 of 3 change(s) accepted; the reason
    input and the Deploy…, Feedback and Back buttons at the bottom."""
    app = AgentApp(Settings(project=Path("/home/you/calculator")), replay=upto(
        recorded(), lambda e: isinstance(e, Finished)))

    async def open_review(pilot):
        app.clear_notifications()
        screen = HunkReviewScreen(_review_of_calculator(), "/home/you/calculator", run=app.agent_run,
                                  send=app.main.send)
        await app.push_screen(screen)
        screen.selection.set_hunk(0, 1, False)
        screen._sync()
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_review)
