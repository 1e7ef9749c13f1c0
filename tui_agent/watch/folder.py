"""The person's folder as watch mode reads it: lstat through real folders only, reads that refuse a swapped file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

from tui_agent.workspace.safefs import O_DIR, O_READ, open_dir


def lstat_in(root: Path, rel: str) -> os.stat_result | None:
    """The entry at `rel` (not followed), reached through real folders only; None when gone or behind a link."""
    parts = rel.split("/")
    try:
        rfd = os.open(root, O_DIR)
        try:
            dfd = open_dir(rfd, parts[:-1])
        finally:
            os.close(rfd)
        try:
            return os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
        finally:
            os.close(dfd)
    except OSError:
        return None  # gone, or a parent is not a real folder any more


def read_in(root: Path, rel: str, st: os.stat_result) -> bytes | None:
    """The file's bytes, if it is still the file `st` described (else None: the next event brings it)."""
    try:
        fd = os.open(root / rel, O_READ)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        fst = os.fstat(fd)
        if fst.st_ino != st.st_ino or fst.st_dev != st.st_dev:
            return None  # swapped since the lstat
        return f.read()


def walk(root: Path, folder: str, watched: Callable[[str], bool]) -> Iterable[str]:
    """Every watched path below `folder` (lstat walk, no symlink followed)."""
    try:
        entries = list(os.scandir(root / folder if folder else root))
    except OSError:
        return
    for e in entries:
        rel = f"{folder}/{e.name}" if folder else e.name
        if not watched(rel):
            continue
        yield rel
        if e.is_dir(follow_symlinks=False):
            yield from walk(root, rel, watched)
