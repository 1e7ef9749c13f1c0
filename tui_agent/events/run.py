"""The events of a run: its start, the plan, each iteration's check and fix, pause and resume, deploy, the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from tui_agent.events.record import Event


# --- session -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session_id: str
    project: str
    goal: str
    check: str
    model: str
    sandbox: str
    workspace: str
    criteria: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)  # the other settings a resume needs (permissions, limits)
    parent: str | None = None  # session this one was forked or resumed from
    fork_at: int | None = None


@dataclass(frozen=True)
class SessionResumed(Event):
    """The session continues (after a kill or a stop) from the end of this whole iteration."""

    type: ClassVar[str] = "session_resumed"
    iteration: int
    snapshot: str


@dataclass(frozen=True)
class PlanUpdated(Event):
    type: ClassVar[str] = "plan_updated"
    steps: tuple  # of {"title": str, "status": "pending" | "in_progress" | "done"}


@dataclass(frozen=True)
class IterationStarted(Event):
    type: ClassVar[str] = "iteration_started"
    iteration: int


# --- check ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckStarted(Event):
    type: ClassVar[str] = "check_started"
    iteration: int
    command: str
    sandbox: str


@dataclass(frozen=True)
class OutputChunk(Event):
    """Sanitised sandbox output (SGR colours kept, other control sequences removed)."""

    type: ClassVar[str] = "output"
    iteration: int
    stream: str  # "stdout" | "stderr"
    text: str


@dataclass(frozen=True)
class CheckFinished(Event):
    type: ClassVar[str] = "check_finished"
    iteration: int
    exit_code: int | None
    passed: bool
    duration_s: float
    timed_out: bool = False
    truncated: bool = False
    error: str | None = None  # the sandbox itself failed (not the checked code)
    output_tail: str = ""  # bounded head+tail of the output, the next model input


@dataclass(frozen=True)
class FixApplied(Event):
    """What the workspace changed during one iteration: the fix, as a unified diff."""

    type: ClassVar[str] = "fix_applied"
    iteration: int
    diff: str
    files: tuple  # changed paths, relative to the workspace
    snapshot: str = ""  # id of the workspace snapshot after this iteration


@dataclass(frozen=True)
class IterationFinished(Event):
    type: ClassVar[str] = "iteration_finished"
    iteration: int
    passed: bool
    cost_usd: float  # total so far
    elapsed_s: float
    snapshot: str = ""


# --- control -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paused(Event):
    type: ClassVar[str] = "paused"
    reason: str  # "person" | "step" | "breakpoint: ..." | "no progress"
    iteration: int = 0


@dataclass(frozen=True)
class Resumed(Event):
    type: ClassVar[str] = "resumed"
    stepping: bool = False


@dataclass(frozen=True)
class ModeChanged(Event):
    """The person switched the permission mode (auto, ask, plan) while the run goes on."""

    type: ClassVar[str] = "mode_changed"
    mode: str


@dataclass(frozen=True)
class DeployReady(Event):
    type: ClassVar[str] = "deploy_ready"
    diff: str
    files: tuple
    flagged: tuple = ()  # (path, why, content) of each file deployed only when the person checks it
    refused: tuple = ()  # (path, why) never deployed (control characters in the name, git internals, specials)
    # the per-hunk review, per file: (path, kind, key ("base sha:new sha"), flagged why,
    # ((hunk as a diff shows it, its new text), ...))
    review: tuple = ()


@dataclass(frozen=True)
class Deployed(Event):
    type: ClassVar[str] = "deployed"
    files: tuple
    by: str = "person"
    left_out: tuple = ()  # (path, why): not deployed (unchecked, a deny rule, refused)


@dataclass(frozen=True)
class DeployRefused(Event):
    type: ClassVar[str] = "deploy_refused"
    reason: str
    recheck_failed: bool = False  # the check failed on the accepted subset: the person may deploy anyway


@dataclass(frozen=True)
class Undone(Event):
    """The person's folder is back as it was before the last deploy (or undo: `of` says which)."""

    type: ClassVar[str] = "undone"
    files: tuple
    of: str = "deploy"


@dataclass(frozen=True)
class UndoRefused(Event):
    type: ClassVar[str] = "undo_refused"
    reason: str


@dataclass(frozen=True)
class Finished(Event):
    type: ClassVar[str] = "finished"
    outcome: str  # "met" | "stopped" | "error" | "invalid" (bad input found while running: exit 2)
    reason: str
    iterations: int
    cost_usd: float
    elapsed_s: float


@dataclass(frozen=True)
class Error(Event):
    type: ClassVar[str] = "error"
    message: str
    fatal: bool = False
    iteration: int | None = None


@dataclass(frozen=True)
class RecheckStarted(Event):
    """Before a per-hunk deploy writes anything: the check runs on exactly the accepted subset (its output streams
    as OutputChunk of `iteration`)."""

    type: ClassVar[str] = "recheck_started"
    iteration: int
    command: str
    files: tuple  # the paths the subset changes


@dataclass(frozen=True)
class RecheckFinished(Event):
    type: ClassVar[str] = "recheck_finished"
    iteration: int
    passed: bool
    exit_code: int | None
    output: str  # the end of it


@dataclass(frozen=True)
class FeedbackGiven(Event):
    """The person rejected hunks and said why: the next iteration starts from this note instead of a deploy."""

    type: ClassVar[str] = "feedback_given"
    text: str
