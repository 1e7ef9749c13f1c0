"""The safe copy-back, part two: journal, stage the new files inside the project, swap them in; undo on failure,
and finish or undo at the next start a deploy whose process was killed (crash-consistent, like a database's log)."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from tui_agent.workspace.deploy_journal import Journal, fsync_dir
from tui_agent.workspace.deploy_plan import DeployError, DeployPlan, lstat_at
from tui_agent.workspace.deploy_stage import from_workspace, stage
from tui_agent.workspace.safefs import O_DIR, PERM, remove


def _walk(root_fd: int, parts: list[str]) -> int:
    """Open project/parts... as a folder with no symlink followed."""
    fd = os.dup(root_fd)
    try:
        for i, part in enumerate(parts):
            try:
                nfd = os.open(part, O_DIR, dir_fd=fd)
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


def _at(root_fd: int, rel: str) -> tuple[int, str]:
    """(fd of rel's folder, rel's name): the caller closes the fd."""
    parts = rel.split("/")
    return _walk(root_fd, parts[:-1]), parts[-1]


def _exists(dfd: int, name: str) -> bool:
    return lstat_at(dfd, name) is not None


def _give_owner(fd_or_name, dir_fd: int | None, owner: os.stat_result) -> None:
    if os.geteuid() == 0:
        if isinstance(fd_or_name, int):
            os.fchown(fd_or_name, owner.st_uid, owner.st_gid)
        else:
            os.chown(fd_or_name, owner.st_uid, owner.st_gid, dir_fd=dir_fd, follow_symlinks=False)


def _journal(project: Path, root_fd: int, ws_root: Path, plan: DeployPlan) -> Journal:
    """Everything the commit will do, decided before anything changes."""
    journal = Journal(str(project), f".tui-agent-staging-{secrets.token_hex(6)}")
    deleted = set(plan.deletes)
    journal.deletes = sorted(plan.deletes, reverse=True)
    gone = sorted({"/".join(r.split("/")[:k]) for r in plan.deletes for k in range(1, r.count("/") + 1)},
                  key=lambda d: (-d.count("/"), d))  # folders the deletes may empty, deepest first
    for d in gone:
        if (ws_root / d).is_dir() and not (ws_root / d).is_symlink():
            continue  # the workspace still has it
        dfd, name = _at(root_fd, d)
        try:
            st = lstat_at(dfd, name)
        finally:
            os.close(dfd)
        if st is not None and stat.S_ISDIR(st.st_mode):
            journal.rmdirs.append([d, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid])
    made: set[str] = set()
    for rel in plan.writes:
        parts = rel.split("/")
        missing_from = None  # the first parent folder the deploy must create
        fd = os.dup(root_fd)
        try:
            for k in range(1, len(parts)):
                st = None if "/".join(parts[:k]) in deleted else lstat_at(fd, parts[k - 1])
                if st is None or not stat.S_ISDIR(st.st_mode):
                    missing_from = k
                    break
                nfd = os.open(parts[k - 1], O_DIR, dir_fd=fd)
                os.close(fd)
                fd = nfd
            existed = missing_from is None and rel not in deleted and lstat_at(fd, parts[-1]) is not None
        finally:
            os.close(fd)
        for k in range(missing_from or len(parts), len(parts)):
            sub = "/".join(parts[:k])
            if sub not in made:
                made.add(sub)
                try:
                    mode = os.lstat(ws_root / sub).st_mode & PERM
                except OSError:
                    mode = 0o755
                journal.mkdirs.append([sub, mode])
        journal.writes.append([rel, existed])
    journal.mkdirs.sort(key=lambda m: m[0].count("/"))
    return journal


def apply(project: Path, ws_root: Path, plan: DeployPlan, max_bytes: int, recheck=None, read=None) -> list[str]:
    """Journal, stage every write inside the project, then swap all in; on any failure undo what was done.

    `read(rel, limit) -> (bytes, mode)`: where the bytes come from (default: the workspace, no symlink followed;
    a per-hunk deploy and an undo read the approved bytes from the session's store, checked by hash)."""
    if plan.total_bytes > max_bytes:
        raise DeployError(f"deploy is {plan.total_bytes} bytes, over the {max_bytes}-byte limit")
    root_fd = os.open(project, O_DIR)
    lock_fd = stage_fd = -1
    journal = None
    committed_or_kept = False
    try:
        journal = _journal(project, root_fd, ws_root, plan)
        lock_fd = journal.lock()
        journal.save()  # before the first change to the project: the staging folder
        os.mkdir(journal.stage, 0o700, dir_fd=root_fd)
        stage_fd = os.open(journal.stage, O_DIR, dir_fd=root_fd)
        stage(read or from_workspace(ws_root), plan, stage_fd, max_bytes)
        if recheck is not None:
            recheck()
        journal.save("committing")  # the commit point: from here a killed deploy is finished at the next start
        try:
            commit(root_fd, stage_fd, journal)
        except BaseException as exc:
            try:
                journal.save("undoing")  # a kill during the undo: the next start finishes the undo
            except OSError:
                pass
            if not rollback(root_fd, stage_fd, journal):
                committed_or_kept = True  # the journal and the originals stay: the next start retries the undo
                raise DeployError(f"deploy failed ({exc}) and the undo was incomplete; originals kept in "
                                    f"{project / journal.stage}; the next tui-agent start retries the undo") from exc
            if isinstance(exc, DeployError):
                raise
            raise DeployError(f"deploy failed, project left unchanged: {exc}") from exc
        journal.save("committed")
        return plan.paths
    finally:
        if stage_fd >= 0:
            os.close(stage_fd)
        if journal is not None and not committed_or_kept:
            remove(project / journal.stage)
            if lock_fd >= 0:
                journal.discard()
        if lock_fd >= 0:
            os.close(lock_fd)
        os.close(root_fd)


def commit(root_fd: int, stage_fd: int, journal: Journal) -> None:
    """Do every step the journal lists; each step is skipped when already done, so a killed commit is finished
    by running this again."""
    for i, rel in enumerate(journal.deletes):
        if _exists(stage_fd, f"d{i}"):
            continue  # done
        dfd, name = _at(root_fd, rel)
        try:
            if _exists(dfd, name):
                os.rename(name, f"d{i}", src_dir_fd=dfd, dst_dir_fd=stage_fd)
        finally:
            os.close(dfd)
    for rel, *_ in journal.rmdirs:
        try:
            dfd, name = _at(root_fd, rel)
        except FileNotFoundError:
            continue  # its parent went too: done
        try:
            os.rmdir(name, dir_fd=dfd)
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST):
                raise
        finally:
            os.close(dfd)
    for rel, mode in journal.mkdirs:
        dfd, name = _at(root_fd, rel)
        try:
            if not _exists(dfd, name):
                os.mkdir(name, 0o700, dir_fd=dfd)
            nfd = os.open(name, O_DIR, dir_fd=dfd)  # mode and owner each time: a kill may fall between
            try:
                os.fchmod(nfd, mode)
                _give_owner(nfd, None, os.fstat(dfd))
            finally:
                os.close(nfd)
        finally:
            os.close(dfd)
    for i, (rel, existed) in enumerate(journal.writes):
        staged, backup = f"w{i}", f"b{i}"
        if not _exists(stage_fd, staged):
            continue  # done
        dfd, name = _at(root_fd, rel)
        try:
            old = lstat_at(dfd, name)
            if old is not None and stat.S_ISDIR(old.st_mode):
                raise DeployError(f"project has a directory at {rel!r}, the workspace a file")
            _give_owner(staged, stage_fd, old if old is not None else os.fstat(dfd))
            if old is not None and existed and not _exists(stage_fd, backup):
                try:
                    os.link(name, backup, src_dir_fd=dfd, dst_dir_fd=stage_fd, follow_symlinks=False)
                except OSError:
                    os.rename(name, backup, src_dir_fd=dfd, dst_dir_fd=stage_fd)
            os.rename(staged, name, src_dir_fd=stage_fd, dst_dir_fd=dfd)
        finally:
            os.close(dfd)
    _fsync_parents(root_fd, journal)


def _fsync_parents(root_fd: int, journal: Journal) -> None:
    """Make the renames durable: fsync every folder the journal changed that still exists."""
    paths = [w[0] for w in journal.writes] + journal.deletes + [d[0] for d in journal.mkdirs + journal.rmdirs]
    for rel in sorted({os.path.dirname(p) for p in paths}):
        try:
            dfd = _walk(root_fd, rel.split("/") if rel else [])
        except (OSError, DeployError):
            continue
        try:
            fsync_dir(dfd)
        finally:
            os.close(dfd)


def rollback(root_fd: int, stage_fd: int, journal: Journal) -> bool:
    """Undo whatever part of the journal was done, newest first; False if something could not be undone."""
    ok = True

    def step(rel: str, undo, needed: bool = True) -> None:
        nonlocal ok
        try:
            dfd, name = _at(root_fd, rel)
        except (OSError, DeployError):
            ok = ok and not needed  # a missing folder is fine when there was nothing to take out of it
            return
        try:
            undo(dfd, name)
        except OSError:
            ok = False
        finally:
            os.close(dfd)

    for i in reversed(range(len(journal.writes))):
        rel, existed = journal.writes[i]
        staged, backup = _exists(stage_fd, f"w{i}"), _exists(stage_fd, f"b{i}")

        def undo_write(dfd, name, i=i, staged=staged, backup=backup, existed=existed):
            if backup and (not staged or not _exists(dfd, name)):
                os.rename(f"b{i}", name, src_dir_fd=stage_fd, dst_dir_fd=dfd)  # the old file back, atomically
            elif not existed and not staged and _exists(dfd, name):
                os.unlink(name, dir_fd=dfd)
        step(rel, undo_write, needed=backup)

    def undo_mkdir(dfd, name):
        try:
            os.rmdir(name, dir_fd=dfd)
        except FileNotFoundError:
            pass
    for rel, _ in reversed(journal.mkdirs):
        step(rel, undo_mkdir, needed=False)
    for rel, mode, uid, gid in reversed(journal.rmdirs):
        def undo_rmdir(dfd, name, mode=mode, uid=uid, gid=gid):
            if not _exists(dfd, name):
                os.mkdir(name, 0o700, dir_fd=dfd)
            nfd = os.open(name, O_DIR, dir_fd=dfd)  # mode and owner each time: a kill may fall between
            try:
                os.fchmod(nfd, mode)
                if os.geteuid() == 0:
                    os.fchown(nfd, uid, gid)
            finally:
                os.close(nfd)
        step(rel, undo_rmdir)
    for i in reversed(range(len(journal.deletes))):
        if _exists(stage_fd, f"d{i}"):
            step(journal.deletes[i], lambda dfd, name, i=i: os.rename(f"d{i}", name, src_dir_fd=stage_fd,
                                                                     dst_dir_fd=dfd))
    return ok
