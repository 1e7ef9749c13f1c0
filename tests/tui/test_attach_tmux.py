"""Two real terminals on one run: `tui-agent attach` in a second tmux shows the run's state and steers it (resume,
pause), a pause asked in one shows PAUSED in both, an approval in the first counts for both, and closing the second
window leaves the run running (the first resumes it to the end)."""

from __future__ import annotations

import shutil

import pytest

from tmux import REPO, Tmux, app_command, wait_file

from tui_agent.attach.wire import socket_path

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("bwrap") is None,
                                reason="needs tmux and bwrap")


def badge(tmux: Tmux) -> str:
    return tmux.screen().splitlines()[0] if tmux.screen().strip() else ""


def both(first: Tmux, second: Tmux, text: str) -> None:
    for window in (first, second):
        window.wait_until(lambda s: s.splitlines() and text in s.splitlines()[0], what=f"{text} in the badge")


def test_two_terminals_steer_one_run(tmp_path):
    project, sessions, code, code2 = tmp_path / "proj", tmp_path / "sessions", tmp_path / "code", tmp_path / "code2"
    shutil.copytree(REPO / "examples" / "calculator", project, ignore=shutil.ignore_patterns("*.toml", "model.json"))
    run = app_command("run", str(project), "--check", "python3 -m unittest -v", "--model",
                      f"scripted:{REPO / 'examples' / 'calculator' / 'model.json'}", "--sessions", str(sessions),
                      "--sandbox", "bwrap", "--mode", "ask", "--step")
    first = Tmux(f"{run}; echo $? > {code}; sleep 60")
    second = None
    try:
        first.wait_for("PAUSED")
        second = Tmux(f"{app_command('attach', '--sessions', str(sessions))}; echo $? > {code2}; sleep 60")
        both(first, second, "PAUSED")
        second.keys("p")  # resume, from the second window
        both(first, second, "WAITING FOR APPROVAL")
        second.keys("p")  # a pause asked while the first call waits
        second.wait_until(lambda s: "p Resume" in s, what="the pause sent (the key now offers Resume)")
        first.keys("a")  # the approval, from the first window (always: edit_file is not asked again)
        both(first, second, "PAUSED")
        second.keys("C-q")  # the second window leaves
        assert wait_file(code2, 30) != ""
        assert "PAUSED" in badge(first), "leaving a window never stops the run"
        first.keys("p")
        first.wait_for("READY TO DEPLOY")  # the second edit_file is allowed by the rule "always" kept
    finally:
        if second is not None:
            second.kill()
        first.quit_then_kill(code)
    (session,) = [p for p in sessions.iterdir() if p.is_dir()]
    assert not socket_path(session).exists(), "the socket goes with the run"
