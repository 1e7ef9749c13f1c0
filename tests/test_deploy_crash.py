"""A deploy killed (SIGKILL, by strace) right before its Nth filesystem operation, for every N of a 20-file deploy
and a sample of N over a 500-file one: after the next start the folder is the old tree or the new one, byte for
byte, with no staging, backup or journal file left."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from loop_fixtures import ROOT
from tui_agent.maintenance.recovery import recover_deploys

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")]

# every syscall that changes a file or a folder (in the project or the state folder), in the order they happen
SYSCALLS = "rename,renameat,renameat2,link,linkat,unlink,unlinkat,mkdir,mkdirat,rmdir,write,fsync,fchmod,fchownat"
CHILD = """
import json, sys
from pathlib import Path
from tui_agent.workspace.deploy_plan import DeployPlan
from tui_agent.workspace.deploy_swap import apply
apply(Path(sys.argv[1]), Path(sys.argv[2]), DeployPlan(**json.loads(sys.argv[3])), 1 << 30)
"""


def tree(root: Path) -> dict[str, tuple]:
    """Every entry: folders with their mode, files with mode and bytes (no symlink followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = os.lstat(path)
            out[str(path.relative_to(root))] = (st.st_mode, path.read_bytes() if stat.S_ISREG(st.st_mode) else b"")
    return out


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def scenario(tmp_path: Path, size: int) -> tuple[Path, Path, dict]:
    """(old project, workspace = the new tree, plan): changed, new (some in new folders) and deleted files, a
    mode change, and a folder the deletes empty."""
    old = {f"src/m{i:03}.py": f"value = {i}\n" for i in range(size - 3)}
    old.update({"gone/a.txt": "a\n", "gone/deeper/b.txt": "b\n", "README": "old readme\n"})
    new = {k: v for k, v in old.items() if not k.startswith("gone/")}
    changed = [k for k in sorted(old) if k.startswith("src/")][: size - 5]
    new.update({k: old[k] + "# fixed\n" for k in changed})
    new.update({"pkg/sub/new1.py": "n1\n", "pkg/new2.py": "n2\n", "README": "new readme\n"})
    project, workspace = tmp_path / "old", tmp_path / "new"
    write(project, old)
    write(workspace, new)
    os.chmod(workspace / changed[0], 0o755)
    writes = sorted(changed + ["pkg/sub/new1.py", "pkg/new2.py", "README"])
    plan = {"writes": writes, "deletes": ["gone/a.txt", "gone/deeper/b.txt"],
            "total_bytes": sum(len(new[w]) for w in writes)}
    return project, workspace, plan


def child(project: Path, workspace: Path, plan: dict, state: Path, inject: str | None = None, log: Path | None = None):
    strace = ["strace", "-f", "-qq", "-o", str(log or os.devnull), "-e", f"trace={SYSCALLS}"]
    if inject:
        strace.append(f"--inject={inject}")
    return subprocess.run([*strace, sys.executable, "-B", "-c", CHILD, str(project), str(workspace), json.dumps(plan)],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(state)},
                          capture_output=True, text=True, timeout=300)


def operations(tmp_path: Path, project: Path, workspace: Path, plan: dict) -> tuple[list[str], dict]:
    """The syscalls of a whole deploy, in order, and the new tree it makes."""
    target, state, log = tmp_path / "traced", tmp_path / "traced-state", tmp_path / "trace.log"
    shutil.copytree(project, target)
    done = child(target, workspace, plan, state, log=log)
    assert done.returncode == 0, done.stderr
    names = [m.group(1) for line in log.read_text().splitlines() if (m := re.match(r"\d+ +(\w+)\(", line))]
    assert "renameat" in names and "linkat" in names and "fsync" in names, names
    return names, tree(target)


def kill_at(names: list[str], position: int) -> str:
    """The strace injection that kills the process on entering operation `position` (before it runs)."""
    name = names[position]
    return f"{name}:signal=KILL:when={names[: position + 1].count(name)}"


def crash_and_recover(tmp_path, monkeypatch, project, workspace, plan, inject, run_cli: bool) -> tuple[dict, str]:
    target, state = tmp_path / "run", tmp_path / "state"
    shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(project, target)
    done = child(target, workspace, plan, state, inject=inject)
    assert done.returncode != 0, f"{inject}: the deploy was not killed"
    if run_cli:  # the next start of any tui-agent command
        said = subprocess.run([sys.executable, "-m", "tui_agent.cli.main", "sessions", "--sessions",
                               str(tmp_path / "no-sessions")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(state)}).stderr
    else:
        monkeypatch.setenv("XDG_STATE_HOME", str(state))
        said = "\n".join(recover_deploys())
    assert not [p for p in target.iterdir() if p.name.startswith(".tui-agent-staging-")], f"{inject}: staging left"
    left = list((state / "tui-agent" / "deploys").glob("*")) if (state / "tui-agent" / "deploys").exists() else []
    assert left == [], f"{inject}: journal files left: {left}"
    return tree(target), said


def test_every_kill_point_of_a_20_file_deploy(tmp_path, monkeypatch):
    project, workspace, plan = scenario(tmp_path, 20)
    assert len(plan["writes"]) + len(plan["deletes"]) == 20
    old = tree(project)
    names, new = operations(tmp_path, project, workspace, plan)
    outcomes = []
    for position in range(len(names)):
        inject = kill_at(names, position)
        after, said = crash_and_recover(tmp_path, monkeypatch, project, workspace, plan, inject, run_cli=False)
        assert after in (old, new), f"{inject} (operation {position} of {len(names)}): the folder is half done"
        outcomes.append("new" if after == new else "old")
        if "interrupted deploy" in said:
            assert ("finished" in said) == (after == new), said
    # both ends happen: killed before the commit point it rolls back, after it, it is finished
    assert outcomes[0] == "old" and outcomes[-1] == "new" and outcomes == sorted(outcomes, key=["old", "new"].index)


def test_a_sample_of_kill_points_of_a_500_file_deploy(tmp_path, monkeypatch):
    project, workspace, plan = scenario(tmp_path, 500)
    old = tree(project)
    names, new = operations(tmp_path, project, workspace, plan)
    sample = sorted({round(i * (len(names) - 1) / 24) for i in range(25)})
    told = []
    for position in sample:
        inject = kill_at(names, position)
        after, said = crash_and_recover(tmp_path, monkeypatch, project, workspace, plan, inject, run_cli=True)
        assert after in (old, new), f"{inject} (operation {position} of {len(names)}): the folder is half done"
        told.append(said)
    assert any("was finished" in s for s in told) and any("was rolled back" in s for s in told), told
