"""The session browser (`tui-agent` with no arguments): every session with its goal, outcome, iterations, cost
and date; a search; keys that replay, resume or fork (from a chosen iteration) the selected session."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from tui_agent.tui.sessions_app import Choice, ForkScreen, SessionsApp

SIZE = (120, 20)
RECORDED = Path(__file__).parent / "data" / "calculator.jsonl"
DAY = 24 * 3600.0
JAN_1 = 1767225600.0  # 2026-01-01 00:00 UTC


def fake_session(root: Path, name: str, goal: str, started: float, *, finished: bool = True) -> Path:
    """A session folder with the recorded calculator run's events under another goal and start time."""
    folder = root / name
    folder.mkdir(parents=True)
    lines = []
    for seq, line in enumerate(RECORDED.read_text().splitlines()):
        record = json.loads(line)
        if record["type"] == "session_started":
            record.update(goal=goal, session_id=name)
        if record["type"] in ("finished", "deployed", "deploy_ready") and not finished:
            continue
        lines.append(json.dumps({"seq": seq, "ts": started + seq, **record}))
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def sessions(tmp_path) -> Path:
    root = tmp_path / "sessions"
    fake_session(root, "20260101-000000-aaaa", "Make the calculator's tests pass", JAN_1)
    fake_session(root, "20260102-000000-bbbb", "Add a square root to the calculator", JAN_1 + DAY, finished=False)
    fake_session(root, "20260103-000000-cccc", "Rename the parser module", JAN_1 + 2 * DAY)
    return root


async def test_lists_newest_first_and_enter_replays(sessions):
    app = SessionsApp(sessions)
    async with app.run_test(size=SIZE) as pilot:
        assert [s.name for s in app.shown] == ["20260103-000000-cccc", "20260102-000000-bbbb",
                                               "20260101-000000-aaaa"]
        assert [s.outcome for s in app.shown] == ["met", "unfinished", "met"]
        await pilot.press("down", "enter")
    assert app.return_value == Choice("replay", sessions / "20260102-000000-bbbb")


async def test_search_then_resume(sessions):
    app = SessionsApp(sessions)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"square root")
        assert [s.name for s in app.shown] == ["20260102-000000-bbbb"]
        await pilot.press("c")  # typed into the search: not a command
        assert app.return_value is None and app.query_one("#search").value == "square rootc"
        await pilot.press("backspace", "enter", "c")  # Enter leaves the search for the list
    assert app.return_value == Choice("resume", sessions / "20260102-000000-bbbb")


async def test_fork_from_a_chosen_iteration(sessions):
    app = SessionsApp(sessions)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        assert isinstance(app.screen, ForkScreen)
        await pilot.press("backspace", "9", "enter")  # there is no iteration 9: said, not forked
        assert isinstance(app.screen, ForkScreen) and app.return_value is None
        await pilot.press("backspace", "1", "enter")
    assert app.return_value == Choice("fork", sessions / "20260103-000000-cccc", 1)


async def test_escape_leaves_the_fork_dialog_then_the_browser(sessions):
    app = SessionsApp(sessions)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f", "escape")
        assert not isinstance(app.screen, ForkScreen)
        await pilot.press("escape")
    assert app.return_value is None


async def test_no_sessions_says_so(tmp_path):
    app = SessionsApp(tmp_path / "none")
    async with app.run_test(size=SIZE) as pilot:
        assert "no sessions yet" in str(app.query_one("#none").render())
        await pilot.press("enter")  # nothing to open: nothing happens
        assert app.is_running


def test_snapshot(snap_compare, sessions, monkeypatch):
    """Three sessions newest first (2026-01-03 met, 2026-01-02 unfinished, 2026-01-01 met), each with 2 iterations
    and its cost, goal and name; the search line on top; the keys Replay, Resume, Fork from…, Search, Quit."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert snap_compare(SessionsApp(sessions), terminal_size=SIZE)
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_a_live_run_is_shown_live_and_a_attaches(sessions):
    """An unfinished session whose run still serves its socket (its window was closed: it went on) says "live";
    a socket a killed run left behind (nobody listening) does not."""
    from tui_agent.attach.wire import socket_path

    live_one, killed = sessions / "20260102-000000-bbbb", fake_session(sessions, "20260104-000000-dddd", "Killed",
                                                                        JAN_1 + 3 * DAY, finished=False)
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as stale:
        server.bind(str(socket_path(live_one)))
        server.listen()
        stale.bind(str(socket_path(killed)))  # bound, never listening: what a killed run leaves
        app = SessionsApp(sessions)
        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one("#sessions")
            outcomes = {s.name: str(table.get_row_at(i)[1]) for i, s in enumerate(app.shown)}
            assert outcomes["20260102-000000-bbbb"] == "live" and outcomes["20260104-000000-dddd"] == "unfinished"
            await pilot.press("down", "down", "a")
    assert app.return_value == Choice("attach", live_one)
