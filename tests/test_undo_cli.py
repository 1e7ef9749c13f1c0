"""`tui-agent undo [SESSION]`: the folder back as before the last deploy; undo undone; refused after a change (1,
saying what changed); bad input: one line on stderr and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tui_agent.workspace import deploy_subset as subset
from tui_agent.workspace.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent


def undo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui_agent.cli.main", "undo", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env)


def deployed(tmp_path: Path) -> tuple[Path, Path]:
    project, root = tmp_path / "project", tmp_path / "sessions"
    project.mkdir()
    (project / "a.py").write_text("a = 1\n")
    ws = Workspace.create(project, root / "s1")
    (ws.path / "a.py").write_text("a = 2\n")
    (ws.path / "new.py").write_text("new\n")
    changes = subset.review(ws, ws.plan_deploy())
    targets = subset.approve(ws, changes, [(c.path, c.key, "all") for c in changes])
    subset.deploy(ws, subset.plan_for(ws, changes, targets, ()), targets, 1 << 20)
    ws.close()
    (root / "s1" / "events.jsonl").write_text("")  # a session folder, as find_session knows one
    return project, root


def test_undo_then_undo_the_undo(tmp_path):
    project, root = deployed(tmp_path)
    done = undo("--sessions", str(root), cwd=project)  # no session named: this folder's last deploy
    assert done.returncode == 0, done.stderr
    assert "undid the deploy of session s1" in done.stdout
    assert (project / "a.py").read_text() == "a = 1\n" and not (project / "new.py").exists()
    again = undo(str(root / "s1"), cwd=tmp_path)
    assert again.returncode == 0 and "undid the undo" in again.stdout
    assert (project / "a.py").read_text() == "a = 2\n" and (project / "new.py").read_text() == "new\n"


def test_undo_is_refused_after_a_change(tmp_path):
    project, root = deployed(tmp_path)
    (project / "a.py").write_text("the person's own edit\n")
    done = undo(str(root / "s1"), cwd=tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "a.py" in done.stderr and "nothing was undone" in done.stderr
    assert (project / "a.py").read_text() == "the person's own edit\n"


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    project, root = deployed(tmp_path)
    for args in (["no-such-session", "--sessions", str(root)], ["--sessions", str(tmp_path / "empty")]):
        done = undo(*args, cwd=project)
        assert done.returncode == 2, done
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("tui-agent: error:")
    undo(str(root / "s1"), cwd=tmp_path)
    (root / "s1" / "refs" / "deploy-2.json").unlink()  # nothing left to undo
    done = undo(str(root / "s1"), cwd=tmp_path)
    assert done.returncode == 2 and "has no deploy to undo" in done.stderr
