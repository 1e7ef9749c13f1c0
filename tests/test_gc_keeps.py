"""Pruning never removes what is still needed: the newest not-undone deploy's undo data, stopped or interrupted
sessions (unless asked), sessions pinned for review (batch results) unless forced; and the person's own
`sessions_max_size` (never the project's) prunes the oldest finished sessions after each run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from loop_fixtures import cli, copy_example, script
from test_gc import DAY, session
from test_undo_cli import deployed, undo
from tui_agent.maintenance.prune import pin_session, prune

RUN = ["--check", "python3 -m unittest", "--headless", "--sandbox", "bwrap"]


def as_finished(folder: Path, days_old: float, outcome: str = "met") -> None:
    when = time.time() - days_old * DAY
    records = [{"seq": 0, "ts": when, "type": "session_started", "project": "/p", "goal": "g"},
               {"seq": 1, "ts": when, "type": "finished", "outcome": outcome}]
    (folder / "events.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    os.utime(folder / "events.jsonl", (when, when))


def test_the_newest_deploys_undo_data_is_kept_until_undone_or_forced(tmp_path):
    project, root = deployed(tmp_path)
    as_finished(root / "s1", days_old=30)
    assert prune(root, older_than_s=DAY) == [], "the session holding the last deploy's undo data was pruned"
    done = undo("--sessions", str(root), cwd=project)
    assert done.returncode == 0, done.stderr
    # the undo is itself undoable: its data is now the newest, still kept
    assert prune(root, older_than_s=DAY) == []
    forced = cli("sessions", "prune", "--older-than", "1", "--force", "--sessions", str(root))
    assert forced.returncode == 0 and "removed s1" in forced.stdout, forced.stdout + forced.stderr
    assert not (root / "s1").exists()


def test_an_older_deploy_superseded_by_a_newer_one_of_the_same_project_may_go(tmp_path):
    project, root = deployed(tmp_path)
    as_finished(root / "s1", days_old=30)
    newer = root / "s2"
    newer.mkdir()
    (newer / "refs").mkdir()
    data = json.loads((root / "s1" / "refs" / "deploy-1.json").read_text())
    (newer / "refs" / "deploy-1.json").write_text(json.dumps({**data, "at": data["at"] + 1}))
    as_finished(newer, days_old=0)
    assert [p.name for p in prune(root, older_than_s=DAY)] == ["s1"]


def test_stopped_and_pinned_sessions_need_asking(tmp_path):
    root = tmp_path / "sessions"
    as_finished(session(root, "old-stopped", days_old=30, finished=False), 30, outcome="stopped")
    pin_session(session(root, "old-batch", days_old=30), "batch", "batch result t1, kept for review")
    session(root, "old-done", days_old=30)
    assert [p.name for p in prune(root, older_than_s=DAY)] == ["old-done"]
    listed = cli("sessions", "prune", "--older-than", "1", "--include-resumable", "--dry-run", "--sessions",
                 str(root))
    assert "would remove old-stopped" in listed.stdout and "old-batch" not in listed.stdout, listed.stdout
    forced = cli("sessions", "prune", "--older-than", "1", "--force", "--sessions", str(root))
    assert forced.returncode == 0 and "removed 2 session(s)" in forced.stdout, forced.stdout
    assert list(root.iterdir()) == []


def test_sessions_max_size_comes_from_the_person_only_and_applies_after_a_run(tmp_path):
    root = tmp_path / "sessions"
    for age in (3, 2):
        session(root, f"old{age}", days_old=age, size=1 << 20)
    project = copy_example("calculator", tmp_path / "proj")
    (project / "tui-agent.toml").write_text('sessions_max_size = "1K"\n')
    model = script(tmp_path, [{"text": "nothing to do"}])
    trusted = cli("run", str(project), *RUN, "--model", model, "--sessions", str(root), "--trust-project")
    assert {"old2", "old3"} <= {p.name for p in root.iterdir()}, "the project's cap was applied"
    assert "sessions_max_size" not in trusted.stderr, trusted.stderr
    config = tmp_path / "config"
    (config / "tui-agent").mkdir(parents=True)
    (config / "tui-agent" / "config.toml").write_text('sessions_max_size = "512K"\n')
    done = cli("run", str(project), *RUN, "--model", model, "--sessions", str(root), "--trust-project",
               env={"XDG_CONFIG_HOME": str(config)})
    assert "sessions_max_size: removed 2 finished session(s)" in done.stderr and "old3, old2" in done.stderr, \
        done.stderr
    assert not (root / "old3").exists() and not (root / "old2").exists()
    assert len(list(root.iterdir())) == 2, "the two runs' own sessions stay"
    bad = cli("sessions", env={"TUI_AGENT_SESSIONS_MAX_SIZE": "lots"})
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "sessions_max_size" in bad.stderr, bad.stderr
