"""Watch mode's part of the workspace: which project paths are watched, and syncing given paths in (moving the baseline)."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from typing import Iterable

from tui_agent.workspace import bytecode
from tui_agent.workspace import snapshots
from tui_agent.workspace.safefs import O_DIR, O_READ, PERM, link_stays_inside, open_dir, remove, write_file
from tui_agent.workspace.snapshots import Manifest
from tui_agent.watch.filter import watched



@dataclass
class SyncResult:
    files: list[str] = field(default_factory=list)  # written into the workspace (new or changed)
    removed: list[str] = field(default_factory=list)  # removed from the workspace
    held: list[str] = field(default_factory=list)  # changed in the project, left alone: they collide with `hold`
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.files or self.removed or self.held)


def _entry(st: os.stat_result, sha: str) -> tuple:
    mtime = st.st_mtime_ns if st.st_mtime_ns < time.time_ns() - snapshots.RACY_NS else -1
    return (st.st_mode, sha, st.st_size, mtime, st.st_ctime_ns, st.st_ino)


def _under(rel: str, folder: str) -> bool:
    return rel == folder or rel.startswith(folder + "/")


class ProjectSync:
    """Mixin for Workspace (needs project, path, owner, store, _ignore, _project_skip and the manifest helpers).

    The project manifest (baseline.json) and the workspace baseline snapshot are kept in memory while
    syncing; flush_sync() writes them (deploy, restore and diff read them from disk)."""

    _sync_proj: Manifest | None = None
    _sync_base: Manifest | None = None
    _sync_dirty = False

    def watched(self, rel: str) -> bool:
        """False for .git, caches, virtual environments, the session folder, our temp files, gitignored paths."""
        return watched(self.project, rel, self._ignore, self._project_skip)

    # --- the manifests in memory ---------------------------------------------------------

    def _sync_load(self) -> None:
        if self._sync_proj is None:
            self._sync_proj = dict(self._project_baseline())
            self._sync_base = dict(self._manifest(self.baseline))

    def flush_sync(self) -> None:
        """Write the moved baselines: baseline.json and a new baseline snapshot (meta["baseline"])."""
        if not self._sync_dirty:
            return
        self._write_project_baseline(self._sync_proj)
        sid = snapshots.save(self.snapshot_dir, self._sync_base)
        self._manifests[sid] = dict(self._sync_base)
        self.meta["baseline"] = sid
        self._save_meta()
        self._sync_dirty = False

    def after_deploy(self, files: Iterable[str]) -> None:
        """A deploy moved the baselines: the project now holds exactly what we wrote for `files` (our own writes).

        The project manifest is the one before the deploy plus what was written, so a change the person made
        to another file in the meantime still reads as a change."""
        self._sync_load()
        proj = self._sync_proj
        self._sync_base = dict(self._manifest(self.baseline))
        for rel in files:
            entry = self._sync_base.get(rel)
            try:
                st = os.lstat(self.project / rel)
            except OSError:
                st = None
            if entry is None or st is None:
                proj.pop(rel, None)
            else:
                proj[rel] = _entry(st, entry[1])
        self._sync_dirty = True
        self._write_project_baseline(proj)  # the baseline snapshot was saved by deploy itself
        self._sync_dirty = False

    def fix_paths(self) -> list[str]:
        """What the workspace changed against the project (the baseline): the fix's files."""
        self.flush_sync()
        return snapshots.changed_paths(self._manifest(self.baseline), self._current())

    def drop_fix(self) -> None:
        """Make the workspace equal to the project again (the baseline snapshot)."""
        self.flush_sync()
        self.restore(self.baseline)

    # --- syncing -------------------------------------------------------------------------

    def sync_paths(self, paths: Iterable[str], hold: Iterable[str] = ()) -> SyncResult:
        """Bring these project paths (files or folders, added, changed or gone) into the workspace.

        Only paths whose content differs from the project baseline are copied (so our own writes and
        touches cost a hash, nothing more); changed paths that collide with `hold` are left alone and
        reported in `held`."""
        started = time.perf_counter()
        self._sync_load()
        hold = frozenset(hold)
        out = SyncResult()
        paths = set(paths)
        for rel in sorted(paths):
            self._sync_one(rel, hold, out)
        self.drop_bytecode(out.files + out.removed)
        for rel in sorted(p for p in paths if p.rsplit("/", 1)[-1] == ".gitignore"):
            folder = rel.rpartition("/")[0]  # its rules changed: what is ignored below may have changed too
            again = set(self._walk_project(folder)) | {k for k in self._sync_proj if not folder or _under(k, folder)}
            for sub in sorted(again):
                self._sync_one(sub, hold, out)
        out.seconds = time.perf_counter() - started
        return out

    def _held(self, rel: str, hold: frozenset[str]) -> bool:
        return bool(hold) and (rel in hold or any(_under(h, rel) for h in hold))

    def _sync_one(self, rel: str, hold: frozenset[str], out: SyncResult) -> None:
        proj = self._sync_proj
        st = self._project_lstat(rel) if self.watched(rel) else None
        if st is None:
            gone = [k for k in proj if _under(k, rel)]
            if gone:
                if self._held(rel, hold):
                    out.held.append(rel)
                    return
                self._untrack(rel, gone, out)
            return
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            if rel not in proj or not stat.S_ISDIR(proj[rel][0]):  # new (or renamed in): its files came silently
                self._sync_dir(rel, st, hold, out)
            return
        if stat.S_ISREG(mode):
            data = self._project_read(rel, st)
            if data is None:
                return
        elif stat.S_ISLNK(mode):
            data = os.fsencode(os.readlink(self.project / rel))
        else:
            data = b""
        sha = hashlib.sha256(data).hexdigest() if data or stat.S_ISREG(mode) else ""
        old = proj.get(rel)
        if old is not None and old[0] == mode and old[1] == sha:
            proj[rel] = _entry(st, sha)  # touched or our own write: nothing to do
            return
        if self._held(rel, hold):
            out.held.append(rel)
            return
        if old is not None and stat.S_ISDIR(old[0]):  # a folder replaced by a file: its files are gone
            self._untrack(rel, [k for k in proj if _under(k, rel)], out)
        self._write_ws(rel, mode, data, sha, out)
        proj[rel] = _entry(st, sha)
        self._sync_dirty = True

    def _sync_dir(self, rel: str, st: os.stat_result, hold: frozenset[str], out: SyncResult) -> None:
        self._sync_proj[rel] = _entry(st, "")
        self._ws_dirs(rel + "/x")
        try:
            os.chmod(self.path / rel, stat.S_IMODE(st.st_mode) & PERM)
        except OSError:
            pass
        self._sync_base[rel] = _entry(os.lstat(self.path / rel), "")
        self._sync_dirty = True
        try:
            names = sorted(os.listdir(self.project / rel))
        except OSError:
            return
        for name in names:
            self._sync_one(f"{rel}/{name}", hold, out)

    def _untrack(self, rel: str, gone: list[str], out: SyncResult) -> None:
        for key in gone:
            self._sync_proj.pop(key, None)
            entry = self._sync_base.pop(key, None)
            if entry is not None and not stat.S_ISDIR(entry[0]):
                out.removed.append(key)
        if self._ws_parents_real(rel):
            remove(self.path / rel)
        self._sync_dirty = True

    def drop_bytecode(self, paths: Iterable[str]) -> None:
        """Remove the cached bytecode of these .py files in the workspace (see bytecode.drop)."""
        bytecode.drop(self.path, paths)

    def _walk_project(self, folder: str) -> Iterable[str]:
        """Every watched path below a project folder (lstat walk, no symlink followed)."""
        try:
            entries = list(os.scandir(self.project / folder if folder else self.project))
        except OSError:
            return
        for e in entries:
            rel = f"{folder}/{e.name}" if folder else e.name
            if not self.watched(rel):
                continue
            yield rel
            if e.is_dir(follow_symlinks=False):
                yield from self._walk_project(rel)

    # --- file system ---------------------------------------------------------------------

    def _project_lstat(self, rel: str) -> os.stat_result | None:
        parts = rel.split("/")
        try:
            rfd = os.open(self.project, O_DIR)
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

    def _project_read(self, rel: str, st: os.stat_result) -> bytes | None:
        try:
            fd = os.open(self.project / rel, O_READ)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            fst = os.fstat(fd)
            if fst.st_ino != st.st_ino or fst.st_dev != st.st_dev:
                return None  # swapped since the lstat: the next event brings it
            return f.read()

    def _ws_parents_real(self, rel: str) -> bool:
        path = self.path
        for part in rel.split("/")[:-1]:
            path = path / part
            try:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    return False
            except OSError:
                return False
        return True

    def _ws_dirs(self, rel: str) -> None:
        """Make every parent of rel a real folder in the workspace, tracked in the baseline like the project's."""
        parts = rel.split("/")[:-1]
        for i in range(len(parts)):
            sub = "/".join(parts[:i + 1])
            path = self.path / sub
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None
            if st is not None and stat.S_ISDIR(st.st_mode):
                continue
            if st is not None:
                os.unlink(path)
            pst = self._project_lstat(sub)
            mode = stat.S_IMODE(pst.st_mode) & PERM if pst is not None and stat.S_ISDIR(pst.st_mode) else 0o755
            os.mkdir(path, 0o700)
            os.chmod(path, mode)
            if self.owner:
                os.chown(path, *self.owner)
            self._sync_base[sub] = _entry(os.lstat(path), "")
            if pst is not None:
                self._sync_proj[sub] = _entry(pst, "")

    def _write_ws(self, rel: str, mode: int, data: bytes, sha: str, out: SyncResult) -> None:
        path = self.path / rel
        self._ws_dirs(rel)
        try:
            cur = os.lstat(path)
        except FileNotFoundError:
            cur = None
        if cur is not None and (stat.S_ISDIR(cur.st_mode) or stat.S_ISLNK(cur.st_mode) or not stat.S_ISREG(mode)):
            for key in [k for k in self._sync_base if _under(k, rel)]:
                self._sync_base.pop(key)
            remove(path)
        if stat.S_ISREG(mode):
            self.store.put(data, sha)
            try:
                write_file(path, data, stat.S_IMODE(mode) & PERM, self.owner)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise
                return
        elif stat.S_ISLNK(mode) and link_stays_inside(self.project, self.project / rel, os.fsdecode(data)):
            self.store.put(data, sha)
            os.symlink(os.fsdecode(data), path)
            if self.owner:
                os.lchown(path, *self.owner)
        else:  # a link leading outside, or a special file: never copied (as when the workspace was made)
            self._sync_base.pop(rel, None)
            return
        entry = _entry(os.lstat(path), sha)
        self._sync_base[rel] = entry
        out.files.append(rel)
