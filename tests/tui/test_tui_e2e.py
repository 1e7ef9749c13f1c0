"""End to end: the real `tui-agent run` in tmux, keys sent, the screen read, until the fix is deployed."""

from __future__ import annotations

import json
import shutil
import time
import tomllib
from pathlib import Path

import pytest

from tui_fixtures import REPO, tree
from tmux import Tmux, app_command, wait_file

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def recorded(sessions: Path) -> list[dict]:
    """The whole records written so far by the one session under `sessions`."""
    found = list(sessions.glob("*/events.jsonl"))
    if not found:
        return []
    lines = found[0].read_text().split("\n")[:-1]  # the last piece is "" or a line still being written
    return [json.loads(line) for line in lines]


def waiting_calls(sessions: Path, timeout: float = 300.0) -> list[str] | None:
    """Wait until an edit_file call (the one kind this run asks about) waits for the person (its ids) or the run
    finished (None): read from the session record, the same events the app folds, so no stale screen is ever
    answered twice (calls the policy allows are requested and decided at once: never counted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = recorded(sessions)
        decided = {r["call_id"] for r in records if r["type"] == "tool_call_decided"}
        waiting = [r["call_id"] for r in records if r["type"] == "tool_call_requested" and r["name"] == "edit_file"
                   and r["call_id"] not in decided]
        if waiting:
            return waiting
        if any(r["type"] == "finished" for r in records):
            return None
        time.sleep(0.05)
    raise AssertionError(f"neither a waiting call nor the end: {[r['type'] for r in recorded(sessions)][-5:]}")


def test_real_app_fixes_and_deploys_the_calculator(tmp_path):
    source = REPO / "examples" / "calculator"
    meta = tomllib.loads((source / "example.toml").read_text())
    project = tmp_path / "calculator"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
    before = tree(project)
    sessions, code_file = tmp_path / "sessions", tmp_path / "exit-code"
    command = app_command("run", str(project), "--goal", meta["goal"], "--check", meta["check"],
                          "--model", f"scripted:{source / meta['model']}", "--sessions", str(sessions), "--mode", "ask")
    tmux = Tmux(f"{command}; echo $? > {code_file}; sleep 30")
    try:
        approvals = 0
        while (waiting := waiting_calls(sessions)) is not None:
            tmux.wait_for("WAITING FOR APPROVAL")
            assert "edit_file calc.py" in tmux.screen()
            tmux.keys("y")
            approvals += 1
            assert approvals <= 5
            deadline = time.monotonic() + 300
            while waiting[0] not in {r.get("call_id") for r in recorded(sessions) if r["type"] == "tool_call_decided"}:
                assert time.monotonic() < deadline, "the allowed call was never decided"
                time.sleep(0.05)
        assert approvals == 2
        tmux.wait_for("READY TO DEPLOY")
        assert tree(project) == before, "nothing reaches the folder before the deploy is approved"
        tmux.keys("d")
        tmux.wait_for("Deploy into")
        assert "the check passes" in tmux.screen()
        tmux.keys("y")
        tmux.wait_for("DEPLOYED")
        calc = (project / "calc.py").read_text()
        assert "return None" in calc and "+ 1" not in calc
        tmux.keys("C-q")
        assert wait_file(code_file) == "0"
    finally:
        tmux.quit_then_kill(code_file)
