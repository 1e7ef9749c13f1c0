"""Watch mode's sync, owned by the watcher: which project paths are watched, and taking given paths into the workspace."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from typing import Iterable

from tui_agent.watch.filter import watched
from tui_agent.watch.folder import lstat_in, read_in, walk
from tui_agent.workspace import bytecode, snapshots
from tui_agent.workspace.safefs import PERM, link_stays_inside, remove, write_file
from tui_agent.workspace.snapshots import Manifest
from tui_agent.workspace.workspace import Workspace


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
    """Keeps a workspace equal to the project folder it was made from, path by path, as the person edits.

    The project manifest (baseline.json) and the workspace baseline snapshot are kept in memory while
    syncing; flush() writes them, and what reads them (fix_paths, drop_fix, fix_diff, deploy) flushes first."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.project, self.path, self.owner, self.store = workspace.project, workspace.path, workspace.owner, workspace.store
        self._proj: Manifest | None = None
        self._base: Manifest | None = None
        self._dirty = False

    def watched(self, rel: str) -> bool:
        """False for .git, caches, virtual environments, the session folder, our temp files, gitignored paths."""
        return watched(self.project, rel, self.ws.ignore, self.ws.project_skip)

    # --- the manifests in memory ---------------------------------------------------------

    def _load(self) -> None:
        if self._proj is None:
            self._proj = dict(self.ws.project_manifest())
            self._base = dict(self.ws.manifest(self.ws.baseline))

    def flush(self) -> None:
        """Write the moved baselines: baseline.json and a new baseline snapshot."""
        if not self._dirty:
            return
        self.ws.save_project_manifest(self._proj)
        self.ws.set_baseline(self._base)
        self._dirty = False

    def deploy(self) -> list[str]:
        """The workspace's safe deploy over the synced baseline; our own writes then read as no change."""
        self.flush()
        files = self.ws.deploy()
        self._after_deploy(files)
        return files

    def _after_deploy(self, files: Iterable[str]) -> None:
        """A deploy moved the baselines: the project now holds exactly what we wrote for `files` (our own writes).

        The project manifest is the one before the deploy plus what was written, so a change the person made
        to another file in the meantime still reads as a change."""
        self._load()
        proj = self._proj
        self._base = dict(self.ws.manifest(self.ws.baseline))
        for rel in files:
            entry = self._base.get(rel)
            try:
                st = os.lstat(self.project / rel)
            except OSError:
                st = None
            if entry is None or st is None:
                proj.pop(rel, None)
            else:
                proj[rel] = _entry(st, entry[1])
        self.ws.save_project_manifest(proj)  # the baseline snapshot was saved by deploy itself

    def fix_paths(self) -> list[str]:
        """What the workspace changed against the project (the baseline): the fix's files."""
        self.flush()
        return self.ws.changed_paths(self.ws.baseline)

    def fix_diff(self) -> tuple[str, list[str]]:
        """The fix as a unified diff against the project, and its files."""
        self.flush()
        return self.ws.diff(self.ws.baseline)

    def drop_fix(self) -> None:
        """Make the workspace equal to the project again (the baseline snapshot)."""
        self.flush()
        self.ws.restore(self.ws.baseline)

    # --- syncing -------------------------------------------------------------------------

    def sync_paths(self, paths: Iterable[str], hold: Iterable[str] = ()) -> SyncResult:
        """Bring these project paths (files or folders, added, changed or gone) into the workspace.

        Only paths whose content differs from the project baseline are copied (so our own writes and
        touches cost a hash, nothing more); changed paths that collide with `hold` are left alone and
        reported in `held`."""
        started = time.perf_counter()
        self._load()
        hold = frozenset(hold)
        out = SyncResult()
        paths = set(paths)
        for rel in sorted(paths):
            self._one(rel, hold, out)
        bytecode.drop(self.path, out.files + out.removed)
        for rel in sorted(p for p in paths if p.rsplit("/", 1)[-1] == ".gitignore"):
            folder = rel.rpartition("/")[0]  # its rules changed: what is ignored below may have changed too
            again = set(walk(self.project, folder, self.watched)) | {k for k in self._proj if not folder or _under(k, folder)}
            for sub in sorted(again):
                self._one(sub, hold, out)
        out.seconds = time.perf_counter() - started
        return out

    def _held(self, rel: str, hold: frozenset[str]) -> bool:
        return bool(hold) and (rel in hold or any(_under(h, rel) for h in hold))

    def _one(self, rel: str, hold: frozenset[str], out: SyncResult) -> None:
        proj = self._proj
        st = lstat_in(self.project, rel) if self.watched(rel) else None
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
                self._dir(rel, st, hold, out)
            return
        if stat.S_ISREG(mode):
            data = read_in(self.project, rel, st)
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
        self._dirty = True

    def _dir(self, rel: str, st: os.stat_result, hold: frozenset[str], out: SyncResult) -> None:
        self._proj[rel] = _entry(st, "")
        self._ws_dirs(rel + "/x")
        try:
            os.chmod(self.path / rel, stat.S_IMODE(st.st_mode) & PERM)
        except OSError:
            pass
        self._base[rel] = _entry(os.lstat(self.path / rel), "")
        self._dirty = True
        try:
            names = sorted(os.listdir(self.project / rel))
        except OSError:
            return
        for name in names:
            self._one(f"{rel}/{name}", hold, out)

    def _untrack(self, rel: str, gone: list[str], out: SyncResult) -> None:
        for key in gone:
            self._proj.pop(key, None)
            entry = self._base.pop(key, None)
            if entry is not None and not stat.S_ISDIR(entry[0]):
                out.removed.append(key)
        if self._ws_parents_real(rel):
            remove(self.path / rel)
        self._dirty = True

    # --- the workspace side --------------------------------------------------------------

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
            pst = lstat_in(self.project, sub)
            mode = stat.S_IMODE(pst.st_mode) & PERM if pst is not None and stat.S_ISDIR(pst.st_mode) else 0o755
            os.mkdir(path, 0o700)
            os.chmod(path, mode)
            if self.owner:
                os.chown(path, *self.owner)
            self._base[sub] = _entry(os.lstat(path), "")
            if pst is not None:
                self._proj[sub] = _entry(pst, "")

    def _write_ws(self, rel: str, mode: int, data: bytes, sha: str, out: SyncResult) -> None:
        path = self.path / rel
        self._ws_dirs(rel)
        try:
            cur = os.lstat(path)
        except FileNotFoundError:
            cur = None
        if cur is not None and (stat.S_ISDIR(cur.st_mode) or stat.S_ISLNK(cur.st_mode) or not stat.S_ISREG(mode)):
            for key in [k for k in self._base if _under(k, rel)]:
                self._base.pop(key)
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
            self._base.pop(rel, None)
            return
        entry = _entry(os.lstat(path), sha)
        self._base[rel] = entry
        out.files.append(rel)
