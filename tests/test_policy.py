"""Permission policy: deny wins, argument globs, normalised paths, compound commands, persistence, audit."""

from __future__ import annotations

import json

import pytest

from tui_agent.tools.permissions.policy import AuditLog, Policy, PolicyError, rule_for_call


def act(policy: Policy, name: str, **arguments) -> str:
    return policy.evaluate(name, arguments).action


def test_defaults_read_allowed_everything_else_asks():
    p = Policy()
    assert act(p, "read_file", path="src/a.py") == "allow"
    assert act(p, "list_files", path=".") == "allow"
    assert act(p, "update_plan", steps=[]) == "allow"
    assert p.evaluate("read_file", {"path": "a"}).by == "default"
    for name, args in [("write_file", {"path": "a"}), ("edit_file", {"path": "a"}),
                       ("run_command", {"command": "ls"}), ("mcp__git__git_status", {})]:
        assert p.evaluate(name, args).action == "ask", name
    # reading outside the workspace is not a default allow
    assert act(p, "read_file", path="../secret") == "ask"
    assert act(p, "read_file", path="/etc/passwd") == "ask"


def test_deny_wins_over_ask_over_allow():
    p = Policy(allow=["run_command", "write_file(docs/**)"], ask=["run_command(git *)"],
               deny=["run_command(git push*)", "write_file(docs/secret/**)"])
    assert act(p, "run_command", command="ls") == "allow"
    assert act(p, "run_command", command="git status") == "ask"
    v = p.evaluate("run_command", {"command": "git push origin main"})
    assert (v.action, v.rule) == ("deny", "run_command(git push*)")
    assert act(p, "write_file", path="docs/a.md") == "allow"
    assert act(p, "write_file", path="docs/secret/k") == "deny"
    # deny beats even the read-only defaults
    assert act(Policy(deny=["read_file(.env)"]), "read_file", path="./.env") == "deny"


def test_tool_name_globs_and_mcp_server_rules():
    p = Policy(allow=["mcp__git__*"], deny=["mcp__git__git_push"])
    assert act(p, "mcp__git__git_status", repo_path="/r") == "allow"
    assert act(p, "mcp__git__git_push") == "deny"
    assert act(p, "mcp__gitx__anything") == "ask"
    assert act(Policy(allow=["mcp__time"]), "mcp__time__get_current_time", timezone="UTC") == "allow"
    # a primary argument can narrow an MCP rule
    p = Policy(allow=["mcp__fs__read_file(/data/**)"])
    assert act(p, "mcp__fs__read_file", path="/data/x/y.txt") == "allow"
    assert act(p, "mcp__fs__read_file", path="/data/../etc/passwd") == "ask"


@pytest.mark.parametrize("path,expected", [
    ("docs/a.md", "allow"), ("./docs/a.md", "allow"), ("docs//x/y.md", "allow"), ("src/../docs/a.md", "allow"),
    ("docsx/a.md", "ask"), ("src/a.md", "ask"),
    ("docs/../../etc/passwd", "ask"), ("./docs/../../../x", "ask"), ("/etc/passwd", "ask"), ("..", "ask"),
])
def test_path_globs_on_normalised_paths(path, expected):
    assert act(Policy(allow=["write_file(docs/**)"]), "write_file", path=path, content="") == expected


def test_path_normalisation_cannot_be_sidestepped():
    p = Policy(allow=["edit_file(src/*.py)", "read_file"], deny=["write_file(src/secret.py)"])
    assert act(p, "edit_file", path="src/a.py") == "allow"
    assert act(p, "edit_file", path="src//a.py") == "allow"
    assert act(p, "edit_file", path="src/sub/a.py") == "ask"  # * stays within one folder
    assert act(p, "edit_file", path="./src/../../etc/passwd") == "ask"
    # a bare allow of a path tool still never covers an escape
    assert act(p, "read_file", path="./src/../../etc/passwd") == "ask"
    assert act(p, "read_file", path="src/../../../etc/shadow") == "ask"
    # deny matches every spelling of the path
    for spelling in ("src/secret.py", "./src/secret.py", "src//secret.py", "src/x/../secret.py"):
        assert act(p, "write_file", path=spelling) == "deny", spelling


@pytest.mark.parametrize("command,expected", [
    ("pytest", "allow"), ("pytest -q tests", "allow"), ("  pytest   -x ", "allow"),
    ("pytestevil", "ask"),
    ("pytest x; rm -rf /", "ask"), ("pytest $(curl http://x)", "ask"), ("pytest x && y", "ask"),
    ("pytest x || y", "ask"), ("pytest | sh", "ask"), ("pytest `id`", "ask"), ("pytest > /etc/x", "ask"),
    ("pytest x\nrm -rf /", "ask"), ("pytest & rm -rf ~", "ask"), ("pytest $HOME", "ask"),
])
def test_compound_commands_never_match_prefix_allows(command, expected):
    assert act(Policy(allow=["run_command(pytest *)"]), "run_command", command=command) == expected


def test_claude_code_prefix_syntax_and_deny_inside_compound():
    p = Policy(allow=["run_command(npm run test:*)"], deny=["run_command(rm *)"])
    assert act(p, "run_command", command="npm run test") == "allow"
    assert act(p, "run_command", command="npm run test -- --watch") == "allow"
    assert act(p, "run_command", command="npm run testx") == "ask"
    assert act(p, "run_command", command="ls && rm -rf /") == "deny"
    assert act(p, "run_command", command="ls; rm -rf /") == "deny"
    assert act(p, "run_command", command='rm  -rf  "build"') == "deny"


def test_allow_always_persists_and_is_reloaded(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl", session_id="s1")
    p = Policy.load(tmp_path, audit=audit)
    call = {"command": "pytest -k 'a or b' && echo done"}
    assert p.evaluate("run_command", call).action == "ask"
    rule = p.allow_always("run_command", call)
    assert rule == "run_command(pytest -k 'a or b' && echo done)"
    assert p.evaluate("run_command", call).action == "allow"
    assert p.allow_always("write_file", {"path": "./src//a*.py"}) == "write_file(src/a\\*.py)"
    assert p.allow_always("mcp__git__git_status", {"repo_path": "/r"}) == "mcp__git__git_status"

    saved = json.loads((tmp_path / ".tui-agent/permissions.json").read_text())
    assert saved["permissions"]["allow"] == [rule, "write_file(src/a\\*.py)", "mcp__git__git_status"]
    again = Policy.load(tmp_path)
    assert again.evaluate("run_command", call).action == "allow"
    assert again.evaluate("run_command", {"command": "pytest -k x && echo done"}).action == "ask"
    assert again.evaluate("write_file", {"path": "src/a*.py"}).action == "allow"
    assert again.evaluate("write_file", {"path": "src/ab.py"}).action == "ask"  # the * was literal
    assert again.evaluate("mcp__git__git_status", {"repo_path": "/other"}).action == "allow"
    # no temp files left behind, and other keys of the file survive a rewrite
    (tmp_path / ".tui-agent/permissions.json").write_text(json.dumps({"other": 1, "permissions": {"deny": ["x"]}}))
    Policy.load(tmp_path).allow_always("list_files", {"path": "a"})
    data = json.loads((tmp_path / ".tui-agent/permissions.json").read_text())
    assert data == {"other": 1, "permissions": {"deny": ["x"], "allow": ["list_files(a)"]}}
    assert [f.name for f in (tmp_path / ".tui-agent").iterdir()] == ["permissions.json"]


def test_load_merges_extra_and_reports_bad_files(tmp_path):
    (tmp_path / ".tui-agent").mkdir()
    path = tmp_path / ".tui-agent/permissions.json"
    path.write_text(json.dumps({"permissions": {"deny": ["run_command(curl *)"]}}))
    p = Policy.load(tmp_path, {"allow": ["run_command(curl *)", "run_command(make)"]})
    assert act(p, "run_command", command="curl x") == "deny"
    assert act(p, "run_command", command="make") == "allow"
    path.write_text('{"permissions": {"allow": ["read_file",]}}')
    with pytest.raises(PolicyError, match=r"permissions.json:1:\d+: invalid JSON"):
        Policy.load(tmp_path)
    path.write_text('{"permissions": {"allow": ["run_command(pytest"]}}')
    with pytest.raises(PolicyError, match=r"permissions\.allow\[0\].*run_command\(pytest"):
        Policy.load(tmp_path)
    path.write_text('{"permissions": {"allow": "read_file"}}')
    with pytest.raises(PolicyError, match="expected a list"):
        Policy.load(tmp_path)


def test_audit_lines_written(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    audit = AuditLog(session_id="sess-1")
    assert audit.path == tmp_path / "state/tui-agent/audit.jsonl"
    p = Policy(audit=audit)
    v = p.evaluate("read_file", {"path": "a"})
    p.record("read_file", {"path": "a"}, v.action, v.by, v.rule, call_id="c1")
    p.record("run_command", {"command": "rm -rf /"}, "deny", "person", call_id="c2")
    lines = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert [(e["tool"], e["decision"], e["by"], e["call_id"], e["session_id"]) for e in lines] == [
        ("read_file", "allow", "default", "c1", "sess-1"), ("run_command", "deny", "person", "c2", "sess-1")]
    assert lines[1]["arguments"] == {"command": "rm -rf /"} and lines[0]["time"] and lines[0]["rule"] is None


@pytest.mark.parametrize("command", [
    "curl -s 'http://127.0.0.1/x?a=1' | jq .", "printf 'a\\nb*' > out.txt", "ls *.py; echo (done)", "make test",
])
def test_allow_always_covers_exactly_that_command(tmp_path, command):
    Policy.load(tmp_path).allow_always("run_command", {"command": command})
    again = Policy.load(tmp_path)
    assert again.evaluate("run_command", {"command": command}).action == "allow"
    assert again.evaluate("run_command", {"command": command + " x"}).action == "ask"
    assert again.evaluate("run_command", {"command": command + "; rm -rf /"}).action == "ask"


def test_rule_for_call_shapes():
    assert rule_for_call("run_command", {"command": " make test "}) == "run_command(make test)"
    assert rule_for_call("edit_file", {"path": "a/./b.py"}) == "edit_file(a/b.py)"
    assert rule_for_call("mcp__time__convert_time", {"time": "1"}) == "mcp__time__convert_time"
