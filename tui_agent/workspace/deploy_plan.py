"""The safe copy-back, part one: what to deploy, what to skip and why, and the checks on the project."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from tui_agent.workspace.deploy_risk import flag, refused, unscanned
from tui_agent.workspace.safefs import O_DIR
from tui_agent.workspace.snapshots import Manifest, changed_paths


class DeployError(Exception):
    """The copy-back was refused; the message says why. The project was not changed."""


@dataclass
class DeployPlan:
    writes: list[str] = field(default_factory=list)  # regular files to create or replace in the project
    deletes: list[str] = field(default_factory=list)  # paths to remove from the project
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) never deployed
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, note) deployed with a change
    flagged: list[tuple[str, str]] = field(default_factory=list)  # (path, why) only deployed when chosen
    total_bytes: int = 0

    @property
    def paths(self) -> list[str]:
        return sorted(self.writes + self.deletes)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISDIR, "directory"), (stat.S_ISREG, "file")):
        if test(mode):
            return name
    return "special file"


def _ws_state(ws_root: Path, rel: str) -> str:
    """Why a path missing from the workspace scan is missing, looked up without following any symlink."""
    parts = rel.split("/")
    fd = os.open(ws_root, O_DIR)
    try:
        for i, part in enumerate(parts):
            st = lstat_at(fd, part)
            if st is None:
                return "missing"
            if i == len(parts) - 1:
                break
            if stat.S_ISLNK(st.st_mode):
                return "a parent folder in the workspace is now a symlink; left as is"
            if not stat.S_ISDIR(st.st_mode):
                return "missing"  # a parent became a file: the path is gone
            nfd = os.open(part, O_DIR, dir_fd=fd)
            os.close(fd)
            fd = nfd
    finally:
        os.close(fd)
    if stat.S_ISDIR(st.st_mode):
        return "missing"  # replaced by a folder: the file goes, the folder's files are written
    if stat.S_ISREG(st.st_mode):
        return "ignored by .gitignore in the workspace; left as is"
    return f"{_kind(st.st_mode)} in the workspace: never followed nor deployed"


def make_plan(ws_root: Path, base: Manifest, current: Manifest, skip: dict[str, str] | None = None) -> DeployPlan:
    """What deploying `current` (workspace, scanned with specials) over `base` would do.

    `skip`: paths the person left out (or a deny rule covers), with the reason; they are not deployed."""
    plan = DeployPlan()
    skip = skip or {}
    for rel in changed_paths(base, current):
        cur = current.get(rel)
        if why := refused(rel) or skip.get(rel):
            plan.skipped.append((rel, why))
            continue
        old = base.get(rel)
        if why := flag(rel, cur[0] if cur is not None and not stat.S_ISDIR(cur[0]) else None,
                       old[0] if old is not None else None):
            plan.flagged.append((rel, why))
        if cur is None or stat.S_ISDIR(cur[0]):
            state = _ws_state(ws_root, rel)
            if state == "missing":
                plan.deletes.append(rel)
            else:
                plan.skipped.append((rel, state))
        elif stat.S_ISREG(cur[0]):
            plan.writes.append(rel)
            plan.total_bytes += cur[2]
            if cur[0] & 0o7000:
                plan.notes.append((rel, "setuid/setgid/sticky bits stripped"))
        else:
            plan.skipped.append((rel, f"{_kind(cur[0])} in the workspace: never followed nor deployed"))
    for rel, e in current.items():
        if not (stat.S_ISREG(e[0]) or stat.S_ISLNK(e[0]) or stat.S_ISDIR(e[0])):
            if rel in base and not stat.S_ISREG(base[rel][0]):
                continue
            plan.skipped.append((rel, f"{_kind(e[0])} in the workspace: not deployed"))
    plan.skipped += unscanned(ws_root)
    plan.skipped.sort()
    going = set(plan.writes) | set(plan.deletes)
    plan.flagged = sorted(item for item in plan.flagged if item[0] in going)
    return plan


def project_changes(base: Manifest, now: Manifest) -> list[str]:
    """Non-directory entries of the project that differ between two scans."""
    out = []
    for rel in sorted(base.keys() | now.keys()):
        a, b = base.get(rel), now.get(rel)
        if a is not None and stat.S_ISDIR(a[0]):
            a = None
        if b is not None and stat.S_ISDIR(b[0]):
            b = None
        if (a is None) != (b is None) or (a is not None and (a[0] != b[0] or a[1] != b[1])):
            out.append(rel)
    return out


def refuse_if_changed(base: Manifest, now: Manifest) -> None:
    """Raise DeployError naming (up to five of) the project's entries that changed since the workspace was made."""
    changed = project_changes(base, now)
    if changed:
        more = f" (+{len(changed) - 5} more)" if len(changed) > 5 else ""
        raise DeployError(f"the project changed since the workspace was made ({', '.join(changed[:5])}{more});"
                          " nothing was deployed")


def lstat_at(dfd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def check_targets(project: Path, plan: DeployPlan, base: Manifest) -> None:
    """Refuse early when a parent is a symlink, or a new file would replace something the workspace never saw."""
    deleted = set(plan.deletes)
    root_fd = os.open(project, O_DIR)
    try:
        for rel in plan.writes:
            parts = rel.split("/")
            fd = os.dup(root_fd)
            try:
                for i, part in enumerate(parts):
                    sub = "/".join(parts[:i + 1])
                    st = lstat_at(fd, part)
                    if st is None or sub in deleted:
                        break  # made (or replaced) by the deploy itself
                    last = i == len(parts) - 1
                    if last and sub not in base:
                        raise DeployError(f"project already has {sub!r} ({_kind(st.st_mode)}), which the workspace"
                                            " never saw;"
                                            " refusing to overwrite it")
                    if last:
                        break
                    if not stat.S_ISDIR(st.st_mode):
                        raise DeployError(f"project path {sub!r} is a {_kind(st.st_mode)}; refusing to write"
                                            " through it")
                    nfd = os.open(part, O_DIR, dir_fd=fd)
                    os.close(fd)
                    fd = nfd
            finally:
                os.close(fd)
    finally:
        os.close(root_fd)
