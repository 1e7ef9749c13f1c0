"""What the watch screen shows, folded from the watcher's events (plain Python: no widgets, no polling)."""

from __future__ import annotations

from dataclasses import dataclass

from tui_agent.events import (
    AutoFixToggled, CheckFinished, CheckStarted, Deployed, DeployReady, Event, Finished, FixRebased, FixRefused,
    IterationStarted, Paused, Resumed, ToolCallDecided, ToolCallFinished, ToolCallRequested, WatchStarted,
    WatchStopped,
)


@dataclass
class WatchState:
    project: str = ""
    auto_fix: bool = True
    phase: str = "starting"  # starting | checking | fixing | idle | stopped
    passed: bool | None = None  # the last check's verdict (None: it never ran)
    checks: int = 0  # checks of the folder (a fix's own checks not counted)
    proposal: DeployReady | None = None  # a fix that passes, offered to the person
    asking: ToolCallRequested | None = None  # the tool call the agent waits on
    fix_paused: bool = False
    fix_iterations: int = 0  # of the last fix attempt
    fix_cost_usd: float = 0.0

    @property
    def busy(self) -> bool:
        return self.phase in ("starting", "checking", "fixing")

    @property
    def verdict(self) -> str:
        if self.proposal is not None:
            return "failing, a fix passes"
        return {True: "passing", False: "failing", None: "not checked yet"}[self.passed]

    def apply(self, event: Event) -> None:
        if isinstance(event, WatchStarted):
            self.project, self.auto_fix = event.project, event.auto_fix
        elif isinstance(event, CheckStarted) and event.iteration == 0:
            self.phase = "checking"
        elif isinstance(event, CheckFinished):
            self.passed = event.passed
            if event.iteration == 0:
                self.checks, self.phase = self.checks + 1, "idle"
        elif isinstance(event, IterationStarted):
            self.phase = "fixing"
        elif isinstance(event, Finished):
            self.phase, self.asking, self.fix_paused = "idle", None, False
            self.fix_iterations, self.fix_cost_usd = event.iterations, event.cost_usd
        elif isinstance(event, DeployReady):
            self.proposal = event
        elif isinstance(event, (Deployed, FixRefused, FixRebased)):
            self.proposal = None
        elif isinstance(event, AutoFixToggled):
            self.auto_fix = event.on
        elif isinstance(event, ToolCallRequested):
            self.asking = event
        elif isinstance(event, (ToolCallDecided, ToolCallFinished)):
            self.asking = None
        elif isinstance(event, (Paused, Resumed)):
            self.fix_paused = isinstance(event, Paused)
        elif isinstance(event, WatchStopped):
            self.phase, self.asking = "stopped", None
