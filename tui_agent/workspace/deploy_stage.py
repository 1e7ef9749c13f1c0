"""Where a deploy's bytes come from (the workspace, or the session's store by hash) and their staging in the
project's staging folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tui_agent.workspace.deploy_journal import fsync_dir
from tui_agent.workspace.deploy_plan import DeployError, DeployPlan
from tui_agent.workspace.safefs import PERM, read_regular


def from_workspace(ws_root: Path):
    def read(rel: str, limit: int) -> tuple[bytes, int]:
        try:
            data, st = read_regular(ws_root, rel, limit=limit)
        except OSError as e:
            raise DeployError(f"cannot read {rel!r} from the workspace safely: {e.strerror or e}") from None
        return data, st.st_mode
    return read


def stage(read, plan: DeployPlan, stage_fd: int, max_bytes: int) -> None:
    left = max_bytes
    for i, rel in enumerate(plan.writes):
        data, mode = read(rel, left)
        if len(data) > left:
            raise DeployError(f"deploy is over the {max_bytes}-byte limit")
        left -= len(data)
        fd = os.open(f"w{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=stage_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode & PERM)
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_dir(stage_fd)


def from_store(store, wanted: dict[str, tuple[int, str]]):
    """Read each path's approved bytes ({rel: (mode, sha256)}) from the content store, refused unless they hash
    to the approved sha: what lands is what the person approved, whatever happened to the workspace since."""
    def read(rel: str, limit: int) -> tuple[bytes, int]:
        mode, sha = wanted[rel]
        try:
            with open(store.path(sha), "rb") as f:
                data = f.read(limit + 1)
        except OSError as e:
            raise DeployError(f"the approved content of {rel!r} is missing from the session: {e.strerror}") from None
        if len(data) > limit:
            raise DeployError(f"deploy is over the byte limit at {rel!r}")
        if hashlib.sha256(data).hexdigest() != sha:
            raise DeployError(f"the approved content of {rel!r} does not match its hash; nothing was deployed")
        return data, mode
    return read
