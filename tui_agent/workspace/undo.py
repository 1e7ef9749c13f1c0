"""Undo a deploy: the person's files as they were before it, kept in the session's content store and named by a
pin (refs/deploy-N.json, which garbage collection keeps), restored with the same safe swap, refused if the folder
changed since. An undo is recorded the same way, so it can itself be undone."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from pathlib import Path

from tui_agent.workspace.deploy_journal import JournalError, safe_rel
from tui_agent.workspace.deploy_plan import DeployError, DeployPlan, check_targets
from tui_agent.workspace.deploy_stage import from_store
from tui_agent.workspace.deploy_swap import apply
from tui_agent.workspace.safefs import PERM, read_regular

Target = tuple[int, str] | None


class UndoError(DeployError):
    """Nothing to undo, or the folder changed since; the folder was not changed."""


def _state(project: Path, rel: str, store=None) -> Target:
    """(mode, sha) of a regular file of the project (stored when `store` is given), None if absent; never
    follows a symlink (anything else there is refused)."""
    try:
        data, st = read_regular(project, rel)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DeployError(f"{rel!r} in your folder is not a regular file ({exc.strerror or exc})") from None
    sha = store.put(data) if store is not None else hashlib.sha256(data).hexdigest()
    return (stat.S_IFREG | (st.st_mode & PERM), sha)


def state(project: Path, rel: str) -> Target:
    """(mode, sha) of a path of the project as a deploy left it (None: absent)."""
    try:
        return _state(project, rel)
    except DeployError:
        return (0, "")


def capture(project: Path, store, paths: list[str]) -> dict[str, Target]:
    """The project's content at `paths` now, put in the store (what an undo brings back); a symlink or special
    file there is marked (0, "") and makes the undo refuse (it cannot bring one back)."""
    out: dict[str, Target] = {}
    for rel in paths:
        try:
            out[rel] = _state(project, rel, store)
        except DeployError:
            out[rel] = (0, "")
    return out


def _pins(session_dir: Path) -> list[tuple[int, Path, dict]]:
    out = []
    for path in (session_dir / "refs").glob("deploy-*.json"):
        try:
            n, data = int(path.stem.split("-", 1)[1]), json.loads(path.read_text())
        except (ValueError, OSError):
            continue
        out.append((n, path, data))
    return sorted(out, key=lambda item: item[0])


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def pin(session_dir: Path, project: Path, kind: str, before: dict, after: dict) -> Path:
    """Record a change of the person's folder (before/after of each path) as a pin the GC understands."""
    n = max((num for num, _, _ in _pins(session_dir)), default=0) + 1
    objects = sorted({t[1] for t in list(before.values()) + list(after.values()) if t and t[1]})
    path = session_dir / "refs" / f"deploy-{n}.json"
    _write(path, {"keep": False, "reason": f"undo data of {kind} {n}", "kind": kind, "project": str(project),
                  "at": time.time(), "undone": False, "objects": objects, "snapshots": [],
                  "before": {k: _plain(v) for k, v in before.items()},
                  "after": {k: _plain(v) for k, v in after.items()}})
    return path


def _plain(target: Target) -> list | None:
    """As the file lands in the folder: a regular file, setuid/setgid/sticky bits stripped."""
    if target and not target[1]:
        return [0, ""]  # not a regular file: not kept
    return [stat.S_IFREG | (target[0] & PERM), target[1]] if target else None


def last(session_dir: Path) -> tuple[Path, dict] | None:
    """The newest deploy (or undo) not undone yet."""
    for _, path, data in reversed(_pins(session_dir)):
        if not data.get("undone"):
            return path, data
    return None


def last_for(root: Path, project: Path) -> Path | None:
    """The session (under `root`) of the newest deploy or undo of `project` not undone yet."""
    best: tuple[float, Path] | None = None
    for session in root.iterdir() if root.is_dir() else []:
        found = last(session) if (session / "refs").is_dir() else None
        if found is None or os.path.realpath(found[1].get("project", "")) != os.path.realpath(project):
            continue
        at = float(found[1].get("at", 0))
        if best is None or at > best[0]:
            best = (at, session)
    return best[1] if best else None


def _target(value) -> Target:
    if not value:
        return None
    if not value[1]:
        raise UndoError("the deploy replaced a symlink or special file, which undo cannot bring back; nothing was "
                        "undone")
    if not re.fullmatch("[0-9a-f]{64}", str(value[1])):
        raise ValueError(f"not a content hash: {value[1]!r}")
    return (int(value[0]), str(value[1]))


def undo_last(session_dir: Path, project: Path, store, max_bytes: int) -> tuple[str, list[str], dict]:
    """Restore the folder as it was before the newest deploy (or undo); (what was undone, paths, what landed)."""
    found = last(session_dir)
    if found is None:
        raise UndoError(f"session {session_dir.name} has no deploy to undo")
    path, data = found
    if os.path.realpath(data.get("project", "")) != os.path.realpath(project):
        raise UndoError(f"that deploy went to {data.get('project')}, not {project}")
    try:
        before = {safe_rel(rel): _target(v) for rel, v in data["before"].items()}
        after = {safe_rel(rel): _target(v) for rel, v in data["after"].items()}
    except UndoError:
        raise
    except (JournalError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise UndoError(f"{path}: not undo data ({exc})") from None
    changed = [rel for rel, want in sorted(after.items()) if _state(project, rel) != want]
    if changed:
        more = f" (+{len(changed) - 5} more)" if len(changed) > 5 else ""
        raise UndoError(f"your folder changed since the {data.get('kind', 'deploy')} ({', '.join(changed[:5])}{more}"
                        " differ from what it wrote); nothing was undone")
    plan = DeployPlan(writes=sorted(r for r, t in before.items() if t), deletes=sorted(r for r, t in before.items()
                                                                                     if not t))
    plan.total_bytes = sum(store.path(t[1]).stat().st_size for t in before.values() if t)
    present = {rel: t for rel, t in after.items() if t}
    check_targets(project, plan, present)
    # no workspace here: folders the undo empties are removed, new ones get 0o755
    apply(project, session_dir / ".undo-has-no-workspace", plan, max_bytes,
          read=from_store(store, {r: t for r, t in before.items() if t}))
    data["undone"] = True
    _write(path, data)
    pin(session_dir, project, "undo", after, before)
    return data.get("kind", "deploy"), plan.paths, before
