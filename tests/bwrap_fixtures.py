"""Helpers for the bwrap backend tests: capped workspaces, host-side process checks (fixtures: conftest.py)."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path

from tui_agent.sandbox import Limits
from tui_agent.sandbox.bwrap import cgroup
from tui_agent.workspace import quota as fsquota

LIMITS = Limits(timeout_s=3.0, memory_mb=128, pids=64, cpus=1.0, tmpfs_mb=16, workspace_mb=16, output_bytes=200_000)
REPO = Path(__file__).resolve().parent.parent


class Out:
    def __init__(self) -> None:
        self.chunks: list[tuple[str, str, float]] = []

    def __call__(self, stream: str, text: str) -> None:
        self.chunks.append((stream, text, time.monotonic()))

    def of(self, stream: str | None = None) -> str:
        return "".join(t for s, t, _ in self.chunks if stream in (None, s))


def mark() -> str:
    return "tuibw" + secrets.token_hex(5)


def leftovers(marker: str, within_s: float = 3.0) -> list[int]:
    """Host pids whose command line holds `marker`, once they had `within_s` to disappear."""
    deadline = time.monotonic() + within_s
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def appears(marker: str, within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while not leftovers(marker, within_s=0):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def own_run_cgroups() -> list[Path]:
    return [p for h in cgroup.hierarchies() for p in h.parent.glob(f"run-{os.getpid()}-*")]


def make_workspace(parent: Path, size_mb: int = 16) -> Path:
    ws = Path(tempfile.mkdtemp(prefix="ws-", dir=parent))
    fsquota.mount_capped(ws, size_mb, LIMITS.uid, LIMITS.gid)
    os.chown(ws, LIMITS.uid, LIMITS.gid)
    return ws


async def run(sandbox, command: str, timeout_s: float | None = None):
    out = Out()
    result = await sandbox.run(command, out, timeout_s)
    return result, out


async def still_works(sandbox) -> None:
    result, out = await run(sandbox, "echo next-run-ok; id -u")
    assert (result.exit_code, result.error) == (0, None), (result, out.of())
    assert out.of("stdout") == f"next-run-ok\n{LIMITS.uid}\n"
