"""End to end in tmux: stop at a breakpoint, edit the pending call, step, finish; and `tui-agent replay`."""

from __future__ import annotations

import shlex
import shutil
import time
import tomllib

import pytest
from conftest import DATA, REPO
from test_tui_e2e import TUI_AGENT, Tmux

from tui_agent.events import FixApplied, ToolCallDecided, ToolCallFinished
from tui_agent.sessions.recorder import read_events

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
MARK = "  # edited in tmux"
SIZED = "env -u COLUMNS -u LINES "  # pytest's COLUMNS/LINES would override the tmux window's size


def wait_file(path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.read_text().strip() if path.exists() else ""


def quit_then_kill(tmux: Tmux, code_file) -> None:
    """A failed assertion must not leave the workspace mounted: quit the app cleanly before killing tmux."""
    if not code_file.exists():
        tmux.keys("Escape")
        tmux.keys("C-q")
        wait_file(code_file)
    tmux.kill()


def test_breakpoint_edit_step_finish(tmp_path):
    source = REPO / "examples" / "calculator"
    meta = tomllib.loads((source / "example.toml").read_text())
    project = tmp_path / "calculator"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
    sessions, code_file = tmp_path / "sessions", tmp_path / "exit-code"
    command = shlex.join([*TUI_AGENT, "run", str(project), "--goal", meta["goal"], "--check", meta["check"],
                          "--model", f"scripted:{source / meta['model']}", "--sessions", str(sessions),
                          "--break-on", "tool:edit_file"])
    tmux = Tmux(f"{SIZED}{command}; echo $? > {code_file}; sleep 30")
    try:
        tmux.wait_for("AT BREAKPOINT")
        screen = tmux.screen()
        assert "breakpoint: before edit_file (tool:edit_file)" in screen and "edit_file calc.py" in screen
        tmux.keys("e")
        tmux.wait_for("before it runs")
        time.sleep(0.5)
        tmux.keys("End")  # the first line of the new_string: `    if b == 0:`
        time.sleep(0.3)
        tmux.keys("-l", MARK)
        tmux.wait_for("if b == 0:" + MARK)
        tmux.keys("C-s")
        tmux.wait_for("Answered at the breakpoint")
        tmux.keys("s")  # one iteration with the edited call, then paused before the next
        tmux.wait_for("PAUSED")
        assert "1/10" in tmux.screen()
        tmux.keys("p")
        tmux.wait_for("AT BREAKPOINT")  # the second edit_file, in iteration 2
        tmux.keys("y")
        tmux.wait_for("Answered at the breakpoint")
        tmux.keys("p")
        tmux.wait_for("READY TO DEPLOY")
        tmux.keys("C-q")
        assert wait_file(code_file) == "0"
    finally:
        quit_then_kill(tmux, code_file)
    (session,) = [p for p in sessions.iterdir() if p.is_dir()]
    events = read_events(session)
    decided = [e for e in events if isinstance(e, ToolCallDecided) and e.name == "edit_file"]
    assert decided[0].by == "person" and MARK in decided[0].arguments["new_string"]
    assert decided[1].by == "person" and decided[1].arguments is None
    finished = [e for e in events if isinstance(e, ToolCallFinished) and e.call_id == decided[0].call_id]
    assert finished[0].result == "edited calc.py" and not finished[0].is_error
    fix = next(e for e in events if isinstance(e, FixApplied) and e.iteration == 1)
    assert MARK.strip() in fix.diff, "the edited arguments were what ran"
    assert "edited in tmux" not in (project / "calc.py").read_text(), "nothing was deployed"


def test_replay_shows_the_recorded_plan_and_diffs(tmp_path):
    session = tmp_path / "sessions" / "demo-session"
    session.mkdir(parents=True)
    (session / "events.jsonl").write_text((DATA / "calculator.jsonl").read_text())
    code_file = tmp_path / "exit-code"
    command = shlex.join([*TUI_AGENT, "replay", str(session), "--speed", "0"])
    tmux = Tmux(f"{SIZED}{command}; echo $? > {code_file}; sleep 30")
    try:
        tmux.wait_for("REPLAY · ")
        tmux.wait_for("Fix 2/2")
        screen = tmux.screen()
        assert "✓ Make divide()" in screen and "✓ Fix average()" in screen  # the recorded plan, all done
        assert "+    if not numbers:" in screen and "-    return sum(numbers) / len(numbers) + 1" in screen
        tmux.keys("[")
        tmux.wait_for("Fix 1/2")
        assert "+    if b == 0:" in tmux.screen()
        tmux.keys("d")
        tmux.wait_for("Deploy refused")
        tmux.keys("C-q")
        wait_file(code_file)
    finally:
        quit_then_kill(tmux, code_file)
