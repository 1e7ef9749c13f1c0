"""Closing the run's own window never stops the run: ctrl+q on a live run gives the shell its prompt back while the
run goes on in the background; another window attaches and drives it to its end; once it has ended and the last
window has gone, the run closes by itself (no process, no mount, no socket left)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest
from test_tui_signals import mounts_under, processes_mentioning, until

from tmux import REPO, Tmux, app_command, wait_file
from tui_agent.attach.wire import socket_path
from tui_agent.events import Finished
from tui_agent.sessions.recorder import read_events

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("bwrap") is None,
                                reason="needs tmux and bwrap")


def test_ctrl_q_leaves_the_run_running_another_window_finishes_it(tmp_path):
    project, sessions, code, code2 = tmp_path / "proj", tmp_path / "sessions", tmp_path / "code", tmp_path / "code2"
    shutil.copytree(REPO / "examples" / "calculator", project, ignore=shutil.ignore_patterns("*.toml", "model.json"))
    run = app_command("run", str(project), "--check", "python3 -m unittest -v", "--model",
                      f"scripted:{REPO / 'examples' / 'calculator' / 'model.json'}", "--sessions", str(sessions),
                      "--sandbox", "bwrap", "--step")
    first = Tmux(f"{run}; echo $? > {code}; sleep 60")
    second = None
    try:
        first.wait_for("PAUSED")
        first.keys("C-q")
        assert wait_file(code, 60) == "0", "the shell has its prompt back"
        (session,) = [p for p in sessions.iterdir() if p.is_dir()]
        screen = first.wait_until(lambda s: "the run goes on in the background" in s, what="what the person is told")
        assert f"tui-agent attach {session.name}" in screen and f"tui-agent stop {session.name}" in screen
        assert processes_mentioning(str(sessions)) and mounts_under(sessions), "the run goes on"
        assert not any(isinstance(e, Finished) for e in read_events(session))

        second = Tmux(f"{app_command('attach', '--sessions', str(sessions))}; echo $? > {code2}; sleep 60")
        second.wait_until(lambda s: s.splitlines() and "PAUSED" in s.splitlines()[0], what="PAUSED in the badge")
        second.keys("p")  # resume, from the other window
        second.wait_for("READY TO DEPLOY")
        assert processes_mentioning(str(sessions)), "a finished run waits while a window is attached"
        second.keys("C-q")  # the last window leaves: nothing runs, nobody looks, the run closes
        assert wait_file(code2, 60) != ""
        assert until(lambda: not processes_mentioning(str(sessions))), processes_mentioning(str(sessions))
        assert not mounts_under(sessions) and not socket_path(session).exists()
        finished = [e for e in read_events(session) if isinstance(e, Finished)]
        assert [f.outcome for f in finished] == ["met"]
        assert (session / "workspace").is_dir(), "the met goal's changes stay in the session for `tui-agent review`"
    finally:
        for window in (first, second):
            if window is not None:
                window.kill()
        subprocess.run(app_command("stop", "--sessions", str(sessions)), shell=True, capture_output=True, timeout=300)


def test_sigterm_after_leaving_closes_the_run_cleanly(tmp_path):
    """A run left in the background is stopped by SIGTERM (to its own process: the keeper is gone): the session
    says so, and nothing is left for the next command's recovery to put right (no mount, no half-closed run)."""
    project, sessions, code = tmp_path / "proj", tmp_path / "sessions", tmp_path / "code"
    shutil.copytree(REPO / "examples" / "calculator", project, ignore=shutil.ignore_patterns("*.toml", "model.json"))
    run = app_command("run", str(project), "--check", "python3 -m unittest -v", "--model",
                      f"scripted:{REPO / 'examples' / 'calculator' / 'model.json'}", "--sessions", str(sessions),
                      "--sandbox", "bwrap", "--step")
    first = Tmux(f"{run}; echo $? > {code}; sleep 60")
    try:
        first.wait_for("PAUSED")
        first.keys("C-q")
        assert wait_file(code, 60) == "0"
        (session,) = [p for p in sessions.iterdir() if p.is_dir()]
        (app,) = [int(line.split(":")[0]) for line in processes_mentioning(str(sessions)) if "tui_agent" in line]
        os.kill(app, signal.SIGTERM)
        assert until(lambda: not processes_mentioning(str(sessions))), processes_mentioning(str(sessions))
        assert not mounts_under(sessions) and not socket_path(session).exists()
        assert [(f.outcome, f.reason) for f in read_events(session) if isinstance(f, Finished)] == [
            ("stopped", "SIGTERM: the app was asked to end")]
        after = subprocess.run(app_command("sessions", "--sessions", str(sessions)), shell=True, capture_output=True,
                               text=True, timeout=120)
        assert after.returncode == 0 and "tui-agent:" not in after.stderr, after.stderr
    finally:
        first.kill()
        subprocess.run(app_command("stop", "--sessions", str(sessions)), shell=True, capture_output=True, timeout=300)
