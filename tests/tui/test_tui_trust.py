"""Pilot: the trust question before a run (its answers, a snapshot), and an untrusted .mcp.json starting nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tui_fixtures import example_settings, until

from tui_agent import config, trust
from tui_agent.trust import Review
from tui_agent.tui.app import AgentApp
from tui_agent.tui.trust_app import TrustApp

SIZE = (110, 36)
MARKER_SERVER = "import sys; open(sys.argv[1], 'w').write('started')"


@pytest.fixture(autouse=True)
def own_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _cloned(tmp_path: Path, marker: Path) -> Path:
    settings = example_settings(tmp_path)
    project = Path(settings.project)
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "marker": {"command": sys.executable, "args": ["-c", MARKER_SERVER, str(marker)]}}}))
    (project / "tui-agent.toml").write_text('deploy_command = "touch PWNED"\n')
    return project


@pytest.mark.parametrize("key,answer", [("t", "trust"), ("u", "untrusted"), ("q", "quit"), ("escape", "quit")])
async def test_the_trust_question_lists_what_would_run_and_takes_an_answer(tmp_path, key, answer):
    project = _cloned(tmp_path, tmp_path / "started")
    app = TrustApp(project, trust.review(project))
    async with app.run_test(size=SIZE) as pilot:
        shown = str(app.screen.query_one("#trust-review Static").render())
        assert f"marker: {sys.executable} -c" in shown and "touch PWNED" in shown
        assert not (tmp_path / "started").exists()
        await pilot.press(key)
    assert app.return_value == answer


async def test_an_untrusted_project_starts_no_server_in_the_tui(tmp_path):
    marker = tmp_path / "started"
    project = _cloned(tmp_path, marker)
    settings = config.load(project, **_flags(tmp_path))
    assert not settings.project_trusted and settings.deploy_command is None
    app = AgentApp(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.state.phase == "paused", what="the baseline check, then paused")
        assert app.agent_run is not None and app.agent_run.servers() == ()
        await pilot.press("ctrl+q")
    assert not marker.exists(), "an untrusted project's MCP server ran on the host"


async def test_a_trusted_project_starts_its_server_in_the_tui(tmp_path):
    marker = tmp_path / "started"
    project = _cloned(tmp_path, marker)
    trust.record(project)
    settings = config.load(project, **_flags(tmp_path))
    assert settings.project_trusted and settings.deploy_command == "touch PWNED"
    app = AgentApp(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: marker.exists(), what="the trusted server started")
        await pilot.press("ctrl+q")


def _flags(tmp_path: Path) -> dict:
    from tui_agent.cli.examples import example_flags

    source = Path(__file__).resolve().parents[2] / "examples" / "calculator"
    return {**example_flags(source), "session_root": tmp_path / "sessions", "step": True}


def test_trust_screen(snap_compare, monkeypatch, tmp_path):
    """The trust question for a cloned folder: the MCP server's command line, the settings that widen
    permissions, the deploy command and the environment inputs, with Trust / Run without project config / Quit
    (the middle one focused)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    review = Review(servers=["git: uvx mcp-server-git --repository ."],
                    settings=["tui-agent.toml: permissions allow run_command",
                              ".tui-agent/permissions.json: allow write_file"],
                    deploy_command="make install", env_inputs=["requirements.txt", "Dockerfile"], docker_env=True)
    assert snap_compare(TrustApp(Path("/home/you/cloned"), review), terminal_size=SIZE)


async def test_a_changed_file_asks_again_and_says_so(tmp_path):
    project = _cloned(tmp_path, tmp_path / "started")
    trust.record(project)
    assert config.load(project).project_trusted
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"marker": {"command": "sh", "args": ["-c", "x"]}}}))
    settings = config.load(project)
    assert not settings.project_trusted and settings.deploy_command is None
    app = TrustApp(project, trust.review(project))
    async with app.run_test(size=SIZE) as pilot:
        assert "changed since you trusted it" in str(app.screen.query_one("#trust-why").render())
        assert "marker: sh -c x" in str(app.screen.query_one("#trust-review Static").render())
        await pilot.press("u")
    assert app.return_value == "untrusted"


async def test_run_without_its_config_says_what_was_ignored(tmp_path):
    project = _cloned(tmp_path, tmp_path / "started")
    app = AgentApp(config.load(project, **_flags(tmp_path)))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.state.phase == "paused", what="the baseline check, then paused")
        said = " ".join(app.state.errors)
        assert "project not trusted, ignored" in said and "touch PWNED" in said, said
        await pilot.press("ctrl+q")
