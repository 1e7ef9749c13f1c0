"""Environments on bubblewrap: a prefix folder per environment, built in a bwrap sandbox, bound read-only later."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from tui_agent.environments.docker_store import BuildError, Entry
from tui_agent.environments.script import PREFIX
from tui_agent.sandbox.base import Limits, OutputCallback, SandboxSpec

MARKER = ".tui-agent-env.json"  # written last, by the host: its presence means the prefix is complete


def folder(root: Path) -> Path:
    return root / "bwrap"


def find(root: Path, key: str) -> Entry | None:
    path = folder(root) / key
    try:
        meta = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return Entry(key, str(path), meta.get("project", "?"), int(meta.get("size_bytes", 0)), meta.get("created", 0.0))


def entries(root: Path) -> list[Entry]:
    found = [find(root, p.name) for p in sorted(folder(root).glob("*")) if p.is_dir()]
    return [e for e in found if e is not None]


def remove(entry: Entry) -> str | None:
    try:
        shutil.rmtree(entry.name)
    except OSError as exc:
        return str(exc)
    return None


def size_of(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except OSError:
                pass
    return total


def _hand_to_host(path: Path) -> None:
    """The sandbox user wrote the prefix; the host user owns it from now on (checks can never change it)."""
    if os.geteuid() != 0:
        return
    uid, gid = os.getuid(), os.getgid()
    for dirpath, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(dirpath, name), uid, gid)
    os.lchown(path, uid, gid)


async def build(root: Path, key: str, project: str, workspace: Path, prefix: Path, script: str,
                binds: list[tuple[str, str, str]], limits: Limits, on_output: OutputCallback) -> Entry:
    """Run `script` in a bwrap sandbox with `prefix` bound writable at PREFIX; publish it under its key."""
    from tui_agent.sandbox.bwrap.sandbox import BwrapSandbox

    spec = SandboxSpec(workspace, limits, binds=((str(prefix), PREFIX, "rw"), *binds))
    sandbox = BwrapSandbox(spec)
    try:
        await sandbox.start()
        result = await sandbox.run(script, on_output, limits.timeout_s)
    finally:
        await sandbox.close()
    if result.error:
        raise BuildError("", result.error)
    if result.timed_out:
        raise BuildError("", f"timed out after {limits.timeout_s:.0f} s")
    if result.exit_code != 0:
        raise BuildError("", f"exit {result.exit_code}")
    _hand_to_host(prefix)
    meta = {"key": key, "project": project, "created": time.time(), "size_bytes": size_of(prefix)}
    (prefix / MARKER).write_text(json.dumps(meta))
    final = folder(root) / key
    final.parent.mkdir(mode=0o755, exist_ok=True)
    if final.exists():  # a forced rebuild replaces the old prefix
        shutil.rmtree(final)
    os.replace(prefix, final)
    return find(root, key)
