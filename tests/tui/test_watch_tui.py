"""The watch screen driven by keys (Pilot), on a real folder, real file-system events and the bwrap sandbox."""

from __future__ import annotations

import time

import pytest

from tui_agent import config
from tui_agent.events import IterationStarted
from tui_agent.tui.screens.deploy import DeployScreen
from tui_agent.tui.watch_app import WatchApp

from sandbox_fixtures import require_backend
from watch_fixtures import BROKEN, CHECK, FIXED, fix_model, project


@pytest.fixture(autouse=True)
def _bwrap():
    require_backend("bwrap")


def make_app(tmp_path, allow=("write_file",)) -> tuple[WatchApp, object]:
    root = project(tmp_path)
    settings = config.load(root, check=CHECK, model=fix_model(tmp_path), sandbox="bwrap",
                           session_root=tmp_path / "sessions", permissions={"allow": list(allow)} if allow else None,
                           mode=None if allow else "ask")  # no allow rule: the test shows the agent asking
    app = WatchApp(settings)
    return app, root


async def until(pilot, predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            lines = pilot.app.log_view.lines[-10:] if pilot.app.is_mounted else []
            raise AssertionError(f"timed out waiting for {what or predicate}; log tail: {lines}")
        await pilot.pause(0.05)


def idle(app: WatchApp) -> bool:
    return app.watcher is not None and app.watcher.phase == "idle" and not app.watcher.pending


def status(app: WatchApp) -> str:
    return str(app.query_one("#watch-status").render())


async def test_a_failing_save_gets_a_fix_that_d_then_y_applies_without_re_triggering(tmp_path):
    app, root = make_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: idle(app), what="the first check")
        await until(pilot, lambda: "passing" in status(app), what="the status line")
        (root / "app.py").write_text(BROKEN)
        await until(pilot, lambda: app.watcher.proposal is not None and idle(app), what="a proposed fix")
        await until(pilot, lambda: "fix ready" in status(app), what="the status line")
        log = "\n".join(app.log_view.lines)
        assert "changed: app.py" in log and "check failed" in log and "the agent is fixing" in log
        assert "+    return a + b" in str(app.query_one("#watch-diff").render())
        await pilot.press("d")
        assert isinstance(app.screen, DeployScreen)
        await pilot.press("y")
        await until(pilot, lambda: (root / "app.py").read_text() == FIXED, what="the fix applied")
        checks = app.watcher.checks
        await pilot.pause(1.0)
        assert app.watcher.checks == checks, "applying the fix triggered a check on its own writes"
        assert app.watcher.proposal is None and "fix ready" not in status(app)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_f_turns_auto_fix_off_and_on(tmp_path):
    app, root = make_app(tmp_path)
    events: list = []
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: idle(app), what="the first check")
        app.watcher.subscribe(events.append)
        await pilot.press("f")
        assert app.watcher.auto_fix is False and "auto-fix off" in status(app)
        (root / "app.py").write_text(BROKEN)
        await until(pilot, lambda: app.watcher.passed is False and idle(app), what="the failing check")
        await until(pilot, lambda: "failing" in status(app), what="the status line")
        await pilot.pause(0.3)
        assert not [e for e in events if isinstance(e, IterationStarted)]
        await pilot.press("f")  # on again: the failing folder gets a fix now
        await until(pilot, lambda: app.watcher.proposal is not None, what="a proposed fix")
        await until(pilot, lambda: "auto-fix on" in status(app), what="the status line")
        assert (root / "app.py").read_text() == BROKEN
        await pilot.press("ctrl+q")


async def test_the_agent_asks_and_y_allows_its_edit(tmp_path):
    app, root = make_app(tmp_path, allow=())
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: idle(app), what="the first check")
        (root / "app.py").write_text(BROKEN)
        await until(pilot, lambda: app.state.asking is not None, what="a permission request")
        assert "write_file" in str(app.query_one("#watch-ask").render())
        await pilot.press("y")
        await until(pilot, lambda: app.watcher.proposal is not None, what="a proposed fix")
        assert app.state.asking is None
        await pilot.press("ctrl+q")
