"""Pilot: `v` in the main app opens the session browser (the screen `tui-agent` alone shows) once nothing runs; the
chosen replay, resume or fork becomes the command line the CLI runs after the app; refused while a run is live."""

from __future__ import annotations

from pathlib import Path

from test_sessions_browser import DAY, JAN_1, fake_session
from tui_fixtures import recorded, until

from tui_agent.agent.gate import PERSON
from tui_agent.config import Settings
from tui_agent.replay_run import ReplayRun
from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.main import MainScreen
from tui_agent.tui.screens.session_actions import LIVE
from tui_agent.tui.sessions_app import ForkScreen, SessionsScreen

SIZE = (160, 48)


def two_sessions(root: Path) -> tuple[Path, Path]:
    return (fake_session(root, "20260101-000000-aaaa", "Make the calculator's tests pass", JAN_1),
            fake_session(root, "20260102-000000-bbbb", "Add a square root", JAN_1 + DAY))


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_v_on_a_finished_run_replays_resumes_or_forks(tmp_path):
    older, newer = two_sessions(tmp_path / "sessions")
    for keys, wanted in ((("enter",), ["replay", str(newer)]),
                         (("slash", *"tests pass", "enter", "c"), ["resume", str(older)]),
                         (("f", "backspace", "1", "enter"), ["resume", str(newer), "--fork-at", "1"])):
        app = AgentApp(Settings(project=Path("/home/you/calculator"), session_root=tmp_path / "sessions"),
                       replay=recorded())
        async with app.run_test(size=SIZE) as pilot:
            assert app.state.finished is not None
            await pilot.press("v")
            assert isinstance(app.screen, SessionsScreen)
            assert [s.name for s in app.screen.shown] == [newer.name, older.name]
            for key in keys:
                await pilot.press(key)
                if key == "f":
                    assert isinstance(app.screen, ForkScreen)
            await until(pilot, lambda app=app: not app.is_running, what="the app to end for the next command",
                        timeout=60)
        assert app.next_command == wanted, keys


async def test_escape_goes_back_and_the_palette_lists_it(tmp_path):
    two_sessions(tmp_path / "sessions")
    app = AgentApp(Settings(session_root=tmp_path / "sessions"), replay=recorded())
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in app.get_system_commands(app.main)]
        assert "Sessions (v)" in titles
        await pilot.press("v")
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and app.is_running
        await pilot.press("ctrl+q")
    assert app.next_command is None


async def test_a_replay_being_played_may_switch(tmp_path):
    """A replay runs nothing: the browser opens even before the recorded session's end."""
    older, newer = two_sessions(tmp_path / "sessions")
    run = ReplayRun(older, who=PERSON, speed=1.0, step=True)  # paused at the start: far from its end
    app = AgentApp(run.settings, run=run)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.agent_run is not None and app.state.started, what="the replay started")
        assert app.state.finished is None
        await pilot.press("v")
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("down", "r")
        await until(pilot, lambda: not app.is_running, what="the app to end", timeout=60)
    assert app.next_command == ["replay", str(older)]


async def test_v_is_refused_while_the_run_is_live(calculator):
    """A real run (scripted model, real sandbox), paused: v says why and opens nothing; once stopped, it opens."""
    app = AgentApp(calculator.__class__(**{**calculator.__dict__, "step": True}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")  # still starting: live too
        assert isinstance(app.screen, MainScreen) and LIVE in notices(app)
        await until(pilot, lambda: app.state.phase == "paused", what="paused before iteration 1")
        app.clear_notifications()
        await pilot.press("v")
        assert isinstance(app.screen, MainScreen) and LIVE in notices(app)
        await pilot.press("x")
        await until(pilot, lambda: app.state.finished is not None, what="the run stopped")
        await pilot.press("v")
        assert isinstance(app.screen, SessionsScreen)
        assert [s.path for s in app.screen.shown] == [app.agent_run.session_dir], "this very session, listed"
        await pilot.press("escape", "ctrl+q")
    assert app.closed and app.next_command is None


def test_a_command_chosen_after_the_app_keeps_the_one_keeper(monkeypatch):
    """The next command runs in the app's process, which has a keeper already: no second fork (the keeper would
    otherwise wait on a pipe the new run holds open, and leaving would never give the shell its prompt back)."""
    import os

    from tui_agent.tui import keeper

    monkeypatch.setattr(keeper, "_told", 99)
    monkeypatch.setattr(os, "fork", lambda: (_ for _ in ()).throw(AssertionError("forked again")))
    assert keeper.fork_keeper() is True
