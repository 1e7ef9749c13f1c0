"""Helpers for sandbox tests: capped workspaces, backends that skip locally but fail in CI, host checks."""

from __future__ import annotations

import dataclasses
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tui_agent.sandbox import Limits, Sandbox, SandboxSpec, create, probe
from tui_agent.workspace import quota as fsquota

UID = GID = 1000
TEST_LIMITS = Limits(timeout_s=3.0, memory_mb=128, pids=64, cpus=1.0, tmpfs_mb=16, workspace_mb=16,
                     output_bytes=200_000)


def require_backend(name: str, spec: SandboxSpec | None = None) -> None:
    """Skip when backend `name` cannot run here, except under CI (CI set), where that is a failure."""
    reason = probe(name, spec)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{name} sandbox unavailable in CI: {reason}")
        pytest.skip(f"{name} sandbox unavailable: {reason}")


def make_workspace(path: Path, size_mb: int) -> Path:
    """A folder capped at size_mb (tmpfs, when root) owned by the sandbox user."""
    path.mkdir(parents=True, exist_ok=True)
    fsquota.mount_capped(path, size_mb, UID, GID)
    os.chown(path, UID, GID)
    return path


def write_owned(path: Path, text: str) -> Path:
    path.write_text(text)
    os.chown(path, UID, GID)
    return path


def token() -> str:
    return "tuiagent" + secrets.token_hex(6)


def processes_matching(marker: str) -> list[int]:
    """Host pids whose command line contains `marker` (sandboxed processes are visible from the host)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def wait_no_processes(marker: str, within_s: float = 3.0) -> list[int]:
    deadline = time.monotonic() + within_s
    while (left := processes_matching(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@dataclass
class Output:
    """Collects on_output calls; `text` is everything, in order."""

    chunks: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, stream: str, text: str) -> None:
        self.chunks.append((stream, text))

    @property
    def text(self) -> str:
        return "".join(t for _, t in self.chunks)

    def of(self, stream: str) -> str:
        return "".join(t for s, t in self.chunks if s == stream)

    def clear(self) -> None:
        self.chunks.clear()


@dataclass
class Box:
    """A started sandbox of one backend over a capped workspace, plus the checks every case ends with."""

    name: str
    sandbox: Sandbox
    workspace: Path
    limits: Limits

    async def run(self, command: str, timeout_s: float | None = None):
        out = Output()
        result = await self.sandbox.run(command, out, timeout_s)
        return result, out

    async def assert_unharmed(self) -> None:
        """The host still forks, the workspace keeps its owner, and the NEXT run works."""
        assert subprocess.run(["true"], timeout=10).returncode == 0, "the host cannot start a process"
        st = os.stat(self.workspace)
        assert (st.st_uid, st.st_gid) == (UID, GID), "the workspace changed owner"
        assert self.workspace.is_dir()
        result, out = await self.run("echo next-run-ok; id -u", timeout_s=30)
        assert result.error is None, result.error
        assert result.exit_code == 0, (result, out.text)
        assert out.of("stdout") == f"next-run-ok\n{self.limits.uid}\n", out.text


class BoxFactory:
    """make(**limit overrides) -> Box; everything made is closed and unmounted at teardown.

    `engine` and `runtime` go into the SandboxSpec (a remote engine, gVisor) of container backends."""

    def __init__(self, name: str, root: Path, engine=None, runtime: str | None = None):
        self.name, self.root, self.count = name, root, 0
        self.boxes: list[Box] = []
        self.mounts: list[Path] = []
        self.engine, self.runtime = engine, runtime

    async def make(self, **overrides) -> Box:
        limits = dataclasses.replace(TEST_LIMITS, **overrides)
        self.count += 1
        workspace = self.root / f"ws{self.count}"
        self.mounts.append(workspace)  # unmounted at close() even when the backend is skipped
        make_workspace(workspace, limits.workspace_mb)
        spec = SandboxSpec(workspace, limits, engine=self.engine, runtime=self.runtime)
        require_backend(self.name, spec)
        sandbox = create(self.name, spec)
        box = Box(self.name, sandbox, workspace, limits)
        self.boxes.append(box)
        await sandbox.start()
        return box

    async def close(self) -> None:
        try:
            for box in self.boxes:
                await box.sandbox.close()
        finally:
            for path in self.mounts:
                fsquota.unmount(path)
