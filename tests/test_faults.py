"""Faults that must not lose the person's work: a full disk (session, workspace copy, deploy, on small size-capped
filesystems made here), a damaged session line, and a killed run's mount and containers left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loop_fixtures import ROOT, cli, copy_example, events, of_type, script, tree
from test_resume import FIX_AVERAGE, FIX_DIVIDE, TURNS
from tui_agent.sessions.recorder import read_records
from tui_agent.workspace import quota as fsquota
from tui_agent.workspace.workspace import DeployError, Workspace

root_only = pytest.mark.skipif(not fsquota.can_cap(), reason="size-capped filesystems need root")
RUN = ["--check", "python3 -m unittest", "--headless", "--allow", "edit_file", "--allow", "run_command"]


@pytest.fixture
def small_disk(tmp_path):
    """make(name, size_mb) -> a folder on a tmpfs of that size, unmounted (with what is mounted inside) at the end."""
    made = []

    def make(name: str, size_mb: int) -> Path:
        path = tmp_path / name
        assert fsquota.mount_capped(path, size_mb)
        made.append(path)
        return path

    yield make
    for path in made:
        subprocess.run(["umount", "-R", "-l", str(path)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write until the filesystem is full; the filler file, to remove to free it again."""
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def wait_record(sessions: Path, text: str, proc: subprocess.Popen, timeout: float = 300) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(sessions.glob("*/events.jsonl"))
        if found and text in found[0].read_text():
            return found[0].parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"never recorded: {text}")


def killed_run(tmp_path: Path, backend: str, *, group: bool = False, sleep_s: int = 300) -> tuple[int, Path, Path]:
    """A headless run on the example, SIGKILLed (with its process group: `group`) while its first tool call sleeps
    in the sandbox: (its pid, its sessions folder, its session)."""
    project = copy_example("calculator", tmp_path / "proj")
    sessions = tmp_path / "sessions"
    turns = [{"tool_calls": [{"name": "run_command", "arguments": {"command": f"echo sleeping; sleep {sleep_s}"}}]}]
    proc = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", "run", str(project), *RUN, "--sandbox",
                             backend, "--model", script(tmp_path, turns), "--sessions", str(sessions)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        return proc.pid, sessions, wait_record(sessions, '"text": "sleeping', proc)
    finally:  # the run alone (a service it started, podman's, lives on as it would) or its whole group
        (os.killpg if group else os.kill)(proc.pid, signal.SIGKILL)
        proc.wait()


@root_only
def test_disk_full_while_writing_the_session(tmp_path, small_disk):
    """The disk fills during a run: a clear error, the run stops, the session file stays whole and resumes."""
    project = copy_example("calculator", tmp_path / "proj")
    before = tree(project)
    sessions = small_disk("sessions", 16)
    proc = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", "run", str(project), *RUN, "--model",
                             script(tmp_path, TURNS), "--sessions", str(sessions)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    session = wait_record(sessions, '"command": "sleep 4"', proc)  # iteration 2 is sleeping in the sandbox
    filler = fill(sessions)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err[-2000:]
    errors = of_type(events(out), "error")
    assert errors and "No space left" in errors[0]["message"] and "session" in errors[0]["message"], errors
    assert "Traceback" not in err, err[-2000:]
    records = read_records(session / "events.jsonl")
    assert records.damaged is None, records.damaged
    assert [r["iteration"] for r in records if r["type"] == "iteration_finished"] == [0, 1]
    filler.unlink()
    done = cli("resume", str(session), "--headless", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert of_type(events(done.stdout), "finished")[0]["outcome"] == "met"
    assert tree(project) == before


@root_only
def test_disk_full_while_copying_the_workspace(tmp_path, small_disk):
    """No room for the session's copy of the project: one clear line, exit 2, nothing left, the folder untouched."""
    project = tmp_path / "big"
    project.mkdir()
    for i in range(6):
        (project / f"data{i}.bin").write_bytes(os.urandom(1 << 20))
    before = tree(project)
    sessions = small_disk("sessions", 2)
    done = cli("run", str(project), *RUN, "--model", script(tmp_path, [{"text": "x"}]), "--sessions", str(sessions))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left" in lines[0].lower(), done.stderr
    assert tree(project) == before
    assert list(sessions.iterdir()) == [], "the session that never started is removed"


@root_only
def test_disk_full_while_deploying(tmp_path, small_disk, monkeypatch):
    """The person's disk is full mid-deploy: refused with the reason, the folder untouched, nothing left behind."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    project = small_disk("project", 4)
    for i in range(4):
        (project / f"f{i}.txt").write_text(f"old {i}\n")
    ws = Workspace.create(project, tmp_path / "session", quota_mb=64)
    try:
        before = tree(project)
        for i in range(4):
            ws.files.write_text(f"f{i}.txt", f"new {i}\n")
        (ws.path / "big.bin").write_bytes(os.urandom(6 << 20))
        with pytest.raises(DeployError, match="No space left"):
            ws.deploy()
        assert tree(project) == before
        assert not [p for p in project.iterdir() if p.name.startswith(".tui-agent-staging-")]
        assert list((tmp_path / "state/tui-agent/deploys").glob("*")) == []
    finally:
        ws.close()


def test_a_damaged_session_line_is_named_and_resume_and_replay_go_on(tmp_path):
    project = copy_example("calculator", tmp_path / "proj")
    turns = [{"tool_calls": [FIX_DIVIDE]}, {"text": "1"}, {"tool_calls": [FIX_AVERAGE]}, {"text": "2"}]
    sessions = tmp_path / "sessions"
    first = cli("run", str(project), *RUN, "--model", script(tmp_path, turns), "--sessions", str(sessions),
                "--max-iterations", "1", timeout=600)
    assert first.returncode == 1, first.stderr[-2000:]
    (session,) = sessions.iterdir()
    path = session / "events.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if json.loads(line)["type"] == "iteration_finished"
               and json.loads(line)["iteration"] == 1) + 1
    path.write_text("".join(lines[:cut]) + '{"seq": 99, "type": "tool_ca\n' + "".join(lines[cut + 1:]))
    damaged_line = cut + 1

    replay = cli("replay", str(session), "--headless", "--speed", "0")
    assert replay.returncode == 1, replay.stderr
    said = [e["message"] for e in of_type(events(replay.stdout), "error")]
    assert any(f"events.jsonl:{damaged_line}: not a session record" in m for m in said), said

    done = cli("resume", str(session), "--headless", "--max-iterations", "3", timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = events(done.stdout)
    assert f"events.jsonl:{damaged_line}: not a session record" in of_type(printed, "error")[0]["message"]
    assert of_type(printed, "session_resumed")[0]["iteration"] == 1
    assert of_type(printed, "finished")[0]["outcome"] == "met"
    assert read_records(path).damaged is None, "new records never follow a broken one"
    assert (session / "events.jsonl.damaged").read_text().startswith('{"seq": 99, "type": "tool_ca\n')


@root_only
def test_a_killed_runs_mount_and_containers_are_cleaned_at_the_next_start(tmp_path, backend):
    _, sessions, session = killed_run(tmp_path, backend, group=True, sleep_s=120)
    workspace = session / "workspace"
    assert fsquota.is_mounted(workspace), "the killed run left its workspace mounted"
    done = cli("sessions", "--sessions", str(sessions))
    assert done.returncode == 0 and f"workspace was unmounted, its files kept: {session}" in done.stderr, done.stderr
    assert not fsquota.is_mounted(workspace)
    assert "return a / b" in (workspace / "calc.py").read_text(), "the workspace's files are kept"
    if backend == "docker":
        left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=tui-agent.workspace={workspace}"],
                              capture_output=True, text=True).stdout.split()
        assert left == [], "the killed run's containers were not removed"
    again = cli("sessions", "--sessions", str(sessions))
    assert "unmounted" not in again.stderr, "said once"
