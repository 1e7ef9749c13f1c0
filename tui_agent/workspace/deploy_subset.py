"""The per-hunk deploy: the review (each changed file and its hunks), the approved bytes a selection of hunks
gives (content-addressed in the session's store), and their safe copy-back, by hash, with undo data kept.

A selection is plain data (it travels in the Deploy command): ((path, key, accepted), ...) where `key` names the
change the person reviewed, "base sha:workspace sha" (the deploy is refused if either moved since) and
`accepted` is "all" (the file as proposed, or its deletion) or ((hunk index, edited text or None), ...).
A file not named is not deployed."""

from __future__ import annotations

import stat
from dataclasses import dataclass

from tui_agent.workspace import snapshots, undo
from tui_agent.workspace.deploy_plan import DeployError, DeployPlan, check_targets
from tui_agent.workspace.deploy_risk import refused
from tui_agent.workspace.deploy_stage import from_store
from tui_agent.workspace.deploy_swap import apply
from tui_agent.workspace.hunks import Hunk, HunkError, compose, lines, split

Target = tuple[int, str] | None  # (mode, sha) the path gets, or None: it is removed


@dataclass(frozen=True)
class FileChange:
    """One changed file of the review: `hunks` empty when it is taken whole (binary, new, deleted, mode only)."""

    path: str
    kind: str  # "modified" | "added" | "deleted" | "binary"
    old: str  # sha in the person's folder ("" if absent)
    new: str  # sha in the workspace ("" when deleted)
    mode: int
    hunks: tuple[Hunk, ...] = ()
    flagged: str = ""  # why it can run code on the person's machine ("" if not)

    @property
    def key(self) -> str:
        """What the person reviewed: this change from this content (a selection of another one is refused)."""
        return f"{self.old}:{self.new}"


def review(ws, plan: DeployPlan) -> list[FileChange]:
    """The files `plan` (ws.plan_deploy()) would write or delete, with their hunks against the baseline."""
    base, now = ws.manifest(ws.baseline), ws.manifest(ws.snapshot())
    flagged = dict(plan.flagged)
    out = []
    for rel in plan.paths:
        old, new = base.get(rel), now.get(rel)
        old_sha = old[1] if old is not None and stat.S_ISREG(old[0]) else ""
        if new is None or rel in plan.deletes:
            out.append(FileChange(rel, "deleted", old_sha, "", 0, (), flagged.get(rel, "")))
            continue
        hunks: tuple[Hunk, ...] = ()
        kind = "added" if not old_sha else "modified"
        if old_sha and old_sha != new[1]:
            a, b = lines(ws.store.get(old_sha)), lines(ws.store.get(new[1]))
            if a is None or b is None:
                kind = "binary"
            else:
                hunks = tuple(split(a, b))
        out.append(FileChange(rel, kind, old_sha, new[1], new[0], hunks, flagged.get(rel, "")))
    return out


def review_of(ws, plan: DeployPlan) -> tuple:
    """The review as plain data for the DeployReady event (see its `review` field)."""
    return tuple((c.path, c.kind, c.key, c.flagged, tuple((h.text, h.new_text_of(ws.store.get(c.new)))
                                                          for h in c.hunks)) for c in review(ws, plan))


def approve(ws, changes: list[FileChange], selection) -> dict[str, Target]:
    """What each selected path gets: the proposed content, or the baseline with only the accepted (or edited)
    hunks, stored in the session's store. Raises HunkError for a stale or unknown selection."""
    by_path = {c.path: c for c in changes}
    targets: dict[str, Target] = {}
    for rel, sha, accepted in selection:
        change = by_path.get(rel)
        if change is None:
            raise HunkError(f"{rel!r} is not a change of this deploy: review it again")
        if sha != change.key:
            raise HunkError(f"{rel!r} changed since you reviewed it (in the workspace, or a deploy or undo moved "
                            "its base): review it again")
        if accepted == "all" or not change.hunks:
            if accepted != "all":
                raise HunkError(f"{rel!r} has no hunks: it is taken whole or not at all")
            targets[rel] = None if change.kind == "deleted" else (change.mode, change.new)
            continue
        chosen = {int(i): (None if text is None else str(text)) for i, text in accepted}
        if not chosen:
            continue
        a, b = lines(ws.store.get(change.old)), lines(ws.store.get(change.new))
        data = compose(a or [], b or [], chosen)
        targets[rel] = (change.mode, ws.store.put(data))
    return targets


def plan_for(ws, changes: list[FileChange], targets: dict[str, Target], include: tuple,
             denied=None) -> DeployPlan:
    """The deploy of `targets`: flagged files only when included, a deny rule's paths never, rejected ones left."""
    plan = DeployPlan()
    base = ws.manifest(ws.baseline)
    for change in changes:
        rel = change.path
        if rel not in targets:
            plan.skipped.append((rel, "rejected in the review"))
            continue
        target = targets[rel]
        old = base.get(rel)
        if target is not None and old is not None and (old[0], old[1]) == target:
            plan.skipped.append((rel, "no accepted hunk changes it"))
            continue
        why = refused(rel) or (denied(rel) if denied is not None else None)
        if not why and change.flagged and rel not in include:
            why = "flagged, and you left it unchecked"
        if why:
            plan.skipped.append((rel, why))
            continue
        if change.flagged:
            plan.flagged.append((rel, change.flagged))
        if target is None:
            plan.deletes.append(rel)
        else:
            plan.writes.append(rel)
            plan.total_bytes += ws.store.path(target[1]).stat().st_size
            if target[0] & 0o7000:
                plan.notes.append((rel, "setuid/setgid/sticky bits stripped"))
    return plan


def preview(ws, hunks: tuple, include: tuple[str, ...]) -> list[tuple[str, bytes | None]]:
    """(path, the exact bytes it gets, or None: removed) for each file a per-hunk deploy of `hunks` would change."""
    changes = review(ws, ws.plan_deploy())
    targets = approve(ws, changes, hunks)
    plan = plan_for(ws, changes, targets, include)
    return [(rel, None if (target := targets[rel]) is None else ws.store.get(target[1])) for rel in plan.paths]


def deploy(ws, plan: DeployPlan, targets: dict[str, Target], max_bytes: int) -> list[str]:
    """The safe copy-back of the approved bytes (read from the store by hash), all or nothing, refused if the
    folder changed underneath; the folder's previous content is kept for undo (a pin in the same store)."""
    if not plan.writes and not plan.deletes:
        return []
    base = ws.manifest(ws.baseline)
    try:
        ws._check_project()
        check_targets(ws.project, plan, base)
        before = undo.capture(ws.project, ws.store, plan.paths)
        wanted = {rel: t for rel in plan.writes if (t := targets[rel]) is not None}
        done = apply(ws.project, ws.path, plan, max_bytes, recheck=ws._check_project,
                     read=from_store(ws.store, wanted))
    except OSError as exc:
        raise DeployError(f"deploy failed before touching the project: {exc}") from None
    after = {rel: targets[rel] for rel in plan.paths}
    undo.pin(ws.session_dir, ws.project, "deploy", before, after)
    rebase(ws, after)
    return done


def deploy_whole(ws, skip: dict[str, str]) -> list[str]:
    """Today's whole deploy (ws.deploy), with the folder's previous content kept for undo as a per-hunk one."""
    plan = ws.plan_deploy(skip=skip)
    going = [rel for rel in plan.paths if rel not in skip]
    try:
        before = undo.capture(ws.project, ws.store, going)
    except OSError as exc:
        raise DeployError(f"deploy failed before touching the project: {exc}") from None
    files = ws.deploy(skip=skip)
    if files:
        after = {rel: undo.state(ws.project, rel) for rel in files}
        undo.pin(ws.session_dir, ws.project, "deploy", {rel: before.get(rel) for rel in files}, after)
    return files


def rebase(ws, landed: dict[str, Target]) -> None:
    """The person's folder now holds `landed` on top of the baseline: move the baseline (and the project's
    manifest) there, so the next review shows only what is still not deployed."""
    manifest = dict(ws.manifest(ws.baseline))
    for rel, target in landed.items():
        if target is None:
            manifest.pop(rel, None)
        else:
            manifest[rel] = (target[0], target[1], ws.store.path(target[1]).stat().st_size, -1, 0, 0)
    ws.set_baseline(manifest)
    ws.save_project_manifest(snapshots.build(ws.project, ws.ignore, ws.project_manifest(), None,
                                             specials=True, skip=ws.project_skip))


def undo_deploy(ws) -> tuple[str, list[str]]:
    """Put the folder back as it was before the last deploy (or undo); (what was undone, the paths). Refused,
    saying what changed, if the folder changed since."""
    try:
        ws._check_project()
    except DeployError as exc:
        raise undo.UndoError(str(exc).replace("since the workspace was made", "since the last deploy").replace(
            "nothing was deployed", "nothing was undone")) from None
    of, files, landed = undo.undo_last(ws.session_dir, ws.project, ws.store, ws.quota_mb << 20)
    rebase(ws, landed)
    return of, files


__all__ = ["FileChange", "HunkError", "review", "review_of", "approve", "plan_for", "deploy", "deploy_whole", "rebase",
           "undo_deploy"]
