"""In a real terminal: `tui-agent replay A`, then v, then another session: the app ends and the CLI opens the replay
of the chosen one in the same terminal (one process after the other, never two apps at once)."""

from __future__ import annotations

import shutil

import pytest

from test_sessions_browser import DAY, JAN_1, fake_session
from tmux import Tmux, app_command, wait_file

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def test_v_then_a_session_replays_it_in_the_same_terminal(tmp_path):
    root = tmp_path / "sessions"
    first = fake_session(root, "20260101-000000-aaaa", "Make the calculator's tests pass", JAN_1)
    second = fake_session(root, "20260102-000000-bbbb", "Add a square root to the calculator", JAN_1 + DAY)
    code = tmp_path / "code"
    tmux = Tmux(f"{app_command('replay', str(first), '--speed', '0')}; echo $? > {code}; sleep 60")
    try:
        tmux.wait_until(lambda s: "REPLAY · DEPLOYED" in s.splitlines()[0] and "Make the calculator's tests" in s,
                        what="the first replay at its end")
        tmux.keys("v")
        tmux.wait_until(lambda s: "search goals" in s and second.name in s and first.name in s, what="the browser")
        tmux.keys("Enter")  # the newest first: the second session
        tmux.wait_until(lambda s: "REPLAY" in s.splitlines()[0] and "Add a square root" in s, what="the second replay")
        assert not code.exists(), "the same command goes on: the CLI ran the chosen one"
        tmux.keys("C-q")
        assert wait_file(code) in ("0", "1")
    finally:
        tmux.kill()
