"""The preflight: every bad input found without the sandbox, before any screen, and without loading what the first
paint does not need (the model's SDK, the MCP client, the engine's client)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loop_fixtures import EXAMPLES, ROOT, cli
from tui_agent import config
from tui_agent.agent.preflight import preflight
from tui_agent.models.base import BadModelSpec

MODEL = f"scripted:{EXAMPLES / 'calculator' / 'model.json'}"
RECORDED = ROOT / "tests" / "tui" / "data" / "calculator.jsonl"


def settings(project: Path, **flags):
    return config.load(project, **{"check": "python3 -m unittest", "model": MODEL, "sandbox": "bwrap", **flags})


def refused(project: Path, *needles: str, error: type[Exception] = config.ConfigError, resume=None, fork_at=None,
            **flags) -> None:
    with pytest.raises(error) as caught:
        preflight(settings(project, **flags), resume_dir=resume, fork_at=fork_at)
    for needle in needles:
        assert needle in str(caught.value), caught.value
    assert "\n" not in str(caught.value)


@pytest.mark.unit
def test_good_settings_pass(tmp_path):
    preflight(settings(tmp_path, budget_usd=1.5, wall_time_s=60, breakpoints=("check",), pass_pattern="OK$",
                       permissions={"deny": ["run_command(rm *)"]}))


@pytest.mark.unit
@pytest.mark.parametrize("flag, value, needle", [
    ("budget_usd", -1.0, "budget_usd"), ("budget_usd", float("nan"), "budget_usd"), ("wall_time_s", 0.0, "wall_time_s"),
    ("max_iterations", 0, "max_iterations"), ("no_progress", -1, "no_progress"), ("timeout_s", 0.0, "timeout_s"),
    ("timeout_s", float("inf"), "timeout_s"), ("check", "  ", "check command is empty"),
    ("pass_pattern", "(", "not a regular expression"), ("breakpoints", ("sometimes",), "bad breakpoint"),
    ("permissions", {"deny": ["run_command("]}, "permissions.deny"), ("permissions", {"maybe": ["x"]}, "unknown key"),
    ("sandbox_host", "nowhere", "no sandbox host named 'nowhere'"), ("env", "conda", "setting env = 'conda'"),
    ("sandbox_runtime", "runsc", "applies to docker and podman"),
])
def test_bad_values_are_refused(tmp_path, flag, value, needle):
    refused(tmp_path, needle, **{flag: value})


@pytest.mark.unit
def test_bad_models_are_refused_without_their_sdk(tmp_path, monkeypatch):
    refused(tmp_path, "unknown model spec 'gpt:4o'", error=BadModelSpec, model="gpt:4o")
    refused(tmp_path, "scripted model file not found", error=BadModelSpec, model=f"scripted:{tmp_path / 'no.json'}")
    (tmp_path / "bad.json").write_text('{"turns": [}')
    refused(tmp_path, "bad.json", "line 1", error=BadModelSpec, model=f"scripted:{tmp_path / 'bad.json'}")
    refused(tmp_path, "replay: no session file", error=BadModelSpec, model=f"replay:{tmp_path / 'none.jsonl'}")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    refused(tmp_path, "ANTHROPIC_API_KEY", error=BadModelSpec, model="anthropic:claude-sonnet-4-5")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    refused(tmp_path, "bad price for 'x'", error=BadModelSpec, model="anthropic:x", prices={"x": {"input": "a lot"}})


@pytest.mark.unit
def test_project_files_are_read_first(tmp_path):
    refused(tmp_path / "missing", "project folder not found")
    (tmp_path / ".mcp.json").write_text('{"mcpServers": {"a": {"command": "x"},}}')
    refused(tmp_path, ".mcp.json:1:", "invalid JSON")
    (tmp_path / ".mcp.json").unlink()
    (tmp_path / ".tui-agent").mkdir()
    (tmp_path / ".tui-agent" / "permissions.json").write_text('{"permissions": {"deny": [42]}}')
    refused(tmp_path, "permissions.json")


@pytest.mark.unit
def test_the_permissions_file_is_the_policys():
    from tui_agent.agent import preflight as module
    from tui_agent.tools.permissions import policy

    assert module.PERMISSIONS_FILE == policy.PERMISSIONS_FILE


@pytest.mark.unit
def test_a_fork_from_an_iteration_the_session_lacks(tmp_path):
    session = tmp_path / "sessions" / "20260101-000000-aaaa"
    session.mkdir(parents=True)
    (session / "events.jsonl").write_text(RECORDED.read_text())
    preflight(settings(tmp_path), resume_dir=session, fork_at=1)
    refused(tmp_path, "has no iteration 7 to fork from", resume=session, fork_at=7)
    (session / "events.jsonl").write_text(RECORDED.read_text().splitlines()[0] + "\n")
    refused(tmp_path, "no whole iteration was recorded", resume=session)


def test_the_preflight_loads_no_sdk_client_or_engine(tmp_path):
    """What the first paint waits for stays small: the checks load neither anthropic, mcp nor docker."""
    code = ("import sys, json; from pathlib import Path; from tui_agent import config; "
            "from tui_agent.agent.preflight import preflight; "
            f"preflight(config.load(Path({str(tmp_path)!r}), model='anthropic:x', trust_project=True)); "
            "print(json.dumps(sorted(m for m in ('anthropic', 'mcp', 'docker', 'httpx', 'textual') "
            "if m in sys.modules)))")
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {"h": {"type": "http", "url": "https://x.invalid",
                                                                         "oauth": {"client_id": "c"}}}}))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "ANTHROPIC_API_KEY": "sk-test"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_cli_says_one_line_and_exits_2(tmp_path):
    session = tmp_path / "s" / "20260101-000000-aaaa"
    session.mkdir(parents=True)
    (session / "events.jsonl").write_text(RECORDED.read_text())
    for args in (["run", str(tmp_path), "--check", "true", "--pass-pattern", "(", "--model", MODEL],
                 ["resume", str(session), "--fork-at", "9"],
                 ["replay", str(session), "--speed", "-2"]):
        done = cli(*args, env={"TUI_AGENT_NO_KEEPER": "1"})
        assert done.returncode == 2, (args, done.stderr)
        (line,) = done.stderr.splitlines()
        assert line.startswith("tui-agent: error: ") and done.stdout == "", (args, done.stdout)
