"""`tui-agent` with no arguments, in a real terminal: the session browser; Enter replays the selected session in the
app; f forks it from the iteration typed (a new session, its parent recorded)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tmux import REPO, Tmux, app_command, wait_file

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("bwrap") is None,
                                reason="needs tmux and bwrap")
MODEL = REPO / "examples" / "calculator" / "model.json"


def record(tmp_path, sessions):
    project = tmp_path / "proj"
    shutil.copytree(REPO / "examples" / "calculator", project, ignore=shutil.ignore_patterns("*.toml", "model.json"))
    done = subprocess.run([sys.executable, "-m", "tui_agent.cli.main", "run", str(project), "--check",
                           "python3 -m unittest", "--model", f"scripted:{MODEL}", "--headless", "--sandbox", "bwrap",
                           "--allow", "edit_file", "--sessions", str(sessions)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return next(sessions.iterdir())


def test_no_arguments_opens_the_browser_then_replay_then_fork(tmp_path):
    data = tmp_path / "data"
    sessions = data / "tui-agent" / "sessions"
    parent = record(tmp_path, sessions)
    code = tmp_path / "code"
    browse = f"env XDG_DATA_HOME={data} {app_command()}"
    tmux = Tmux(f"{browse}; echo $? > {code}; sleep 60")
    try:
        tmux.wait_until(lambda s: "search goals" in s and parent.name in s and "met" in s, what="the session listed")
        tmux.keys("Enter")
        tmux.wait_until(lambda s: "REPLAY" in s.splitlines()[0], what="the replay in the app")
        tmux.keys("C-q")
        assert wait_file(code) in ("0", "1")
        code.unlink()
        tmux._tmux("respawn-pane", "-k", "-t", "main", f"{browse}; echo $? > {code}; sleep 60")
        tmux.wait_until(lambda s: parent.name in s, what="the browser again")
        tmux.keys("f")
        tmux.wait_for("Fork ")
        tmux.keys("BSpace")  # one key at a time: the dialog's input shows each
        tmux.wait_until(lambda s: "│  ▊  2" not in s, what="the proposed iteration erased")
        tmux.keys("1")
        tmux.wait_until(lambda s: "│  ▊  1" in s, what="iteration 1 typed")
        tmux.keys("Enter")
        tmux.wait_until(lambda s: "iteration" in s.splitlines()[0] and "REPLAY" not in s, what="the fork running")
        forks = wait_until_fork(sessions, parent)
        start = json.loads((forks / "events.jsonl").read_text().splitlines()[0])
        assert (start["parent"], start["fork_at"]) == (parent.name, 1)
    finally:
        tmux.quit_then_kill(code)


def wait_until_fork(sessions, parent):
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        forks = [p for p in sessions.iterdir() if p != parent and (p / "events.jsonl").is_file()]
        if forks and (forks[0] / "events.jsonl").read_text().strip():
            return forks[0]
        time.sleep(0.05)
    raise AssertionError("no fork session")
