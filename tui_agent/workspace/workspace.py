"""The scratch copy the agent works in: path checks, snapshots, diffs, restores and the safe deploy."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path

from tui_agent.workspace import generated, inuse, scmversion, snapshots
from tui_agent.workspace import quota as fsquota
from tui_agent.workspace.deploy_plan import DeployError, DeployPlan, check_targets, make_plan, refuse_if_changed
from tui_agent.workspace.deploy_swap import apply
from tui_agent.workspace.files import Files, WorkspaceError
from tui_agent.workspace.gitignore import DEFAULT_IGNORE, Ignore, RuleSet
from tui_agent.workspace.safefs import copy_project, copy_tree, read_regular, remove, scan
from tui_agent.workspace.snapshots import Manifest, ObjectStore

__all__ = ["Workspace", "WorkspaceError", "DeployError", "DeployPlan"]


class Workspace:
    """A scratch copy of a project inside a session folder (tmpfs-capped when we are root); `files` reads and
    writes it for the agent's tools, paths confined to it."""

    def __init__(self, project: Path, session_dir: Path, meta: dict, owner: tuple[int, int] | None):
        self.project = project
        self.session_dir = session_dir
        self.path = session_dir / "workspace"
        self.owner = owner if os.geteuid() == 0 else None  # only root can hand files to the sandbox user
        self.quota_mb: int = meta["quota_mb"]
        self.meta = meta
        self.store = ObjectStore(session_dir / "objects")
        self.snapshot_dir = session_dir / "snapshots"
        self.skipped: list[tuple[str, str]] = [tuple(x) for x in meta.get("skipped", [])]
        self.last_plan: DeployPlan | None = None
        self.ignore = Ignore().push("", RuleSet.parse(DEFAULT_IGNORE + meta.get("exclude", "")))
        self.project_skip = frozenset(meta.get("project_skip", []))  # project paths never copied (the session)
        self.files = Files(self.path, self.ignore, owner=self.owner, quota_mb=self.quota_mb)
        self._cache: Manifest = {}
        self._manifests: dict[str, Manifest] = {}
        self._closed = False
        try:
            self._in_use = inuse.hold(session_dir)  # recovery leaves a live run's mount alone; resume refuses it
        except inuse.InUse as exc:
            raise WorkspaceError(str(exc)) from None

    # --- lifecycle -------------------------------------------------------------------------

    @classmethod
    def create(cls, project: Path, session_dir: Path, *, owner: tuple[int, int] | None = None,
               quota_mb: int = 1024) -> "Workspace":
        """Copy `project` into session_dir/workspace (gitignore respected) and record the baseline."""
        project = Path(project).resolve()
        if not project.is_dir():
            raise WorkspaceError(f"project folder not found: {project}")
        session_dir = Path(session_dir).resolve()
        session_dir.mkdir(parents=True, exist_ok=True)
        path = session_dir / "workspace"
        if path.exists() and any(path.iterdir()):
            raise WorkspaceError(f"{path} already exists; reattach with Workspace.open")
        exclude = ""
        try:
            exclude = read_regular(project, ".git/info/exclude", limit=1 << 20)[0].decode("utf-8", "replace")
        except OSError:
            pass
        skip = []
        if session_dir.is_relative_to(project):
            skip.append(session_dir.relative_to(project).as_posix())
        meta = {"project": str(project), "quota_mb": quota_mb, "owner": list(owner) if owner else None,
                "exclude": exclude + scmversion.exclude_rules(project), "project_skip": skip}
        ws = cls(project, session_dir, meta, owner)
        ws._mount(quota_mb)
        try:
            hints = ws._copy_in()
        except OSError as exc:
            quota_full = fsquota.free_bytes(path) < (1 << 20)  # else the session's disk is the full one
            ws._closed = True  # nothing worth keeping: no copy out (the disk may be full)
            fsquota.unmount(ws.path)
            inuse.release(ws._in_use)
            remove(path)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT) and quota_full:
                raise WorkspaceError(f"the project does not fit in the workspace quota ({quota_mb} MB)") from None
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise WorkspaceError(f"no space left to save the session in {session_dir.parent}: "
                                     f"{exc.strerror}") from None
            raise WorkspaceError(f"cannot copy the project: {exc}") from None
        ws._cache = {rel: (st.st_mode, hints.get(rel, ""), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                     for rel, st in scan(ws.path, ws.ignore).items() if rel in hints or stat.S_ISDIR(st.st_mode)}
        meta["baseline"] = ws.snapshot()
        ws._save_meta()
        return ws

    @classmethod
    def open(cls, session_dir: Path, project: Path | None = None, *, owner: tuple[int, int] | None = None,
             quota_mb: int | None = None) -> "Workspace":
        """Reattach to the workspace of an existing session (re-capped if it was closed)."""
        session_dir = Path(session_dir).resolve()
        try:
            meta = json.loads((session_dir / "workspace.json").read_text())
        except (OSError, ValueError):
            raise WorkspaceError(f"no workspace recorded in {session_dir}") from None
        if project is not None and Path(project).resolve() != Path(meta["project"]):
            raise WorkspaceError(f"session {session_dir.name} was made for {meta['project']}, not {project}")
        if owner is None and meta.get("owner"):
            owner = tuple(meta["owner"])
        if quota_mb is not None:
            meta["quota_mb"] = quota_mb
        ws = cls(Path(meta["project"]), session_dir, meta, owner)
        if fsquota.can_cap() and not fsquota.is_mounted(ws.path):
            aside = session_dir / "workspace.reopen"
            remove(aside)
            if ws.path.exists():
                os.rename(ws.path, aside)
            ws._mount(meta["quota_mb"])
            if aside.exists():
                copy_tree(aside, ws.path, owner)
                remove(aside)
        ws.path.mkdir(exist_ok=True)
        last = meta.get("last")
        if last:
            try:
                ws._cache = ws.manifest(last)
            except KeyError:
                pass
        return ws

    def fork(self, session_dir: Path, snapshot_id: str | None = None) -> "Workspace":
        """A new session whose workspace starts at `snapshot_id` (default: the latest); same project baseline."""
        new_dir = Path(session_dir).resolve()
        if (new_dir / "workspace.json").exists():
            raise WorkspaceError(f"{new_dir} already holds a workspace")
        sid = snapshot_id or self.snapshot()
        target = self.manifest(sid)
        for folder in ("objects", "snapshots"):
            for src in (self.session_dir / folder).rglob("*"):
                dst = new_dir / folder / src.relative_to(self.session_dir / folder)
                if src.is_dir() or src.suffix == ".tmp" or dst.exists():
                    continue
                dst.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copyfile(src, dst)
        shutil.copyfile(self.session_dir / "baseline.json", new_dir / "baseline.json")
        meta = dict(self.meta, last=sid, forked_from=str(self.session_dir))
        ws = Workspace(self.project, new_dir, meta, self.owner)
        ws._mount(self.quota_mb)
        snapshots.restore(ws.path, target, ws.ignore, {}, ws.store, ws.owner)
        ws._save_meta()
        return ws

    def _mount(self, quota_mb: int) -> None:
        uid, gid = self.owner if self.owner else (None, None)
        fsquota.mount_capped(self.path, quota_mb, uid, gid)
        if self.owner and not fsquota.is_mounted(self.path):
            os.chown(self.path, *self.owner)

    def close(self) -> str | None:
        """Leave the final contents as a plain folder at the same path (unmounting the tmpfs); idempotent.
        With no room to copy them out, the workspace stays mounted (nothing lost) and why is returned."""
        if self._closed:
            return None
        self._closed = True
        try:
            fsquota.unmount_keeping(self.path, self.session_dir / "workspace.closing", self.owner)
        except OSError as exc:
            remove(self.session_dir / "workspace.closing")
            return (f"the workspace stays mounted at {self.path}, its files safe ({exc.strerror or exc}); "
                    "the next tui-agent start unmounts it")
        finally:
            inuse.release(self._in_use)
        return None

    def _save_meta(self) -> None:
        tmp = self.session_dir / "workspace.json.tmp"
        tmp.write_text(json.dumps(self.meta))
        os.replace(tmp, self.session_dir / "workspace.json")

    def _copy_in(self) -> dict[str, str]:
        """Copy the project in; record its baseline manifest; return the sha of every entry copied."""
        baseline, hints, skipped = copy_project(self.project, self.path, self.ignore, self.project_skip,
                                                self.store.put, self.owner)
        self.skipped += skipped
        self.meta["skipped"] = self.skipped
        self.save_project_manifest(baseline)
        generated.copy_in(self.project, self.path, set(baseline), self.owner)  # not in the baseline: never deployed
        return hints

    def save_project_manifest(self, manifest: Manifest) -> None:
        tmp = self.session_dir / "baseline.json.tmp"
        tmp.write_text(json.dumps(manifest, separators=(",", ":")), errors="surrogateescape")
        os.replace(tmp, self.session_dir / "baseline.json")

    def project_manifest(self) -> Manifest:
        data = json.loads((self.session_dir / "baseline.json").read_text(errors="surrogateescape"))
        return {k: tuple(v) for k, v in data.items()}

    # --- snapshots -------------------------------------------------------------------------

    @property
    def baseline(self) -> str:
        """The snapshot the project is known to equal (taken at create, moved by each deploy and watch sync)."""
        return self.meta["baseline"]

    def set_baseline(self, manifest: Manifest) -> str:
        """Store `manifest` as a snapshot and make it the baseline (watch mode took the person's changes in)."""
        sid = snapshots.save(self.snapshot_dir, manifest)
        self._manifests[sid] = dict(manifest)
        self.meta["baseline"] = sid
        self._save_meta()
        return sid

    def _current(self) -> Manifest:
        files = snapshots.build(self.path, self.ignore, self._cache, self.store)
        self._cache = files
        return files

    def manifest(self, sid: str) -> Manifest:
        if sid not in self._manifests:
            try:
                self._manifests[sid] = snapshots.load(self.snapshot_dir, sid)
            except KeyError:
                raise WorkspaceError(f"unknown snapshot: {sid}") from None
            while len(self._manifests) > 16:
                self._manifests.pop(next(iter(self._manifests)))
        return self._manifests[sid]

    def snapshot(self) -> str:
        """Store the current state (only changed files are read); return its id."""
        files = self._current()
        sid = snapshots.save(self.snapshot_dir, files)
        self._manifests[sid] = files
        if self.meta.get("last") != sid:
            self.meta["last"] = sid
            self._save_meta()
        return sid

    def changed_paths(self, since: str) -> list[str]:
        """The paths whose files differ now from snapshot `since`."""
        return snapshots.changed_paths(self.manifest(since), self._current())

    def diff(self, since: str, until: str | None = None) -> tuple[str, list[str]]:
        """Unified diff (git-style) from snapshot `since` to `until` (None: the files now), and the changed paths."""
        old = self.manifest(since)
        new = self.manifest(until) if until else self._current()
        paths = snapshots.changed_paths(old, new)

        def read(rel: str, entry: tuple) -> bytes:
            return self.store.get(entry[1])

        return snapshots.render(old, new, paths, read, read), paths

    def snapshot_with_diff(self, since: str) -> tuple[str, str, list[str]]:
        """snapshot() then diff(since, it): one scan instead of the two of diff(since) + snapshot()."""
        sid = self.snapshot()
        text, paths = self.diff(since, sid)
        return sid, text, paths

    def restore(self, snapshot_id: str) -> None:
        """Make the workspace exactly equal to a snapshot (gitignored files are left alone)."""
        target = self.manifest(snapshot_id)
        snapshots.restore(self.path, target, self.ignore, self._cache, self.store, self.owner)

    # --- deploy ----------------------------------------------------------------------------

    def plan_deploy(self, *, base: str | None = None, skip: dict[str, str] | None = None) -> DeployPlan:
        """What deploy() would write, delete, skip and flag (for the deploy gate); `skip`: left out, and why."""
        current = snapshots.build(self.path, self.ignore, self._cache, self.store, specials=True)
        return make_plan(self.path, self.manifest(base or self.baseline), current, skip)

    def _check_project(self) -> None:
        base = self.project_manifest()
        now = snapshots.build(self.project, self.ignore, base, None, specials=True, skip=self.project_skip)
        refuse_if_changed(base, now)

    def deploy(self, *, base: str | None = None, max_bytes: int | None = None,
               skip: dict[str, str] | None = None) -> list[str]:
        """The safe copy-back into the project, all-or-nothing; returns the paths written or removed.

        Raises DeployError (project untouched) if the project changed since the copy, a write would go
        through a symlink or over something the workspace never saw, the total exceeds `max_bytes`
        (default: the workspace quota), or anything fails mid-way. Skipped paths are in `last_plan.skipped`."""
        limit = max_bytes if max_bytes is not None else self.quota_mb << 20
        try:
            plan = self.last_plan = self.plan_deploy(base=base, skip=skip)
            self._check_project()
            if not plan.writes and not plan.deletes:
                return []
            check_targets(self.project, plan, self.manifest(base or self.baseline))
            done = apply(self.project, self.path, plan, limit, recheck=self._check_project)
        except OSError as exc:
            raise DeployError(f"deploy failed before touching the project: {exc}") from None
        self.save_project_manifest(snapshots.build(self.project, self.ignore, self.project_manifest(), None,
                                                     specials=True, skip=self.project_skip))
        self.meta["baseline"] = self.snapshot()
        self._save_meta()
        return done
