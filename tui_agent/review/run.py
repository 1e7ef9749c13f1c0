"""ReviewRun: a finished session (e.g. a batch task) played at once, then the deploy gate on its kept workspace:
whole (d) or per hunk (h, the accepted subset rechecked in a sandbox first), and undo (u)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tui_agent import config
from tui_agent.agent.review_gate import ReviewGate
from tui_agent.commands import Command, Deploy, Feedback, Reply, Undo
from tui_agent.events import (
    Deployed, DeployReady, DeployRefused, Finished, IterationFinished, SessionStarted, UndoRefused,
)
from tui_agent.replay_run import ReplayRun
from tui_agent.review.recheck import RecheckHost
from tui_agent.tools.permissions.policy import Policy, PolicyError, denied_by
from tui_agent.workspace.deploy_risk import left_out, shown
from tui_agent.workspace.deploy_subset import deploy_whole, preview, review_of
from tui_agent.workspace.workspace import DeployError, Workspace

NOT_MET = "only a session whose goal was met can be deployed (resume it to go on)"
NOTHING_DEPLOYED = "this session's goal was not met: nothing was deployed from it, so there is nothing to undo"
NO_FEEDBACK = "a review of a finished session runs no model: resume the session to give it feedback"


class ReviewRun(ReplayRun):
    """A RunHandle: the recorded events, a DeployReady when the goal was met, and a real deploy on Deploy.

    No model is called; the deploy is the same safe copy-back as at the end of a live run (refused if the project
    changed since the workspace was made). A per-hunk deploy goes through the live run's ReviewGate: the accepted
    subset is rechecked in a sandbox of the session's backend, started for it and closed after."""

    replay = False  # its deploy acts: the TUI offers the gate as for a live run

    def __init__(self, session_dir: Path):
        super().__init__(session_dir, speed=0.0)
        self.workspace: Workspace | None = None
        self._gate: ReviewGate | None = None
        project = self.settings.project
        try:
            deploy_command = config.load(project).deploy_command if project.is_dir() else None
        except config.ConfigError:
            deploy_command = None
        start = next((e for e in self.events if isinstance(e, SessionStarted)), None)
        sandbox = f"{start.sandbox} (for a recheck)" if start and start.sandbox else "none (review)"
        self.settings = replace(self.settings, model=f"review of {self.session_dir.name}", sandbox=sandbox,
                                deploy_command=deploy_command)
        ends = [i for i, e in enumerate(self.events) if isinstance(e, Finished)]
        if ends and self.events[ends[-1]].outcome == "met":
            self.workspace = Workspace.open(self.session_dir)
            diff, files = self.workspace.diff(self.workspace.baseline)
            plan = self.workspace.plan_deploy()
            self.events.insert(ends[-1], DeployReady(diff, tuple(files), shown(self.workspace.path, plan),
                                                     tuple(plan.skipped), review_of(self.workspace, plan)))

    def send(self, command: Command) -> Reply:
        match command:
            case Deploy(hunks=None):
                return self._deploy(command.include)
            case Deploy() if self.workspace is None:
                self._emit(DeployRefused(NOT_MET))
                return Reply(False, NOT_MET)
            case Undo() if self.workspace is None:
                self._emit(UndoRefused(NOTHING_DEPLOYED))
                return Reply(False, NOTHING_DEPLOYED)
            case Deploy():
                try:
                    self.gate.denied = denied_by(self._policy())  # the rules as they are now, as for a whole deploy
                except (config.ConfigError, PolicyError) as exc:
                    self._emit(DeployRefused(str(exc)))
                    return Reply(False, str(exc))
                return self.gate.deploy(command)
            case Undo():
                return self.gate.undo()
            case Feedback():
                return Reply(False, NO_FEEDBACK)
        return super().send(command)

    @property
    def gate(self) -> ReviewGate:
        """The per-hunk deploy and undo, on a RecheckHost (made when first used)."""
        if self._gate is None:
            assert self.workspace is not None
            done = [e.iteration for e in self.events if isinstance(e, IterationFinished)]
            host = RecheckHost(self.session_dir, self.workspace, self._emit, done[-1] if done else 0)
            self._gate = ReviewGate(host)
        return self._gate

    def _policy(self) -> Policy:
        settings = config.load(self.settings.project)  # the person's rules as they are now, the project's if trusted
        return Policy.load(self.settings.project, settings.permissions, trusted=settings.project_trusted)

    def _deploy(self, include: tuple = ()) -> Reply:
        if self.workspace is None:
            self._emit(DeployRefused(NOT_MET))
            return Reply(False, NOT_MET)
        if self._gate is not None and (busy := self._gate.busy()):  # a recheck has the workspace as the subset
            return busy
        try:
            skip = left_out(self.workspace.plan_deploy(), include, denied_by(self._policy()))
            files = deploy_whole(self.workspace, skip)  # undo data kept
        except (DeployError, config.ConfigError, PolicyError) as exc:
            self._emit(DeployRefused(str(exc)))
            return Reply(False, str(exc))
        plan = self.workspace.last_plan
        self._emit(Deployed(tuple(files), left_out=tuple(plan.skipped) if plan else ()))
        return Reply(True, f"{len(files)} file(s)")

    def changes(self) -> str:
        return self.workspace.diff(self.workspace.baseline)[0] if self.workspace else super().changes()

    def deploy_preview(self, deploy: Deploy) -> list[tuple[str, bytes | None]] | None:
        return preview(self.workspace, deploy.hunks or (), deploy.include) if self.workspace else None

    async def close(self) -> None:
        for task in list(self._gate.tasks if self._gate else ()):
            task.cancel()
        if self.workspace is not None:
            self.workspace.close()
