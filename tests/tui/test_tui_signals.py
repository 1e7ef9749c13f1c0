"""End to end, mid-run: SIGTERM closes the run; the terminal going away (SIGHUP) leaves it running until stopped."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
from tui_fixtures import REPO

from tui_agent.attach.wire import socket_path
from tmux import Tmux, app_command

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def mounts_under(folder: Path) -> list[str]:
    with open("/proc/mounts") as mounts:
        return [line for line in mounts if line.split()[0] == "tui-agent-ws" and str(folder) in line.split()[1]]


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes (the app, a bwrap sandbox) that name `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and "tmux" not in cmdline:
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def containers_of(workspace_root: Path) -> list[str]:
    """Docker sandboxes of a workspace under `workspace_root` (labelled by the sandbox), if there is an engine."""
    if shutil.which("docker") is None:
        return []
    done = subprocess.run(["docker", "ps", "-a", "--filter", "label=tui-agent.workspace",
                           "--format", '{{.ID}} {{.Label "tui-agent.workspace"}}'], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if str(workspace_root) in line]


def until(predicate, timeout: float = 300.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def app_mid_run(tmp_path) -> tuple[Tmux, Path, Path]:
    """The real app in tmux (its shell's pid is the app's keeper), mid-run: a tool call waits for approval."""
    source = REPO / "examples" / "calculator"
    meta = tomllib.loads((source / "example.toml").read_text())
    project = tmp_path / "calculator"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
    sessions, pid_file = tmp_path / "sessions", tmp_path / "pid"
    command = app_command("run", str(project), "--goal", meta["goal"], "--check", meta["check"],
                          "--model", f"scripted:{source / meta['model']}", "--sessions", str(sessions), "--mode", "ask")
    tmux = Tmux(f"echo $$ > {pid_file}; exec {command}")  # exec: the shell's pid is the app's (its keeper)
    tmux.wait_for("WAITING FOR APPROVAL")
    assert mounts_under(sessions), "the workspace is a tmpfs mount while the run goes on"
    assert processes_mentioning(str(sessions))
    return tmux, sessions, pid_file


def assert_closed(sessions: Path) -> None:
    assert until(lambda: not processes_mentioning(str(sessions))), processes_mentioning(str(sessions))
    assert not mounts_under(sessions), mounts_under(sessions)
    assert until(lambda: not containers_of(sessions), timeout=120), containers_of(sessions)


def test_sigterm_closes_the_run(tmp_path):
    """SIGTERM to the app's process (the keeper passes it on): the run is stopped, the workspace tmpfs is
    unmounted and no app or sandbox process is left."""
    tmux, sessions, pid_file = app_mid_run(tmp_path)
    try:
        os.kill(int(pid_file.read_text()), signal.SIGTERM)
        assert_closed(sessions)
        record = next(sessions.glob("*/events.jsonl"))
        assert "SIGTERM: the app was asked to end" in record.read_text()
    finally:
        tmux.kill()
        unmount_all(tmp_path)


def test_a_closed_terminal_leaves_the_run_running_until_it_is_stopped(tmp_path):
    """The terminal goes away (the tmux session is killed: SIGHUP): closing a window never stops the run. It goes
    on, detached, its attach socket answering; `tui-agent stop` stops it and then everything is closed."""
    tmux, sessions, _ = app_mid_run(tmp_path)
    try:
        tmux.kill()
        record = next(sessions.glob("*/events.jsonl"))
        socket = socket_path(record.parent)
        assert until(lambda: processes_mentioning(str(sessions)) and socket.exists())
        stopped = subprocess.run(app_command("stop", "--sessions", str(sessions)), shell=True, capture_output=True,
                                 text=True, timeout=300)
        assert stopped.returncode == 0, stopped.stderr
        assert "stopped with tui-agent stop" in stopped.stdout
        assert_closed(sessions)
        events = record.read_text()
        assert "the app was asked to end" not in events, "the hangup did not stop the run"
        assert '"outcome": "stopped", "reason": "stopped with tui-agent stop"' in events
    finally:
        tmux.kill()
        subprocess.run(app_command("stop", "--sessions", str(sessions)), shell=True, capture_output=True, timeout=300)
        unmount_all(tmp_path)


def unmount_all(tmp_path: Path) -> None:
    for line in mounts_under(tmp_path):  # never leave a mount behind, even when the test fails
        subprocess.run(["umount", "-l", line.split()[1]], capture_output=True)
