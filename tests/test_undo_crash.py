"""A deploy whose commit failed in a live process (here: a folder stands where a file goes) is rolled back from the
journal's `undoing` state; killed (SIGKILL, by strace) at each filesystem operation of that roll-back, the next
start of tui-agent finishes the roll-back: the folder is the old tree byte for byte, nothing staged is left, and
the person is told it was rolled back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from loop_fixtures import ROOT
from test_deploy_crash import child, kill_at, scenario, tree

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")]
SAVE = re.compile(r'^\d+ +rename\w*\(.*deploys/[^"]*\.tmp".*deploys/[^"]*\.json"')


def failing(tmp_path):
    """The 20-file scenario, plus a last write that meets a folder in the project: the commit fails there, after
    every other write, mkdir and delete was done, so the roll-back has everything to undo."""
    project, workspace, plan = scenario(tmp_path, 20)
    (project / "zz").mkdir()
    (project / "zz" / "inside.txt").write_text("kept\n")
    (workspace / "zz").write_text("a file here\n")
    plan = {**plan, "writes": plan["writes"] + ["zz"], "total_bytes": plan["total_bytes"] + 12}
    return project, workspace, plan


def test_every_kill_point_of_the_undoing_state_is_rolled_back_at_the_next_start(tmp_path):
    project, workspace, plan = failing(tmp_path)
    old = tree(project)
    traced, log = tmp_path / "traced", tmp_path / "trace.log"
    shutil.copytree(project, traced)
    done = child(traced, workspace, plan, tmp_path / "traced-state", log=log)
    assert done.returncode == 1 and "directory at 'zz'" in done.stderr, done.stderr
    assert tree(traced) == old, "the live roll-back left the folder as it was"
    lines = [line for line in log.read_text().splitlines() if re.match(r"\d+ +\w+\(", line)]
    names = [re.match(r"\d+ +(\w+)\(", line).group(1) for line in lines]
    saves = [i for i, line in enumerate(lines) if SAVE.match(line)]
    assert len(saves) == 3, "journal saves: staging, committing, undoing"
    undoing = saves[2]  # from here the journal says `undoing`
    points = list(range(undoing + 1, len(names)))
    assert len(points) > 20, names[undoing:]
    said_all = []
    for position in points:
        target, state = tmp_path / "run", tmp_path / "state"
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        shutil.copytree(project, target)
        inject = kill_at(names, position)
        killed = child(target, workspace, plan, state, inject=inject)
        assert killed.returncode in (-9, 137), f"{inject}: not killed ({killed.returncode}: {killed.stderr})"
        journals = list((state / "tui-agent" / "deploys").glob("*.json"))
        said = subprocess.run([sys.executable, "-m", "tui_agent.cli.main", "sessions", "--sessions",
                               str(tmp_path / "no-sessions")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(state)})
        assert tree(target) == old, f"{inject} (operation {position}): the folder is not the old tree"
        assert not [p for p in target.iterdir() if p.name.startswith(".tui-agent-staging-")], f"{inject}: staging"
        assert list((state / "tui-agent" / "deploys").glob("*")) == [], f"{inject}: journal files left"
        if journals:  # killed before the journal was discarded: the person is told what was done
            assert "had failed and was rolled back: the folder is as it was" in said.stderr, said.stderr
            said_all.append(position)
    assert said_all, "no kill point left an `undoing` journal: nothing was tested"
