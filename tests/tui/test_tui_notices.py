"""Pilot: model retries and fatal errors are shown to the person (recorded events replayed, plus the faults)."""

from __future__ import annotations

from pathlib import Path

from tui_fixtures import recorded, upto

from tui_agent.config import Settings
from tui_agent.events import (
    Error, Finished, ModelRequested, ModelResponded, ModelRetrying, ToolProgress,
)
from tui_agent.tui.app import AgentApp

SIZE = (160, 48)
EVENTS = recorded()
OVERLOADED = ModelRetrying(1, 1, "overloaded (529)", 2.0)
GAVE_UP = "model error: Claude API: overloaded (529) (gave up after 2 retries)"


def asking() -> list:
    """The recording up to the first model request of iteration 1 (the call that gets retried)."""
    return upto(EVENTS, lambda e: isinstance(e, ModelRequested) and e.iteration == 1)


def replay(events) -> AgentApp:
    return AgentApp(Settings(project=Path("/home/you/calculator")), replay=events)


def feed(app: AgentApp, *events) -> None:
    for event in events:
        app.receive(event)
    app.drain()


def activity(app) -> str:
    return str(app.main.plan.query_one("#activity").render())


def badge(app) -> str:
    return str(app.main.status.query_one("#phase").render()).strip()


async def test_a_retry_is_shown_until_the_model_answers():
    app = replay(asking() + [OVERLOADED])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "⟳ model busy: overloaded (529); retry 1 in 2.0 s" in activity(app)
        assert badge(app) == "RETRYING MODEL"
        feed(app, ModelRetrying(1, 2, "rate limited (429)", 4.5))
        await pilot.pause()
        assert "rate limited (429); retry 2 in 4.5 s" in activity(app) and "overloaded" not in activity(app)
        answer = next(e for e in EVENTS if isinstance(e, ModelResponded) and e.iteration == 1)
        feed(app, answer)
        await pilot.pause()
        assert "model busy" not in activity(app)
        assert badge(app) == "RUNNING"


async def test_a_fatal_error_stays_on_screen_and_the_run_shows_as_failed():
    app = replay(asking() + [OVERLOADED, Error(GAVE_UP, fatal=True, iteration=1),
                             Finished("error", GAVE_UP, 0, 0.0, 1.5)])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "✗ " + GAVE_UP in activity(app)
        assert "model busy" not in activity(app), "the retry is over"
        assert badge(app) == "DONE: ERROR"
        assert "-failed" in app.main.status.query_one("#phase").classes
        assert any(n.message == GAVE_UP and n.severity == "error" for n in app._notifications)


async def test_mcp_progress_reaches_the_activity_line():
    app = replay(asking() + [ToolProgress(None, "mcp:git", "stderr: starting git server\nlistening on stdio")])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "progress: mcp:git: listening on stdio" in activity(app)
        assert not app.main.permissions.query_one("#servers").display, "no servers: no section"
