"""Pilot: the environment's build before the baseline check: its steps, its live install log, the outcome."""

from __future__ import annotations

from pathlib import Path

from tui_fixtures import recorded

from tui_agent.config import Settings
from tui_agent.events import (
    EnvDetected, EnvFailed, EnvOutdated, EnvOutput, EnvReady, EnvStep, Finished, SessionStarted,
)
from tui_agent.tui.app import AgentApp

SIZE = (160, 48)
START = next(e for e in recorded() if isinstance(e, SessionStarted))
DETECTED = EnvDetected("requirements", "requirements files", ("requirements.txt",), "docker", "abc123", False,
                       (".devcontainer/devcontainer.json is used with the Docker sandbox only",))


def app_with(*events) -> AgentApp:
    return AgentApp(Settings(project=Path("/home/you/shop")), replay=[START, *events])


def badge(app) -> str:
    return str(app.main.status.query_one("#phase").render()).strip()


def shown(app) -> str:
    return "\n".join(app.main.output.lines)


async def test_the_build_streams_its_install_log_then_says_ready():
    app = app_with(DETECTED, EnvStep("install"), EnvOutput("Resolved 6 packages in 56ms\n + pytest==8.4.2"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = shown(app)
        assert "environment: requirements files (docker): building it in the sandbox" in text
        assert "note: .devcontainer/devcontainer.json is used with the Docker sandbox only" in text
        assert "environment step: install" in text and " + pytest==8.4.2" in text
        assert badge(app) == "BUILDING ENVIRONMENT"
        app.receive(EnvReady("abc123", "tui-agent-env:abc123", False, 12.5, 31.0))
        app.drain()
        await pilot.pause()
        assert "environment ready: tui-agent-env:abc123 (31.0 MB) in 12.5 s" in shown(app)
        assert badge(app) == "RUNNING"


async def test_a_failed_build_is_shown_and_notified():
    message = "the environment build failed at step 'install' (exit 1: error: nothere); full log: /x/abc.log"
    app = app_with(DETECTED, EnvStep("install"), EnvFailed("install", message, "/x/abc.log"),
                   Finished("invalid", message, 0, 0.0, 3.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "environment build failed at step install" in shown(app)
        assert any(n.message == message and n.severity == "error" for n in app._notifications)
        assert app.exit_code == 2, "a failed build is bad input, as headless says with exit 2"


async def test_a_cached_environment_and_an_agent_edit_of_its_inputs():
    cached = EnvDetected("uv", "uv.lock (uv sync --frozen)", ("uv.lock",), "bwrap", "k", True)
    outdated = EnvOutdated(("uv.lock",),
                           "the agent changed uv.lock; the environment still holds what it was built from")
    app = app_with(cached, EnvReady("k", "/var/cache/tui-agent/envs/bwrap/k", True, 0.0, 28.0), outdated)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "uv.lock (uv sync --frozen) (bwrap): cached" in shown(app)
        assert any(n.message == outdated.message and n.severity == "warning" for n in app._notifications)
