"""Project trust: the hash of the trust-relevant files, the store outside the project, what untrusted config loses."""

import json
import os
import stat
from pathlib import Path

import pytest

from tui_agent import config, trust
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.permissions.policy import Policy

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def own_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "tui-agent.toml").write_text('check = "true"\ndeploy_command = "touch PWNED"\n'
                                           '[permissions]\nallow = ["run_command"]\ndeny = ["run_command(rm *)"]\n')
    (folder / ".mcp.json").write_text(json.dumps({"mcpServers": {"x": {"command": "touch", "args": ["M"]}}}))
    return folder


def test_an_untrusted_project_keeps_only_what_narrows(project):
    settings = config.load(project)
    assert not settings.project_trusted
    assert settings.deploy_command is None
    assert settings.permissions == {"deny": ["run_command(rm *)"]}
    assert settings.check == "true"  # what runs in the sandbox is not a matter of trust
    (notice,) = settings.notices
    assert "deploy_command = touch PWNED" in notice and "MCP server x: touch M" in notice
    assert "permissions allow run_command" in notice and "\n" not in notice
    assert mcp_config.load(project, include_user=False, trusted=settings.project_trusted) == {}


def test_trusted_once_then_any_change_asks_again(project):
    trust.record(project)
    settings = config.load(project)
    assert settings.project_trusted and settings.deploy_command == "touch PWNED" and not settings.notices
    assert "x" in mcp_config.load(project, include_user=False, trusted=settings.project_trusted)
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"x": {"command": "touch", "args": ["N"]}}}))
    assert not config.load(project).project_trusted


@pytest.mark.parametrize("path,text,asks", [
    ("pyproject.toml", '[project]\nname = "p"\nversion = "2"\n', False),  # only some tables count
    ("pyproject.toml", '[project]\nname = "p"\nversion = "1"\n[tool.tui-agent]\nsetup = "x"\n', True),
    ("pyproject.toml", '[project]\nname = "p"\nversion = "1"\ndependencies = ["evil"]\n', True),
    (".tui-agent/permissions.json", '{"permissions": {"allow": ["run_command"]}}', True),
    ("requirements.txt", "evil\n", True),
    ("pyproject.toml", '[project]\nname = "p"\nversion = "1"\n[tool.poetry.group.dev.dependencies]\nx = "*"\n', True),
    ("tox.ini", "[testenv]\ndeps = evil\n", True),
    (".devcontainer/devcontainer.json", '{"image": "x"}', True),
    ("Dockerfile", "FROM x\n", True),
    ("tui-agent.toml", 'check = "false"\n', True),
    ("README.md", "hello\n", False),
])
def test_which_changes_ask_again(project, path, text, asks):
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    trust.record(project)
    (project / path).parent.mkdir(exist_ok=True)
    (project / path).write_text(text)
    assert trust.is_trusted(project) is not asks


def test_the_store_is_the_persons_own_file_keyed_by_the_resolved_path(project, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(project)
    trust.record(link)
    store = trust.store_path()
    assert store.is_relative_to(tmp_path / "data") and not store.is_relative_to(project)
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert str(project.resolve()) in json.loads(store.read_text())["projects"]
    assert trust.is_trusted(project)
    trust.forget(project)
    assert not trust.is_trusted(project)


def test_allow_always_re_records_the_trust_it_changed(project):
    trust.record(project)
    policy = Policy.load(project, trusted=True)
    policy.allow_always("run_command", {"command": "pytest -q"})
    assert "run_command(pytest -q)" in (project / ".tui-agent/permissions.json").read_text()
    assert trust.is_trusted(project), "tui-agent's own write must not make the next run ask"


def test_allow_always_does_not_trust_an_untrusted_project(project):
    Policy.load(project, trusted=False).allow_always("run_command", {"command": "pytest -q"})
    assert not trust.is_trusted(project)


def test_an_untrusted_permissions_file_only_narrows(project):
    (project / ".tui-agent").mkdir()
    (project / ".tui-agent/permissions.json").write_text(json.dumps(
        {"permissions": {"allow": ["run_command"], "deny": ["write_file(secrets/**)"]}}))
    untrusted = Policy.load(project, trusted=False)
    assert untrusted.allow == [] and untrusted.deny == ["write_file(secrets/**)"]
    assert untrusted.evaluate("run_command", {"command": "ls"}).action == "ask"
    assert Policy.load(project, trusted=True).evaluate("run_command", {"command": "ls"}).action == "allow"


def test_the_persons_own_config_applies_and_can_trust_a_project(project, tmp_path):
    own = tmp_path / "config/tui-agent/config.toml"
    own.parent.mkdir(parents=True)
    own.write_text('deploy_command = "make install"\nmcp_env_allow = ["MY_VAR"]\n')
    settings = config.load(project)
    assert (settings.deploy_command, settings.mcp_env_allow) == ("make install", ("MY_VAR",))
    assert not settings.project_trusted
    own.write_text(f'trusted_projects = ["{tmp_path}/*"]\n')
    assert config.load(project).project_trusted and config.load(project).deploy_command == "touch PWNED"


def test_a_project_cannot_allow_its_own_variables_nor_trust_itself(project):
    (project / "tui-agent.toml").write_text(
        f'mcp_env_allow = ["ANTHROPIC_API_KEY"]\ntrusted_projects = ["{project}"]\n')
    settings = config.load(project)
    assert not settings.project_trusted and settings.mcp_env_allow == ()


def test_variables_expand_only_when_the_person_allowed_them(project, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    monkeypatch.setenv("MY_VAR", "fine")
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "x": {"command": "srv", "args": ["${ANTHROPIC_API_KEY}"]},
        "y": {"command": "srv", "args": ["${MY_VAR}"]}}}))
    servers = mcp_config.load(project, include_user=False, env_allow=("MY_VAR",))
    assert "sk-secret" not in repr(servers["x"])
    assert "not in mcp_env_allow" in servers["x"].error and "ANTHROPIC_API_KEY" in servers["x"].error
    assert servers["y"].args == ("fine",) and servers["y"].error is None


def test_a_project_with_nothing_to_trust_is_not_asked_about(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "requirements.txt").write_text("pytest\n")
    (plain / "tui-agent.toml").write_text('check = "pytest"\n')
    assert config.load(plain).project_trusted and not trust.review(plain).needs_trust
    assert not Path(trust.store_path()).exists()


def test_a_fifo_or_a_device_never_blocks_the_fingerprint(project):
    (project / ".mcp.json").unlink()
    os.mkfifo(project / ".mcp.json")
    (project / ".tui-agent").mkdir()
    (project / ".tui-agent/permissions.json").symlink_to("/dev/zero")
    first = trust.fingerprint(project)
    assert first == trust.fingerprint(project)
    assert not config.load(project).project_trusted  # still asks (its deploy_command) and never hangs


def test_an_untrusted_devcontainer_is_not_built(tmp_path):
    from tui_agent.environments.detect import detect

    folder = tmp_path / "dc"
    (folder / ".devcontainer").mkdir(parents=True)
    (folder / ".devcontainer/devcontainer.json").write_text('{"image": "python:3.12", "postCreateCommand": "x"}')
    (folder / "requirements.txt").write_text("pytest\n")
    settings = config.load(folder)
    assert not settings.project_trusted and "devcontainer" in settings.notices[0]
    recipe = detect(folder, backend="docker", trusted=False)
    assert recipe is not None and recipe.kind == "requirements"
    assert any("not trusted" in note for note in recipe.notes)
    assert detect(folder, backend="docker", trusted=True).kind == "devcontainer"
