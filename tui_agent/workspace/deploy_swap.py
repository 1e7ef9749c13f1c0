"""The safe copy-back, part two: stage the new files inside the project, swap them in, undo on any failure."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from tui_agent.workspace.deploy_plan import DeployPlan, DeployError, lstat_at
from tui_agent.workspace.safefs import O_DIR, PERM, read_regular, remove


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
                    raise DeployError(f"project path {'/'.join(parts[:i + 1])!r} is a symlink or "
                                        "not a directory; refusing to write through it") from None
                raise
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def apply(project: Path, ws_root: Path, plan: DeployPlan, max_bytes: int, recheck=None) -> list[str]:
    """Stage every write inside the project, then swap all in; on any failure undo what was done."""
    if plan.total_bytes > max_bytes:
        raise DeployError(f"deploy is {plan.total_bytes} bytes, over the {max_bytes}-byte limit")
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
                raise DeployError(f"cannot read {rel!r} from the workspace safely: {e.strerror or e}") from None
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
                raise DeployError(f"deploy failed ({exc}) and the undo was incomplete; "
                                    f"originals kept in {project / stage_name}") from exc
            if isinstance(exc, DeployError):
                raise
            raise DeployError(f"deploy failed, project left unchanged: {exc}") from exc
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
            old = lstat_at(dfd, name)
            if old is None:
                if os.geteuid() == 0:
                    pst = os.fstat(dfd)
                    os.chown(staged, pst.st_uid, pst.st_gid, dir_fd=stage_fd, follow_symlinks=False)
                os.rename(staged, name, src_dir_fd=stage_fd, dst_dir_fd=dfd)
                journal.append(("new", parts[:-1], name))
                continue
            if stat.S_ISDIR(old.st_mode):
                raise DeployError(f"project has a directory at {rel!r}, the workspace a file")
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
        except (OSError, DeployError):
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
                os.mkdir(entry[2], 0o700, dir_fd=dfd)
                nfd = os.open(entry[2], O_DIR, dir_fd=dfd)
                try:
                    os.fchmod(nfd, stat.S_IMODE(st.st_mode))
                    if os.geteuid() == 0:
                        os.fchown(nfd, st.st_uid, st.st_gid)
                finally:
                    os.close(nfd)
        except OSError:
            ok = False
        finally:
            os.close(dfd)
    return ok
