"""End to end: the real app closes its run when the terminal goes away (SIGHUP) or it gets SIGTERM, mid-run."""

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


@pytest.mark.parametrize("how", ["SIGHUP", "SIGTERM"])
def test_a_killed_terminal_or_sigterm_closes_the_run(tmp_path, how):
    """SIGHUP: the tmux session is killed; SIGTERM: the app's process is signalled. Either way, mid-run (a tool
    call waits for approval), the workspace tmpfs is unmounted and no app or sandbox process is left."""
    source = REPO / "examples" / "calculator"
    meta = tomllib.loads((source / "example.toml").read_text())
    project = tmp_path / "calculator"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
    sessions, pid_file = tmp_path / "sessions", tmp_path / "pid"
    command = app_command("run", str(project), "--goal", meta["goal"], "--check", meta["check"],
                          "--model", f"scripted:{source / meta['model']}", "--sessions", str(sessions), "--mode", "ask")
    tmux = Tmux(f"echo $$ > {pid_file}; exec {command}")  # exec: the shell's pid is the app's
    try:
        tmux.wait_for("WAITING FOR APPROVAL")
        assert mounts_under(sessions), "the workspace is a tmpfs mount while the run goes on"
        assert processes_mentioning(str(sessions))
        if how == "SIGHUP":
            tmux.kill()
        else:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        assert until(lambda: not processes_mentioning(str(sessions))), processes_mentioning(str(sessions))
        assert not mounts_under(sessions), mounts_under(sessions)
        assert until(lambda: not containers_of(sessions), timeout=120), containers_of(sessions)
        record = next(sessions.glob("*/events.jsonl"))
        assert f"{how}: the app was asked to end" in record.read_text()
    finally:
        tmux.kill()
        for line in mounts_under(tmp_path):  # never leave a mount behind, even when the test fails
            subprocess.run(["umount", "-l", line.split()[1]], capture_output=True)
