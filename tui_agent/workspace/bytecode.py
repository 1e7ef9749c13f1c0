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
