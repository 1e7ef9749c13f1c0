"""The safe copy-back: plan the changes, stage them beside the project, swap them in all-or-nothing."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .safefs import O_DIR, PERM, read_regular, remove
from .snapshots import Manifest, changed_paths


class DeployRefused(Exception):
    """The copy-back was refused; the message says why. The project was not changed."""


@dataclass
class DeployPlan:
    writes: list[str] = field(default_factory=list)  # regular files to create or replace in the project
    deletes: list[str] = field(default_factory=list)  # paths to remove from the project
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) never deployed
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, note) deployed with a change
    total_bytes: int = 0

    @property
    def paths(self) -> list[str]:
        return sorted(self.writes + self.deletes)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISDIR, "directory")):
        if test(mode):
            return name
    return "special file"


def _ws_state(ws_root: Path, rel: str) -> str:
    """Why a path missing from the workspace scan is missing, looked up without following any symlink."""
    parts = rel.split("/")
    fd = os.open(ws_root, O_DIR)
    try:
        for i, part in enumerate(parts):
            st = _exists(fd, part)
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


def make_plan(ws_root: Path, base: Manifest, current: Manifest) -> DeployPlan:
    """What deploying `current` (workspace, scanned with specials) over `base` would do."""
    plan = DeployPlan()
    for rel in changed_paths(base, current):
        cur = current.get(rel)
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
    plan.skipped.sort()
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


def _walk(root_fd: int, parts: list[str], journal: list, ws_dir: Path | None, create: bool) -> int:
    """Open project/parts... with no symlink followed; missing dirs made (and journalled) if `create`."""
    fd = os.dup(root_fd)
    try:
        for i, part in enumerate(parts):
            try:
                nfd = os.open(part, O_DIR, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    mode = os.lstat(ws_dir.joinpath(*parts[:i + 1])).st_mode & PERM
                except OSError:
                    mode = 0o755
                os.mkdir(part, mode, dir_fd=fd)
                journal.append(("mkdir", parts[:i], part))
                nfd = os.open(part, O_DIR, dir_fd=fd)
                os.fchmod(nfd, mode)
                if os.geteuid() == 0:
                    pst = os.fstat(fd)
                    os.fchown(nfd, pst.st_uid, pst.st_gid)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise DeployRefused(f"project path {'/'.join(parts[:i + 1])!r} is a symlink or "
                                        "not a directory; refusing to write through it") from None
                raise
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _exists(dfd: int, name: str) -> os.stat_result | None:
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
                    st = _exists(fd, part)
                    if st is None or sub in deleted:
                        break  # made (or replaced) by the deploy itself
                    last = i == len(parts) - 1
                    if last and sub not in base:
                        what = "file" if stat.S_ISREG(st.st_mode) else _kind(st.st_mode)
                        raise DeployRefused(f"project already has {sub!r} ({what}), which the workspace never saw;"
                                            " refusing to overwrite it")
                    if last:
                        break
                    if not stat.S_ISDIR(st.st_mode):
                        raise DeployRefused(f"project path {sub!r} is a {_kind(st.st_mode) if not stat.S_ISREG(st.st_mode) else 'file'}"
                                            "; refusing to write through it")
                    nfd = os.open(part, O_DIR, dir_fd=fd)
                    os.close(fd)
                    fd = nfd
            finally:
                os.close(fd)
    finally:
        os.close(root_fd)


def apply(project: Path, ws_root: Path, plan: DeployPlan, max_bytes: int, recheck=None) -> list[str]:
    """Stage every write inside the project, then swap all in; on any failure undo what was done."""
    if plan.total_bytes > max_bytes:
        raise DeployRefused(f"deploy is {plan.total_bytes} bytes, over the {max_bytes}-byte limit")
    root_fd = os.open(project, O_DIR)
    stage_name = f".tui-agent-staging-{secrets.token_hex(6)}"
    os.mkdir(stage_name, 0o700, dir_fd=root_fd)
    stage_fd = os.open(stage_name, O_DIR, dir_fd=root_fd)
    journal: list = []
    keep_stage = False
    try:
        left = max_bytes
        for i, rel in enumerate(plan.writes):
            try:
                data, st = read_regular(ws_root, rel, limit=left)
            except OSError as e:
                raise DeployRefused(f"cannot read {rel!r} from the workspace safely: {e.strerror or e}") from None
            left -= len(data)
            fd = os.open(f"w{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=stage_fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fchmod(fd, st.st_mode & PERM)
                os.fsync(fd)
            finally:
                os.close(fd)
        if recheck is not None:
            recheck()
        try:
            _commit(root_fd, stage_fd, ws_root, plan, journal)
        except BaseException as exc:
            if not _rollback(root_fd, stage_fd, journal):
                keep_stage = True
                raise DeployRefused(f"deploy failed ({exc}) and the undo was incomplete; "
                                    f"originals kept in {project / stage_name}") from exc
            if isinstance(exc, DeployRefused):
                raise
            raise DeployRefused(f"deploy failed, project left unchanged: {exc}") from exc
        return plan.paths
    finally:
        os.close(stage_fd)
        if not keep_stage:
            remove(project / stage_name)
        os.close(root_fd)


def _commit(root_fd: int, stage_fd: int, ws_root: Path, plan: DeployPlan, journal: list) -> None:
    for i, rel in enumerate(sorted(plan.deletes, reverse=True)):
        parts = rel.split("/")
        dfd = _walk(root_fd, parts[:-1], journal, None, create=False)
        try:
            os.rename(parts[-1], f"d{i}", src_dir_fd=dfd, dst_dir_fd=stage_fd)
            journal.append(("moved", parts[:-1], parts[-1], f"d{i}"))
        finally:
            os.close(dfd)
    # folders emptied by the deletes that the workspace no longer has
    dirs = sorted({"/".join(r.split("/")[:k]) for r in plan.deletes for k in range(1, r.count("/") + 1)},
                  key=lambda d: (-d.count("/"), d))
    for d in dirs:
        if (ws_root / d).is_dir() and not (ws_root / d).is_symlink():
            continue
        parts = d.split("/")
        dfd = _walk(root_fd, parts[:-1], journal, None, create=False)
        try:
            st = os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                try:
                    os.rmdir(parts[-1], dir_fd=dfd)
                    journal.append(("rmdir", parts[:-1], parts[-1], st))
                except OSError as e:
                    if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
        finally:
            os.close(dfd)
    for i, rel in enumerate(plan.writes):
        parts = rel.split("/")
        dfd = _walk(root_fd, parts[:-1], journal, ws_root, create=True)
        try:
            name, staged = parts[-1], f"w{i}"
            old = _exists(dfd, name)
            if old is None:
                if os.geteuid() == 0:
                    pst = os.fstat(dfd)
                    os.chown(staged, pst.st_uid, pst.st_gid, dir_fd=stage_fd, follow_symlinks=False)
                os.rename(staged, name, src_dir_fd=stage_fd, dst_dir_fd=dfd)
                journal.append(("new", parts[:-1], name))
                continue
            if stat.S_ISDIR(old.st_mode):
                raise DeployRefused(f"project has a directory at {rel!r}, the workspace a file")
            if os.geteuid() == 0:
                os.chown(staged, old.st_uid, old.st_gid, dir_fd=stage_fd, follow_symlinks=False)
            backup = f"b{i}"
            try:
                os.link(name, backup, src_dir_fd=dfd, dst_dir_fd=stage_fd, follow_symlinks=False)
            except OSError:
                os.rename(name, backup, src_dir_fd=dfd, dst_dir_fd=stage_fd)
                journal.append(("moved", parts[:-1], name, backup))
                os.rename(staged, name, src_dir_fd=stage_fd, dst_dir_fd=dfd)
            else:
                os.rename(staged, name, src_dir_fd=stage_fd, dst_dir_fd=dfd)
                journal.append(("moved", parts[:-1], name, backup))
        finally:
            os.close(dfd)


def _rollback(root_fd: int, stage_fd: int, journal: list) -> bool:
    """Undo the journal newest first; False if something could not be undone."""
    ok = True
    for entry in reversed(journal):
        try:
            dfd = _walk(root_fd, entry[1], [], None, create=False)
        except (OSError, DeployRefused):
            ok = False
            continue
        try:
            op = entry[0]
            if op == "moved":
                os.rename(entry[3], entry[2], src_dir_fd=stage_fd, dst_dir_fd=dfd)
            elif op == "new":
                os.unlink(entry[2], dir_fd=dfd)
            elif op == "mkdir":
                os.rmdir(entry[2], dir_fd=dfd)
            elif op == "rmdir":
                st = entry[3]
                os.mkdir(entry[2], stat.S_IMODE(st.st_mode), dir_fd=dfd)
                os.chmod(entry[2], stat.S_IMODE(st.st_mode), dir_fd=dfd, follow_symlinks=False)
                if os.geteuid() == 0:
                    os.chown(entry[2], st.st_uid, st.st_gid, dir_fd=dfd, follow_symlinks=False)
        except OSError:
            ok = False
        finally:
            os.close(dfd)
    return ok
