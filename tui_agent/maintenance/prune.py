"""Garbage collection of sessions and their content store: what is referenced stays, what nothing needs goes.

A session's content (objects/, content-addressed) is referenced by its roots: every snapshot manifest (what
resume, fork and replay read), its project baseline, and its pins, `refs/NAME.json` files of the form
{"keep": bool, "reason": str, "snapshots": [id...], "objects": [sha...]} that other features write to keep
content alive (a deploy's undo data, a batch result's kept workspace). A pin with "keep": true also keeps the
whole session from being pruned. A session with a fork is kept (the fork names it as its parent). A running
session (its workspace lock held) is never touched; an interrupted or stopped one, which can be resumed, only when
the person asks for it; the newest not-undone deploy of a project keeps its session (undo needs it) unless forced."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tui_agent.sessions.catalog import SessionSummary, summarise
from tui_agent.workspace import inuse


@dataclass(frozen=True)
class Pruned:
    name: str
    why: str
    bytes: int


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(errors="surrogateescape"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pins(session: Path) -> list[dict]:
    return [_json(p) for p in sorted((session / "refs").glob("*.json"))]


def roots(session: Path) -> set[str]:
    """Every object a session still needs."""
    needed: set[str] = set()
    manifests = [_json(p).get("files", {}) for p in (session / "snapshots").glob("*.json")]
    manifests.append(_json(session / "baseline.json"))
    for pin in pins(session):
        needed.update(x for x in pin.get("objects", []) if isinstance(x, str))
        manifests += [_json(session / "snapshots" / f"{sid}.json").get("files", {})
                      for sid in pin.get("snapshots", []) if isinstance(sid, str) and "/" not in sid]
    for files in manifests:
        needed.update(e[1] for e in files.values() if isinstance(e, list) and len(e) > 1 and e[1])
    return needed


def collect(session: Path) -> tuple[int, int]:
    """Remove the objects of a session that nothing references (never while it runs); (count, bytes) freed."""
    if inuse.held(session):
        return 0, 0
    needed, count, freed = roots(session), 0, 0
    for path in (session / "objects").glob("*/*"):
        sha = path.parent.name + path.name
        if sha not in needed or path.suffix == ".tmp":  # .tmp: a write a killed process never finished
            size = path.lstat().st_size
            path.unlink()
            count, freed = count + 1, freed + size
    return count, freed


def size_of(folder: Path) -> int:
    total, seen = 0, set()
    for dirpath, _, files in os.walk(folder):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_ino, st.st_dev) not in seen:
                seen.add((st.st_ino, st.st_dev))
                total += st.st_blocks * 512
    return total


def _remove(folder: Path) -> None:
    from tui_agent.workspace import quota

    quota.unmount(folder / "workspace")
    for dirpath, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            os.unlink(os.path.join(dirpath, name))
        for name in dirs:
            path = os.path.join(dirpath, name)
            os.unlink(path) if os.path.islink(path) else os.rmdir(path)
    os.rmdir(folder)


def pin_session(session: Path, name: str, reason: str) -> Path:
    """Keep a whole session from pruning (e.g. a batch result kept for review) until `--force` or unpin."""
    path = session / "refs" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"keep": True, "reason": reason, "snapshots": [], "objects": []}))
    os.replace(tmp, path)
    return path


def undo_holders(root: Path) -> set[str]:
    """Sessions holding the newest not-undone deploy (or undo) of some project: `tui-agent undo` needs them."""
    from tui_agent.workspace import undo

    projects = set()
    for session in root.iterdir() if root.is_dir() else []:
        found = undo.last(session) if (session / "refs").is_dir() else None
        if found is not None:
            projects.add(str(found[1].get("project", "")))
    return {holder.name for project in projects if (holder := undo.last_for(root, Path(project))) is not None}


def prune(root: Path, *, older_than_s: float | None = None, max_bytes: int | None = None,
          include_resumable: bool = False, force: bool = False, dry_run: bool = False) -> list[Pruned]:
    """Remove old finished sessions (older than `older_than_s`, then the oldest first while the whole is over
    `max_bytes`); sweep unreferenced objects from the rest. Returns what was (or, dry, would be) removed.
    Never a running session; not a resumable (interrupted or stopped) one unless `include_resumable`; not a pinned
    one (kept for review, or the newest deploy's undo data) unless `force`."""
    root = Path(root).expanduser()
    found: list[tuple[SessionSummary, int]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        summary = summarise(folder)
        if summary is not None:
            if not dry_run:
                collect(folder)
            found.append((summary, size_of(folder)))
    parents = {summary.parent for summary, _ in found if summary.parent}  # a fork keeps its parent
    undoable = set() if force else undo_holders(root)
    now, total, done = time.time(), sum(size for _, size in found), []
    for summary, size in sorted(found, key=lambda item: item[0].started):
        folder, why = summary.path, None
        last = (folder / "events.jsonl").stat().st_mtime
        if older_than_s is not None and now - last > older_than_s:
            why = f"older than {older_than_s / 86400:g} day(s)"
        elif max_bytes is not None and total > max_bytes:
            why = "over the size cap (oldest first)"
        if why is None or summary.name in parents | undoable or not _prunable(summary, include_resumable, force):
            continue
        if not dry_run:
            _remove(folder)
        total -= size
        done.append(Pruned(summary.name, why, size))
    return done


RESUMABLE = ("unfinished", "stopped")  # killed or interrupted, or stopped by the person: `resume` goes on


def _prunable(summary: SessionSummary, include_resumable: bool, force: bool) -> bool:
    if inuse.held(summary.path) or not force and any(pin.get("keep") for pin in pins(summary.path)):
        return False
    return summary.outcome not in RESUMABLE or include_resumable
