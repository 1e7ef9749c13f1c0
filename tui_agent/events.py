"""The frozen events the loop emits; the TUI, headless mode, the session recorder and tests consume them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Record:
    """Plain data with a stable `type` name that round-trips through JSON: the events here, and commands."""

    type: ClassVar[str] = "record"
    registry: ClassVar[dict[str, type]] = {}  # each direct subclass of Record keeps its own

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.registry[cls.type] = cls

    def to_dict(self) -> dict[str, Any]:
        data = {"type": self.type}
        for f in dataclasses.fields(self):
            data[f.name] = _plain(getattr(self, f.name))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        kind = cls.registry.get(data.get("type", ""))
        if kind is None or not issubclass(kind, cls) or kind is cls:
            raise ValueError(f"unknown {cls.__name__.lower()} type {data.get('type')!r}")
        names = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: _freeze(v) for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Event(Record):
    """Base class of what the loop emits: every event has a stable `type` name and round-trips through JSON."""

    type: ClassVar[str] = "event"
    registry: ClassVar[dict[str, type]] = {}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


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


# --- model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRequested(Event):
    """The exact request about to be sent to the model (for the inspector)."""

    type: ClassVar[str] = "model_requested"
    iteration: int
    turn: int
    request: dict


@dataclass(frozen=True)
class ModelDelta(Event):
    """Text streamed by the model as it arrives."""

    type: ClassVar[str] = "model_delta"
    iteration: int
    text: str


@dataclass(frozen=True)
class ModelResponded(Event):
    """One whole model turn: its content blocks (Anthropic format), usage and cost."""

    type: ClassVar[str] = "model_responded"
    iteration: int
    turn: int
    content: tuple  # content blocks: {"type": "text", ...} / {"type": "tool_use", ...}
    stop_reason: str
    usage: dict
    cost_usd: float
    duration_s: float = 0.0
    call_errors: dict = field(default_factory=dict)  # tool_use id -> why its call could not be parsed


@dataclass(frozen=True)
class ModelRetrying(Event):
    type: ClassVar[str] = "model_retrying"
    iteration: int
    attempt: int
    reason: str
    wait_s: float


# --- tools ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCallRequested(Event):
    type: ClassVar[str] = "tool_call_requested"
    iteration: int
    call_id: str
    name: str
    arguments: dict


@dataclass(frozen=True)
class ToolCallDecided(Event):
    type: ClassVar[str] = "tool_call_decided"
    call_id: str
    name: str
    decision: str  # "allow" | "deny"
    by: str  # "rule" | "person" | "headless" | "default"
    rule: str | None = None
    arguments: dict | None = None  # set when the person edited the arguments before allowing


@dataclass(frozen=True)
class ToolCallFinished(Event):
    type: ClassVar[str] = "tool_call_finished"
    iteration: int
    call_id: str
    name: str
    result: str
    is_error: bool = False
    duration_s: float = 0.0


@dataclass(frozen=True)
class ToolProgress(Event):
    """Progress or log line from a tool (e.g. an MCP server's notification)."""

    type: ClassVar[str] = "tool_progress"
    call_id: str | None
    source: str
    message: str


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
class DeployReady(Event):
    type: ClassVar[str] = "deploy_ready"
    diff: str
    files: tuple


@dataclass(frozen=True)
class Deployed(Event):
    type: ClassVar[str] = "deployed"
    files: tuple
    by: str = "person"


@dataclass(frozen=True)
class DeployRefused(Event):
    type: ClassVar[str] = "deploy_refused"
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


# --- project environment --------------------------------------------------------------------
# Before the baseline check: what was detected (env_detected), then either the cached environment (env_ready,
# cached) or its build: env_step as each step begins, env_output with batches of the live log, env_ready or
# env_failed (the run then ends with outcome "invalid", exit 2).


@dataclass(frozen=True)
class EnvDetected(Event):
    type: ClassVar[str] = "env_detected"
    kind: str  # devcontainer | dockerfile | uv | pyproject | requirements | setup
    source: str  # in words, e.g. "uv.lock (uv sync --frozen)"
    inputs: tuple  # the files whose content makes the key
    backend: str
    key: str
    cached: bool
    notes: tuple = ()  # e.g. devcontainer keys that are ignored


@dataclass(frozen=True)
class EnvStep(Event):
    type: ClassVar[str] = "env_step"
    step: str  # proxy | dockerfile | python | install | pip | setup | project


@dataclass(frozen=True)
class EnvOutput(Event):
    """Lines of the build log (sanitised), several per event."""

    type: ClassVar[str] = "env_output"
    text: str


@dataclass(frozen=True)
class EnvReady(Event):
    type: ClassVar[str] = "env_ready"
    key: str
    name: str  # the image, or the prefix folder
    cached: bool
    duration_s: float
    size_mb: float


@dataclass(frozen=True)
class EnvFailed(Event):
    type: ClassVar[str] = "env_failed"
    step: str
    message: str  # one line: the step, the reason, where the full log is
    log: str


@dataclass(frozen=True)
class EnvOutdated(Event):
    """The agent changed an environment input; the environment keeps what it was built from (no network now)."""

    type: ClassVar[str] = "env_outdated"
    files: tuple
    message: str


# --- watch mode ----------------------------------------------------------------------------
# A watch session emits the events above too: each check of the folder is CheckStarted/OutputChunk/
# CheckFinished with iteration 0, a fix attempt is an AgentLoop round (iterations 1.., ending in
# Finished), and a fix that passes is offered as DeployReady (diff against the person's folder).


@dataclass(frozen=True)
class WatchStarted(Event):
    """The folder is watched (file-system events are being received) from now on."""

    type: ClassVar[str] = "watch_started"
    session_id: str
    project: str
    check: str
    sandbox: str
    workspace: str
    auto_fix: bool
    watcher: str = "native"  # "native" (inotify and the like) or "polling"


@dataclass(frozen=True)
class ChangesSynced(Event):
    """The person's changes taken into the workspace (only these paths were copied); a check follows."""

    type: ClassVar[str] = "changes_synced"
    files: tuple  # written (new or changed)
    removed: tuple
    duration_ms: float = 0.0


@dataclass(frozen=True)
class ChangesQueued(Event):
    """Changes noticed while the check or the agent is busy: kept and taken into account afterwards."""

    type: ClassVar[str] = "changes_queued"
    paths: tuple
    reason: str


@dataclass(frozen=True)
class FixRefused(Event):
    """The person changed files the fix also changes: their version is kept and the fix dropped."""

    type: ClassVar[str] = "fix_refused"
    reason: str
    files: tuple  # the person's files that collided with the fix


@dataclass(frozen=True)
class FixRebased(Event):
    """The person changed other files than the fix's: those are taken in under the fix and the check re-runs."""

    type: ClassVar[str] = "fix_rebased"
    files: tuple  # the person's files taken in
    fix_files: tuple


@dataclass(frozen=True)
class AutoFixToggled(Event):
    type: ClassVar[str] = "auto_fix_toggled"
    on: bool


@dataclass(frozen=True)
class WatchStopped(Event):
    type: ClassVar[str] = "watch_stopped"
    reason: str
    checks: int  # how many times the check ran on a change (fix iterations not counted)
    passed: bool | None  # the last check's verdict (None: it never ran)
