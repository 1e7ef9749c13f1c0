"""Path rules match the path a write really reaches; modes auto / ask / plan; a rule for server `git` is git's only."""

from __future__ import annotations

import json
import os

import pytest

from tui_agent.config import ConfigError as SettingsError
from tui_agent.config import load
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.mcp.config import ConfigError
from tui_agent.tools.permissions.policy import Policy, PolicyError
from tui_agent.workspace.files import Files
from tui_agent.workspace.gitignore import Ignore

pytestmark = pytest.mark.unit


def files(tmp_path):
    root = tmp_path / "ws"
    (root / "secrets").mkdir(parents=True)
    (root / "secrets/key").write_text("old")
    os.symlink("secrets", root / "s")
    return Files(root, Ignore())


@pytest.mark.parametrize("tool", ["write_file", "edit_file", "read_file"])
def test_a_path_rule_matches_through_a_planted_symlink(tmp_path, tool):
    f = files(tmp_path)
    p = Policy(deny=[f"{tool}(secrets/**)"], mode="auto", resolve=f.relative)
    for path in ("s/key", "s/new", "./s/../s/key", "secrets/key"):
        v = p.evaluate(tool, {"path": path, "content": "x", "old_string": "o", "new_string": "n"})
        assert (v.action, v.rule) == ("deny", f"{tool}(secrets/**)"), path
    assert p.evaluate(tool, {"path": "other.py", "content": ""}).action == "allow"


def test_an_allow_rule_must_cover_where_the_path_leads(tmp_path):
    f = files(tmp_path)
    p = Policy(allow=["write_file(s/**)"], mode="ask", resolve=f.relative)
    assert p.evaluate("write_file", {"path": "s/key"}).action == "ask"  # s/key is really secrets/key
    os.symlink("/etc", f.path / "out")
    assert p.evaluate("write_file", {"path": "out/passwd"}).action == "ask"
    assert Policy(allow=["write_file"], resolve=f.relative).evaluate("write_file", {"path": "out/x"}).action == "ask"


def test_deny_path_for_the_deploy_plan():
    p = Policy(deny=["write_file(secrets/**)", "edit_file(*.lock)"])
    assert p.denies_path("write_file", "secrets/a/b") == "write_file(secrets/**)"
    assert p.denies_path("write_file", "./secrets//a") == "write_file(secrets/**)"
    assert p.denies_path("edit_file", "uv.lock") == "edit_file(*.lock)"
    assert p.denies_path("write_file", "src/a.py") is None
    assert p.write_denied("secrets/x") == "write_file(secrets/**)" and p.write_denied("a.lock") == "edit_file(*.lock)"
    assert p.write_denied("src/a.py") is None and Policy(deny=["write_file"]).write_denied("any") == "write_file"


def test_write_replaces_the_file_so_a_hard_link_keeps_the_old_content(tmp_path):
    f = files(tmp_path)
    os.link(f.path / "secrets/key", f.path / "innocent.txt")
    os.chmod(f.path / "innocent.txt", 0o755)
    f.write_text("innocent.txt", "new")
    assert (f.path / "secrets/key").read_text() == "old"
    assert (f.path / "innocent.txt").read_text() == "new"
    assert os.stat(f.path / "innocent.txt").st_mode & 0o777 == 0o755  # the mode survives the replace
    assert sorted(os.listdir(f.path)) == ["innocent.txt", "s", "secrets"]  # no temp file left


MODES = {
    "auto": {"read_file": "allow", "write_file": "allow", "edit_file": "allow", "run_command": "allow",
             "update_plan": "allow", "mcp__git__git_status": "ask"},
    "ask": {"read_file": "allow", "write_file": "ask", "edit_file": "ask", "run_command": "ask",
            "update_plan": "allow", "mcp__git__git_status": "ask"},
    "plan": {"read_file": "allow", "write_file": "deny", "edit_file": "deny", "run_command": "deny",
             "update_plan": "allow", "mcp__git__git_status": "deny"},  # not marked read-only by its server
}


@pytest.mark.parametrize("mode", MODES)
def test_modes_defaults_and_rules_on_top(mode):
    p = Policy(mode=mode)
    for tool, expected in MODES[mode].items():
        assert p.evaluate(tool, {"path": "a.py", "command": "ls"}).action == expected, (mode, tool)
    escape = Policy(mode=mode).evaluate("write_file", {"path": "../x"}).action
    assert escape == ("deny" if mode == "plan" else "ask")  # an escape never runs alone
    deny = Policy(mode=mode, deny=["write_file(a.py)"], allow=["mcp__git__*"])
    assert deny.evaluate("write_file", {"path": "a.py"}).action == "deny"
    assert deny.evaluate("mcp__git__git_status", {}).action == ("deny" if mode == "plan" else "allow")


def test_plan_mode_tells_the_model_why_and_no_allow_rule_opens_it():
    v = Policy(mode="plan").evaluate("edit_file", {"path": "a"})
    assert (v.action, v.by) == ("deny", "mode") and "plan mode" in v.reason
    p = Policy(mode="plan", allow=["write_file", "run_command(*)"], ask=["edit_file"], deny=["write_file(x)"])
    assert [p.evaluate(t, {"path": "a", "command": "ls"}).by for t in ("write_file", "edit_file", "run_command")] \
        == ["mode"] * 3
    assert p.evaluate("write_file", {"path": "x"}).rule == "write_file(x)"  # a deny rule still names itself


def test_mode_is_a_setting(tmp_path):
    assert load(tmp_path).mode == "auto"
    assert load(tmp_path, mode="plan").mode == "plan"
    with pytest.raises(SettingsError, match="mode"):
        load(tmp_path, mode="yolo")
    with pytest.raises(PolicyError, match="mode"):
        Policy(mode="yolo")


def test_a_rule_for_server_git_never_matches_another_server():
    p = Policy(allow=["mcp__git__*", "mcp__time"], mode="auto")
    assert p.evaluate("mcp__git__git_status", {}).action == "allow"
    assert p.evaluate("mcp__gitx__git_status", {}).action == "ask"
    assert p.evaluate("mcp__git_evil__run", {}).action == "ask"
    assert p.evaluate("mcp__time__now", {}).action == "allow"
    assert p.evaluate("mcp__timex__now", {}).action == "ask"
    assert Policy(deny=["mcp__git"]).evaluate("mcp__git__a__b", {}).action == "deny"  # git's own tool `a__b`


def test_a_server_name_with_a_double_underscore_is_refused(tmp_path):
    path = tmp_path / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": {"git__evil": {"command": "true"}}}))
    with pytest.raises(ConfigError, match=r"git__evil.*may not contain '__'"):
        mcp_config.read_file(path, environ={})
    path.write_text(json.dumps({"mcpServers": {"git_evil": {"command": "true"}}}))
    assert list(mcp_config.read_file(path, environ={})) == ["git_evil"]


def test_a_bad_mode_is_bad_input(tmp_path, capsys):
    from tui_agent.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(tmp_path), "--mode", "yolo", "--headless"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--mode" in err and "yolo" in err
    (tmp_path / "tui-agent.toml").write_text('mode = "yolo"\n')
    assert main(["run", str(tmp_path), "--headless"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mode" in err and "yolo" in err
