"""Size-capped directories: a tmpfs mounted over a folder when we are root (Linux), else a plain folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tui_agent.workspace.safefs import copy_tree, remove


def can_cap() -> bool:
    return os.name == "posix" and os.geteuid() == 0 and Path("/proc/mounts").exists()


def is_mounted(path: Path) -> bool:
    target = str(Path(path).resolve())
    with open("/proc/mounts") as mounts:
        return any(line.split()[1] == target for line in mounts)


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def mount_capped(path: Path, size_mb: int, uid: int | None = None, gid: int | None = None) -> bool:
    """Mount a tmpfs of `size_mb` on `path` (created if needed); False when capping is not possible here."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if not can_cap():
        return False
    opts = [f"size={size_mb}m", "mode=0755", "nosuid", "nodev"]
    if uid is not None:
        opts += [f"uid={uid}", f"gid={gid if gid is not None else uid}"]
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(opts), "tui-agent-ws", str(path)],
        capture_output=True, text=True,
    )
    return done.returncode == 0


def unmount(path: Path) -> None:
    """Unmount `path` if something is mounted there (lazily, so a busy mount cannot block us)."""
    if can_cap() and is_mounted(path):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def unmount_keeping(path: Path, aside: Path, owner: tuple[int, int] | None) -> None:
    """Unmount a capped folder, leaving its contents as a plain folder at the same path (copied via `aside`)."""
    if not (can_cap() and is_mounted(path)):
        return
    remove(aside)
    copy_tree(path, aside, owner)
    top = os.lstat(path)
    os.chmod(aside, top.st_mode & 0o7777)
    os.chown(aside, top.st_uid, top.st_gid)
    unmount(path)
    os.rmdir(path)
    os.rename(aside, path)
