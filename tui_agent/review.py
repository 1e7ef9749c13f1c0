"""ReviewRun: a finished session (e.g. a batch task) played at once, then the deploy gate on its kept workspace."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tui_agent import config
from tui_agent.commands import Command, Deploy, Reply
from tui_agent.events import Deployed, DeployReady, DeployRefused, Finished
from tui_agent.replay_run import ReplayRun
from tui_agent.tools.permissions.policy import Policy, PolicyError, denied_by
from tui_agent.workspace.deploy_risk import left_out, shown
from tui_agent.workspace.deploy_subset import deploy_whole
from tui_agent.workspace.workspace import DeployError, Workspace

NOT_MET = "only a session whose goal was met can be deployed (resume it to go on)"


class ReviewRun(ReplayRun):
    """A RunHandle: the recorded events, a DeployReady when the goal was met, and a real deploy on Deploy.

    Nothing runs and no model is called; the deploy is the same safe copy-back as at the end of a live run
    (refused if the project changed since the workspace was made)."""

    replay = False  # its deploy acts: the TUI offers the gate as for a live run

    def __init__(self, session_dir: Path):
        super().__init__(session_dir, speed=0.0)
        self.workspace: Workspace | None = None
        project = self.settings.project
        try:
            deploy_command = config.load(project).deploy_command if project.is_dir() else None
        except config.ConfigError:
            deploy_command = None
        self.settings = replace(self.settings, model=f"review of {self.session_dir.name}", sandbox="none (review)",
                                deploy_command=deploy_command)
        ends = [i for i, e in enumerate(self.events) if isinstance(e, Finished)]
        if ends and self.events[ends[-1]].outcome == "met":
            self.workspace = Workspace.open(self.session_dir)
            diff, files = self.workspace.diff(self.workspace.baseline)
            plan = self.workspace.plan_deploy()
            self.events.insert(ends[-1], DeployReady(diff, tuple(files), shown(self.workspace.path, plan),
                                                     tuple(plan.skipped)))

    def send(self, command: Command) -> Reply:
        if isinstance(command, Deploy):
            if command.hunks is not None:  # never the whole change in place of the person's subset
                self._emit(DeployRefused("a review of a finished session deploys whole; no per-hunk deploy here"))
                return Reply(False, "no per-hunk deploy in a review")
            return self._deploy(command.include)
        return super().send(command)

    def _deploy(self, include: tuple = ()) -> Reply:
        if self.workspace is None:
            self._emit(DeployRefused(NOT_MET))
            return Reply(False, NOT_MET)
        try:
            project = self.settings.project
            settings = config.load(project)  # the person's rules as they are now, the project's only if trusted
            policy = Policy.load(project, settings.permissions, trusted=settings.project_trusted)
            skip = left_out(self.workspace.plan_deploy(), include, denied_by(policy))
            files = deploy_whole(self.workspace, skip)  # undo data kept
        except (DeployError, config.ConfigError, PolicyError) as exc:
            self._emit(DeployRefused(str(exc)))
            return Reply(False, str(exc))
        plan = self.workspace.last_plan
        self._emit(Deployed(tuple(files), left_out=tuple(plan.skipped) if plan else ()))
        return Reply(True, f"{len(files)} file(s)")

    def changes(self) -> str:
        return self.workspace.diff(self.workspace.baseline)[0] if self.workspace else super().changes()

    async def close(self) -> None:
        if self.workspace is not None:
            self.workspace.close()
