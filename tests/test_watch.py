"""Watch mode with real file-system events and a real sandbox: sync, debounce, ignores, own writes, conflicts."""

from __future__ import annotations

import asyncio
import os

import pytest

from sandbox_fixtures import require_backend
from tui_agent.agent.gate import PERSON
from tui_agent.events import (
    ChangesQueued, ChangesSynced, CheckFinished, CheckStarted, Deployed, DeployReady, FixRebased, FixRefused,
    IterationStarted, WatchStarted,
)
from watch_fixtures import BROKEN, FIXED, fix_model, project, start


@pytest.fixture(autouse=True)
def _bwrap():
    require_backend("bwrap")  # one test also runs on docker (the `backend` fixture)


def checks(events) -> list:
    """The folder's check runs (fix iterations have iteration >= 1)."""
    return [e for e in events if isinstance(e, CheckStarted) and e.iteration == 0]


async def test_a_save_runs_the_check_and_a_failure_gets_a_proposed_fix(tmp_path, backend):
    root = project(tmp_path)
    w = await start(tmp_path, root, sandbox=backend)
    try:
        assert w.of(WatchStarted)[0].watcher == "native"
        assert w.of(CheckFinished)[0].passed
        (root / "app.py").write_text(BROKEN)
        await w.until(lambda: w.of(DeployReady), what="a proposed fix")
        synced = w.of(ChangesSynced)
        assert [s.files for s in synced] == [("app.py",)]
        proposal = w.of(DeployReady)[0]
        assert proposal.files == ("app.py",) and "+    return a + b" in proposal.diff
        assert (root / "app.py").read_text() == BROKEN  # headless-style: proposed, never applied
        assert (w.watcher.workspace.path / "app.py").read_text() == FIXED
    finally:
        assert await w.stop() == 0


@pytest.mark.parametrize("kind", ["new files", "a formatter rewriting them"])
async def test_a_burst_of_1000_writes_runs_the_check_at_most_twice(tmp_path, kind):
    root = project(tmp_path)
    if kind != "new files":
        for i in range(1000):
            (root / f"gen_{i:04d}.py").write_text(f"X  =  {i}\n")
    w = await start(tmp_path, root, auto_fix=False)
    try:
        before = len(w.events)

        def burst() -> None:
            for i in range(1000):
                (root / f"gen_{i:04d}.py").write_text(f"X = {i}\n")

        await asyncio.to_thread(burst)
        await w.until(lambda: sum(len(s.files) for s in w.of(ChangesSynced, before)) == 1000, what="1000 files synced")
        await w.until(lambda: w.watcher.phase == "idle" and not w.watcher.pending, what="idle")
        await w.quiet(0.5)
        runs = checks(w.events[before:])
        print(f"{len(runs)} check run(s) for the burst")
        assert 1 <= len(runs) <= 2, f"{len(runs)} check runs for one burst"
        assert len(list((w.watcher.workspace.path).glob("gen_*.py"))) == 1000
    finally:
        await w.stop()


async def test_ignored_paths_never_start_a_check(tmp_path):
    root = project(tmp_path)
    (root / ".gitignore").write_text("build/\n*.log\n")
    for folder in (".git", "__pycache__", ".pytest_cache", ".venv/lib", "venv", "build", "env2/lib"):
        (root / folder).mkdir(parents=True)
    (root / "env2" / "pyvenv.cfg").write_text("home = /usr/bin\n")  # a virtual environment by another name
    w = await start(tmp_path, root, auto_fix=False)
    try:
        before = len(w.events)
        for rel in (".git/index", "__pycache__/app.cpython-311.pyc", ".pytest_cache/v", ".venv/lib/x.py",
                    "venv/y.py", "build/out.txt", "debug.log", "env2/lib/site.py", "app.pyc"):
            (root / rel).write_text("noise\n")
        assert await w.quiet(0.8) == []
        (root / "notes.md").write_text("a real change\n")
        await w.until(lambda: w.of(CheckFinished, before), what="the check after a real change")
        assert [s.files for s in w.of(ChangesSynced, before)] == [("notes.md",)]
        assert len(checks(w.events[before:])) == 1
        assert not (w.watcher.workspace.path / "debug.log").exists()
    finally:
        await w.stop()


async def test_deletes_and_renames_are_followed(tmp_path):
    root = project(tmp_path)
    (root / "old.py").write_text("OLD = 1\n")
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text("M = 1\n")
    (root / "gone.txt").write_text("bye\n")
    w = await start(tmp_path, root, auto_fix=False)
    ws = w.watcher.workspace.path
    try:
        before = len(w.events)
        os.rename(root / "old.py", root / "new.py")
        os.rename(root / "pkg", root / "pkg2")  # its files move silently: no event names pkg2/mod.py
        (root / "gone.txt").unlink()
        await w.until(lambda: (ws / "pkg2" / "mod.py").exists() and not (ws / "gone.txt").exists(), what="sync")
        assert (ws / "new.py").read_text() == "OLD = 1\n" and not (ws / "old.py").exists()
        assert not (ws / "pkg").exists()
        synced = w.of(ChangesSynced, before)
        assert {f for s in synced for f in s.files} == {"new.py", "pkg2/mod.py"}
        assert {f for s in synced for f in s.removed} == {"old.py", "pkg/mod.py", "gone.txt"}
        await w.until(lambda: w.watcher.phase == "idle", what="idle")
        assert w.watcher.sync.fix_paths() == []  # the workspace equals the folder again
    finally:
        await w.stop()


async def test_applying_a_fix_does_not_trigger_a_check_on_its_own_writes(tmp_path):
    root = project(tmp_path)
    w = await start(tmp_path, root, who=PERSON)
    try:
        (root / "app.py").write_text(BROKEN)
        await w.until(lambda: w.of(DeployReady), what="a proposed fix")
        await w.until(lambda: w.watcher.phase == "idle", what="idle")
        before = len(w.events)
        event = w.watcher.deploy()
        assert isinstance(event, Deployed) and event.files == ("app.py",)
        assert (root / "app.py").read_text() == FIXED
        after = await w.quiet(1.0)
        assert [e for e in after if isinstance(e, (ChangesSynced, CheckStarted))] == [], [e.type for e in after]
        assert w.events[before:] == [event] + after
        (root / "app.py").write_text(FIXED + "\n# the person's edit\n")  # and the person's next save still counts
        await w.until(lambda: w.of(ChangesSynced, before), what="the person's next edit")
    finally:
        await w.stop()


async def test_an_edit_to_the_fixs_own_file_during_the_fix_is_kept_and_the_fix_refused(tmp_path):
    root = project(tmp_path)
    mine = "def add(a, b):\n    return b + a  # the person's fix\n"
    w = await start(tmp_path, root, model=fix_model(tmp_path, delay_s=0.1, words=15))
    try:
        (root / "app.py").write_text(BROKEN)
        await w.until(lambda: w.of(IterationStarted), what="the fix round")
        (root / "app.py").write_text(mine)  # while the agent is busy on the same file
        await w.until(lambda: w.of(FixRefused), what="the refusal")
        refused = w.of(FixRefused)[0]
        assert refused.files == ("app.py",) and "your version is kept" in refused.reason
        assert w.of(ChangesQueued)
        await w.until(lambda: w.watcher.phase == "idle" and w.watcher.passed, what="the person's version checked")
        assert (root / "app.py").read_text() == mine
        assert (w.watcher.workspace.path / "app.py").read_text() == mine
        assert w.watcher.proposal is None and not w.of(DeployReady)
    finally:
        await w.stop()


async def test_an_edit_to_another_file_during_the_fix_is_rebased_under_it(tmp_path):
    root = project(tmp_path)
    w = await start(tmp_path, root, model=fix_model(tmp_path, delay_s=0.1, words=15), who=PERSON)
    try:
        (root / "app.py").write_text(BROKEN)
        await w.until(lambda: w.of(IterationStarted), what="the fix round")
        (root / "notes.md").write_text("written during the fix\n")
        (root / "check.py").write_text((root / "check.py").read_text() + "print('more')\n")
        await w.until(lambda: w.of(DeployReady), what="the offer after the rebase")
        rebased = w.of(FixRebased)[0]
        assert set(rebased.files) == {"notes.md", "check.py"} and rebased.fix_files == ("app.py",)
        assert w.of(DeployReady)[0].files == ("app.py",)
        event = w.watcher.deploy()
        assert isinstance(event, Deployed), event
        assert (root / "app.py").read_text() == FIXED
        assert (root / "notes.md").read_text() == "written during the fix\n"
        assert (root / "check.py").read_text().endswith("print('more')\n")
    finally:
        await w.stop()


async def test_a_rename_while_a_fix_is_proposed_is_followed_in_what_is_deployed(tmp_path):
    root = project(tmp_path)
    (root / "old.py").write_text("OLD = 1\n")
    w = await start(tmp_path, root, who=PERSON)
    try:
        (root / "app.py").write_text(BROKEN)
        await w.until(lambda: w.of(DeployReady), what="a proposed fix")
        await w.until(lambda: w.watcher.phase == "idle", what="idle")
        before = len(w.events)
        os.rename(root / "old.py", root / "renamed.py")
        await w.until(lambda: w.of(DeployReady, before), what="the offer again, rebased")
        assert w.of(DeployReady, before)[0].files == ("app.py",)
        await w.until(lambda: w.watcher.phase == "idle", what="idle")
        assert isinstance(w.watcher.deploy(), Deployed)
        assert sorted(p.name for p in root.iterdir()) == ["app.py", "check.py", "renamed.py"]
    finally:
        await w.stop()


async def test_headless_cli_prints_json_events_and_reports_the_proposal_without_applying_it(tmp_path):
    import json
    import signal
    import sys

    root = project(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui_agent.cli.main", "watch", str(root), "--check", "python3 check.py", "--headless",
        "--sandbox", "bwrap", "--model", fix_model(tmp_path), "--allow", "write_file",
        "--sessions", str(tmp_path / "sessions"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    seen: list[dict] = []

    async def until(kind: str) -> dict:
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line, f"the process ended before {kind}: {(await proc.stderr.read()).decode()}"
            seen.append(json.loads(line))
            if seen[-1]["type"] == kind:
                return seen[-1]

    try:
        await until("watch_started")
        assert (await until("check_finished"))["passed"] is True
        (root / "app.py").write_text(BROKEN)
        assert (await until("changes_synced"))["files"] == ["app.py"]
        ready = await until("deploy_ready")
        assert ready["files"] == ["app.py"] and "+    return a + b" in ready["diff"]
        proc.send_signal(signal.SIGINT)
        stopped = await until("watch_stopped")
        assert stopped["reason"] == "interrupted (SIGINT)" and stopped["passed"] is True
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert (root / "app.py").read_text() == BROKEN  # headless never applies
    assert not any(r["type"] == "deployed" for r in seen)


def test_cli_watch_with_a_missing_folder_is_bad_input(tmp_path):
    from loop_fixtures import cli

    result = cli("watch", str(tmp_path / "nope"), "--check", "true", "--headless")
    assert result.returncode == 2 and "project folder not found" in result.stderr


def test_cli_watch_with_a_check_that_does_not_exist_is_bad_input(tmp_path):
    from loop_fixtures import cli

    root = project(tmp_path)
    result = cli("watch", str(root), "--check", "no-such-command-here", "--headless", "--sandbox", "bwrap",
                 "--model", fix_model(tmp_path), "--sessions", str(tmp_path / "sessions"), timeout=60)
    assert result.returncode == 2 and "not found in the sandbox" in result.stderr
