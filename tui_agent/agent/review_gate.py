"""The person's side of the end of a run: the per-hunk deploy (recheck of the accepted subset in the sandbox first,
then the approved bytes land), undo, and feedback on rejected hunks that starts another iteration."""

from __future__ import annotations

import asyncio

from tui_agent.agent.context import trim_output
from tui_agent.agent.termination import check_passed
from tui_agent.commands import Deploy, Feedback, Reply
from tui_agent.events import (
    Deployed, DeployReady, DeployRefused, FeedbackGiven, RecheckFinished, RecheckStarted, Undone, UndoRefused,
)
from tui_agent.sandbox.base import SandboxUnavailable
from tui_agent.workspace import deploy_subset as subset
from tui_agent.workspace import snapshots
from tui_agent.workspace.deploy_plan import DeployError
from tui_agent.workspace.deploy_risk import shown
from tui_agent.workspace.hunks import HunkError


def feedback_text(notes) -> str:
    parts = ["The person reviewed your changes before deploying them and rejected these hunks. "
             "Rework them (the rest stays as it is), then the check runs again."]
    for path, hunk, reason in notes:
        parts.append(f"In {path}, the person rejected this hunk: {reason or '(no reason given)'}\n{hunk}")
    return "\n\n".join(parts)


class ReviewGate:
    """Deploy (per hunk), undo and feedback for a run; `denied(rel)` is the deny rules' say on a path."""

    def __init__(self, loop, denied=None) -> None:
        self.loop, self.denied = loop, denied
        self.tasks: set[asyncio.Future] = set()

    @property
    def ws(self):
        return self.loop.workspace

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def deploy(self, command: Deploy) -> Reply:
        """Check the selection now (a stale one is refused at once); the recheck and the copy-back run after."""
        if busy := self.busy():
            return busy
        try:
            changes = subset.review(self.ws, self.ws.plan_deploy())
            targets = subset.approve(self.ws, changes, command.hunks or ())
            plan = subset.plan_for(self.ws, changes, targets, tuple(command.include), self.denied)
            if command.recheck:  # a folder changed underneath is refused now, not after a recheck (and again then)
                self.ws._check_project()
        except (HunkError, DeployError, OSError) as exc:
            self.loop.emit(DeployRefused(str(exc)))
            return Reply(False, str(exc))
        self._spawn(self._deploy(plan, targets, command.recheck))
        return Reply(True, "rechecking the accepted changes" if command.recheck else "deploying")

    async def _deploy(self, plan, targets, recheck: bool) -> None:
        if recheck and (plan.writes or plan.deletes):
            try:
                passed = await self.recheck(plan, targets)
            except SandboxUnavailable as exc:  # no engine here (a review of a finished session): the person decides
                self.loop.emit(DeployRefused(f"the recheck cannot run: {exc}; nothing was written (deploy anyway, "
                                             "or go back)", recheck_failed=True))
                return
            if not passed:
                self.loop.emit(DeployRefused("the check fails on the accepted changes; nothing was written (deploy "
                                             "anyway, or go back)", recheck_failed=True))
                return
        try:
            files = subset.deploy(self.ws, plan, targets, self.ws.quota_mb << 20)
        except DeployError as exc:
            self.loop.emit(DeployRefused(str(exc)))
            return
        self.loop.emit(Deployed(tuple(files), left_out=tuple(plan.skipped)))
        self.offer()

    def offer(self) -> None:
        """What is still not deployed, reviewed afresh against the person's folder as it is now."""
        ws = self.ws
        diff, files = ws.diff(ws.baseline)
        plan = ws.plan_deploy()
        self.loop.emit(DeployReady(diff, tuple(files), shown(ws.path, plan), tuple(plan.skipped),
                                   subset.review_of(ws, plan)))

    async def recheck(self, plan, targets) -> bool:
        """Run the check on a copy of the baseline with only what would land (the workspace, put back after)."""
        ws, loop = self.ws, self.loop
        k = loop.progress.iterations
        going = {rel: targets[rel] for rel in plan.paths}
        manifest = dict(ws.manifest(ws.baseline))
        for rel, target in going.items():
            if target is None:
                manifest.pop(rel, None)
            else:
                manifest[rel] = (target[0], target[1], ws.store.path(target[1]).stat().st_size, -1, 0, 0)
        now = ws.snapshot()
        ws.restore(snapshots.save(ws.snapshot_dir, manifest))
        loop.emit(RecheckStarted(k, loop.config.check, tuple(plan.paths)))
        try:
            result, buffer = await loop.sandboxed(k, loop.config.check)
        finally:
            ws.restore(now)
        text = buffer.text()
        passed = result.error is None and not result.timed_out and check_passed(
            result.exit_code, text, loop.config.criteria.pass_pattern)
        loop.emit(RecheckFinished(k, passed, result.exit_code, trim_output(result.error or text)))
        return passed

    def undo(self) -> Reply:
        if busy := self.busy():
            return busy
        try:
            of, files = subset.undo_deploy(self.ws)
        except DeployError as exc:
            self.loop.emit(UndoRefused(str(exc)))
            return Reply(False, str(exc))
        self.loop.emit(Undone(tuple(files), of))
        self.offer()
        return Reply(True, f"{len(files)} file(s)")

    def busy(self) -> Reply | None:
        if any(not task.done() for task in self.tasks):
            why = "a recheck, a deploy or an iteration from your feedback is still running; nothing was done"
            self.loop.emit(DeployRefused(why))
            return Reply(False, why)
        return None

    def feedback(self, command: Feedback) -> Reply:
        if busy := self.busy():
            return busy
        if not command.notes:
            return Reply(False, "no rejected hunk to tell the model about")
        self._spawn(self.loop.go_on(FeedbackGiven(feedback_text(command.notes))))
        return Reply(True, "another iteration starts from your notes")
