"""Garbage collection: unreferenced content goes, every reference keeps what it needs; `sessions prune` removes old
finished sessions (oldest first under a size cap), never a running one, a fork's parent, a pinned one, nor an
interrupted one unless asked."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from loop_fixtures import cli
from tui_agent.maintenance.prune import collect, prune
from tui_agent.workspace import inuse
from tui_agent.workspace.workspace import Workspace

DAY = 86400


def test_collect_keeps_every_reference_and_drops_the_rest(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text("a = 1\n")
    ws = Workspace.create(project, tmp_path / "s", quota_mb=16)
    try:
        ws.files.write_text("a.py", "a = 2\n")
        first = ws.snapshot()
        ws.files.write_text("a.py", "a = 3\n")
        ws.plan_deploy()  # stores the content it scanned, which no snapshot names
        pinned = ws.store.put(b"the folder before a deploy, kept for undo\n")
        garbage = ws.store.put(b"nothing refers to me\n")
        (ws.session_dir / "refs").mkdir()
        (ws.session_dir / "refs" / "undo-1.json").write_text(json.dumps({"keep": True, "objects": [pinned]}))
        assert collect(ws.session_dir) == (0, 0), "never while the session is open"
    finally:
        ws.close()
    count, freed = collect(tmp_path / "s")
    assert count == 2 and freed > 0  # the garbage and the unsnapshotted "a = 3"
    again = Workspace.open(tmp_path / "s")
    try:
        assert pinned in again.store and garbage not in again.store
        again.restore(first)
        assert again.files.read_text("a.py") == "a = 2\n"
        again.restore(again.baseline)
        assert again.files.read_text("a.py") == "a = 1\n"
    finally:
        again.close()


def session(root: Path, name: str, *, days_old: float, finished: bool = True, parent: str | None = None,
            size: int = 0, pin: bool = False) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    when = time.time() - days_old * DAY
    records = [{"seq": 0, "ts": when, "type": "session_started", "project": "/p", "goal": "g", "parent": parent}]
    if finished:
        records.append({"seq": 1, "ts": when, "type": "finished", "outcome": "met"})
    (folder / "events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "objects").mkdir()
    (folder / "objects" / "blob").write_bytes(b"x" * size)
    if pin:
        (folder / "refs").mkdir()
        (folder / "refs" / "batch.json").write_text(json.dumps({"keep": True, "reason": "a kept batch result"}))
    os.utime(folder / "events.jsonl", (when, when))
    return folder


def test_prune_older_than_follows_every_reference(tmp_path):
    root = tmp_path / "sessions"
    session(root, "old-done", days_old=30)
    session(root, "old-parent", days_old=30)
    session(root, "new-fork", days_old=0, parent="old-parent")
    session(root, "old-pinned", days_old=30, pin=True)
    session(root, "old-interrupted", days_old=30, finished=False)
    running = session(root, "old-running", days_old=30)
    session(root, "new-done", days_old=0)
    lock = inuse.hold(running)
    try:
        assert [p.name for p in prune(root, older_than_s=7 * DAY, dry_run=True)] == ["old-done"]
        assert (root / "old-done").exists(), "a dry run removes nothing"
        assert [p.name for p in prune(root, older_than_s=7 * DAY)] == ["old-done"]
        assert [p.name for p in prune(root, older_than_s=7 * DAY, include_resumable=True)] == ["old-interrupted"]
    finally:
        inuse.release(lock)
    left = sorted(p.name for p in root.iterdir())
    assert left == ["new-done", "new-fork", "old-parent", "old-pinned", "old-running"]


def test_prune_to_a_size_cap_removes_the_oldest_finished_first(tmp_path):
    root = tmp_path / "sessions"
    for age in (5, 4, 3, 2, 1):
        session(root, f"s{age}", days_old=age, size=1 << 20)
    session(root, "s9-interrupted", days_old=9, finished=False, size=1 << 20)
    gone = prune(root, max_bytes=int(3.5 * (1 << 20)))
    assert [p.name for p in gone] == ["s5", "s4", "s3"]
    assert sorted(p.name for p in root.iterdir()) == ["s1", "s2", "s9-interrupted"]


def test_prune_from_the_command_line(tmp_path):
    root = tmp_path / "sessions"
    session(root, "old-done", days_old=30, size=1 << 20)
    done = cli("sessions", "prune", "--older-than", "7", "--sessions", str(root))
    assert done.returncode == 0, done.stderr
    assert "removed old-done" in done.stdout and "removed 1 session(s)" in done.stdout
    bad = cli("sessions", "prune", "--max-size", "lots", "--sessions", str(root))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--max-size" in bad.stderr
    none = cli("sessions", "prune", "--sessions", str(root))
    assert none.returncode == 2 and "--older-than" in none.stderr
