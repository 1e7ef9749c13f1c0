"""Drop stale bytecode: Python trusts a .pyc whose source kept its size and (second-granular) mtime."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from tui_agent.workspace.safefs import O_DIR, open_dir


def drop(root: Path, paths: Iterable[str]) -> None:
    """Remove __pycache__/<stem>.*.pyc under `root` for each .py path (a quick same-length edit would
    otherwise run the old code); no symlink is followed."""
    for rel in paths:
        folder, _, name = rel.rpartition("/")
        if not name.endswith(".py"):
            continue
        parts = [p for p in folder.split("/") if p] + ["__pycache__"]
        try:
            rfd = os.open(root, O_DIR)
            try:
                dfd = open_dir(rfd, parts)
            finally:
                os.close(rfd)
        except OSError:
            continue
        try:
            stem = name[:-3] + "."
            for entry in os.listdir(dfd):
                if entry.startswith(stem) and entry.endswith(".pyc") and entry.count(".") >= 2:
                    try:
                        os.unlink(entry, dir_fd=dfd)
                    except OSError:
                        pass
        finally:
            os.close(dfd)


SKIP = frozenset({".git", "node_modules", ".venv", ".tox", ".nox"})  # no workspace code of the check is there


def drop_stale(root: Path) -> int:
    """Remove every __pycache__/*.pyc under `root` written no later than its source last changed; return how many.

    Checks write bytecode next to the workspace's sources (the image's and the environment's stay precompiled);
    Python would trust a same-size edit made within the second of the compile, whoever made it (the agent's
    tools, a run_command, a restored snapshot). Run before each check; no symlink is followed."""
    dropped = 0
    try:
        walk = os.fwalk(root, follow_symlinks=False)
        for _folder, dirs, _files, dfd in walk:
            dirs[:] = [d for d in dirs if d not in SKIP]
            if "__pycache__" not in dirs:
                continue
            dirs.remove("__pycache__")
            dropped += _drop_older(dfd)
    except OSError:
        pass
    return dropped


def _drop_older(parent_fd: int) -> int:
    try:
        cfd = os.open("__pycache__", O_DIR, dir_fd=parent_fd)
    except OSError:
        return 0
    dropped = 0
    try:
        for entry in os.listdir(cfd):
            stem, dot, rest = entry.partition(".")
            if not (dot and rest.endswith(".pyc")):
                continue
            try:
                pyc = os.stat(entry, dir_fd=cfd, follow_symlinks=False)
                src = os.stat(stem + ".py", dir_fd=parent_fd, follow_symlinks=False)
            except OSError:
                continue
            # edited after the compile, or within its second (git's "racy clean": a later same-second, same-size
            # edit would look unchanged to Python, which compares whole seconds)
            if src.st_mtime_ns >= pyc.st_mtime_ns or src.st_mtime_ns // 10**9 == pyc.st_mtime_ns // 10**9:
                try:
                    os.unlink(entry, dir_fd=cfd)
                    dropped += 1
                except OSError:
                    pass
    finally:
        os.close(cfd)
    return dropped
