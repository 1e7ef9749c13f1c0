"""What the screen shows, folded from the event stream (plain Python: no widgets, no loop logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # events are handled by their type name (_on_<type>): the event modules load with the first event
    from tui_agent.events import (
        CheckFinished, CheckStarted, Deployed, DeployReady, DeployRefused, EnvDetected, EnvFailed, EnvReady, EnvStep,
        Error, Event, Finished, FixApplied, IterationFinished, IterationStarted, ModelDelta, ModelRequested,
        ModelResponded, ModelRetrying, Paused, ModeChanged, PlanUpdated, QuestionAnswered, QuestionAsked, Resumed,
        SamplingSpent, SessionResumed, SessionStarted, ToolCallDecided, ToolCallFinished, ToolCallRequested,
        ToolProgress,
    )

ACTIVITY_CHARS = 400


@dataclass
class Fix:
    """One iteration's fix, linked to the failing check output that caused it."""

    iteration: int
    diff: str
    files: tuple
    cause: CheckFinished | None = None


@dataclass
class Decision:
    call_id: str
    name: str
    decision: str
    by: str
    rule: str | None
    summary: str


def summarize(name: str, arguments: dict) -> str:
    """A one-line description of a tool call, e.g. `edit_file calc.py`."""
    arguments = arguments if isinstance(arguments, dict) else {}
    for key in ("path", "command", "url"):
        if isinstance(arguments.get(key), str):
            value = arguments[key].splitlines()[0] if arguments[key] else ""
            return f"{name} {value[:60]}"
    if name == "update_plan":
        return f"{name} ({len(arguments.get('steps', ()))} steps)"
    return name


@dataclass
class RunState:
    goal: str = ""
    check: str = ""
    project: str = ""
    model: str = ""
    sandbox: str = ""
    criteria: dict = field(default_factory=dict)
    plan: tuple = ()
    activity: str = ""
    last_tool: str = ""
    iteration: int = 0
    iterations_done: int = 0
    checking: bool = False
    paused: bool = False
    pause_reason: str = ""
    pause_requested: bool = False
    stop_requested: bool = False
    cost_usd: float = 0.0
    elapsed_s: float = 0.0
    checks: dict[int, CheckFinished] = field(default_factory=dict)
    fixes: list[Fix] = field(default_factory=list)
    requested: dict[str, ToolCallRequested] = field(default_factory=dict)
    pending: dict[str, ToolCallRequested] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    questions: dict[str, QuestionAsked] = field(default_factory=dict)  # MCP servers' questions waiting for the person
    deploy_ready: DeployReady | None = None
    deployed: Deployed | None = None
    deploy_refused: str = ""
    finished: Finished | None = None
    errors: list[str] = field(default_factory=list)
    fatal_error: str = ""  # the error that ended the run (model or sandbox), shown until the end
    retrying: ModelRetrying | None = None  # the model call being retried after a transient fault
    progress: str = ""  # the latest progress or log line of a tool or an MCP server
    servers: tuple = ()  # the MCP servers (ServerStatus), read from the run by the app
    restarting: set[str] = field(default_factory=set)  # MCP servers the person restarted, until ready or failed
    started: bool = False
    replay: bool = False  # a recorded session played again: nothing runs
    answered_ahead: dict[str, str] = field(default_factory=dict)  # call id -> answer given at a breakpoint
    env_building: str = ""  # the environment step under way ("" when no build runs)
    mode: str = ""  # the permission mode: auto | ask | plan ("" for a session recorded before modes)
    dirty: set[str] = field(default_factory=set)

    # --- derived -------------------------------------------------------------------------

    @property
    def last_check(self) -> CheckFinished | None:
        return self.checks[max(self.checks)] if self.checks else None

    @property
    def at_breakpoint(self) -> bool:
        return self.paused and self.pause_reason.startswith("breakpoint")

    @property
    def phase(self) -> str:
        """The state word of the status line."""
        if self.deployed is not None:
            return "deployed"
        if self.finished is not None:
            return "ready to deploy" if self.deploy_ready is not None else f"done: {self.finished.outcome}"
        if self.stop_requested:
            return "stopping"
        if self.at_breakpoint:
            return "at breakpoint"
        if self.pending or self.questions:
            return "waiting for approval"
        if self.paused:
            return "paused"
        if self.pause_requested:
            return "pausing"
        if not self.started:
            return "starting"
        if self.env_building:
            return "building environment"
        if self.retrying is not None:
            return "retrying model"
        return "checking" if self.checking else "running"

    def forget_asked(self) -> None:
        """A resumed run asks again what it asked before the kill (tool calls, servers' questions)."""
        self.pending.clear()
        self.questions.clear()

    # --- folding -------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        handler = getattr(self, "_on_" + event.type, None)
        if handler is not None:
            handler(event)
        self.dirty.add("status")

    def _on_session_started(self, e: SessionStarted) -> None:
        self.goal, self.check, self.project, self.model = e.goal, e.check, e.project, e.model
        self.sandbox, self.criteria, self.started = e.sandbox, dict(e.criteria), True
        self.mode = str(e.options.get("mode", ""))
        self.dirty.add("plan")

    def _on_mode_changed(self, e: ModeChanged) -> None:
        self.mode = e.mode
        self.dirty.add("perms")

    def _on_session_resumed(self, e: SessionResumed) -> None:
        self.started, self.iterations_done = True, e.iteration

    def _on_plan_updated(self, e: PlanUpdated) -> None:
        self.plan = tuple(e.steps)
        self.dirty.add("plan")

    def _on_iteration_started(self, e: IterationStarted) -> None:
        self.iteration, self.activity, self.progress = e.iteration, "", ""
        self.dirty.add("plan")

    def _on_model_requested(self, e: ModelRequested) -> None:
        self.activity = ""
        self.dirty.add("plan")

    def _on_model_delta(self, e: ModelDelta) -> None:
        self.activity = (self.activity + e.text)[-ACTIVITY_CHARS:]
        self.dirty.add("plan")

    def _on_model_responded(self, e: ModelResponded) -> None:
        self.cost_usd += e.cost_usd
        if self.retrying is not None:
            self.retrying = None
            self.dirty.add("plan")

    def _on_model_retrying(self, e: ModelRetrying) -> None:
        self.retrying = e
        self.dirty.add("plan")

    def _on_tool_progress(self, e: ToolProgress) -> None:
        lines = [line for line in e.message.splitlines() if line.strip()]
        self.progress = f"{e.source}: {lines[-1][:200] if lines else ''}"
        self.dirty.add("plan")
        if e.source.startswith("mcp:"):
            self.dirty.add("mcp")

    def _on_tool_call_requested(self, e: ToolCallRequested) -> None:
        self.requested[e.call_id] = e
        self.pending[e.call_id] = e
        self.last_tool = summarize(e.name, e.arguments)
        self.dirty.update({"perms", "plan"})

    def _on_tool_call_decided(self, e: ToolCallDecided) -> None:
        self.pending.pop(e.call_id, None)
        self.answered_ahead.pop(e.call_id, None)
        asked = self.requested.get(e.call_id)
        summary = summarize(e.name, asked.arguments if asked else {}) + (" (edited)" if e.arguments is not None else "")
        self.decisions.append(Decision(e.call_id, e.name, e.decision, e.by, e.rule, summary))
        self.dirty.add("perms")

    def _on_tool_call_finished(self, e: ToolCallFinished) -> None:
        asked = self.requested.pop(e.call_id, None)
        self.last_tool = summarize(e.name, asked.arguments if asked else {}) + (" failed" if e.is_error else " done")
        if e.is_error and e.result.strip():
            self.last_tool += ": " + e.result.strip().splitlines()[0][:80]
        self.dirty.add("plan")

    def _on_question_asked(self, e: QuestionAsked) -> None:
        self.questions[e.question_id] = e
        self.dirty.update({"perms", "plan"})

    def _on_question_answered(self, e: QuestionAnswered) -> None:
        self.questions.pop(e.question_id, None)
        summary = f"{e.server} question {e.question_id}"
        self.decisions.append(Decision(e.question_id, e.server, e.action, e.by, None, summary))
        self.dirty.add("perms")

    def _on_sampling_spent(self, e: SamplingSpent) -> None:
        self.cost_usd += e.cost_usd

    def _on_check_started(self, e: CheckStarted) -> None:
        self.checking = True

    def _on_check_finished(self, e: CheckFinished) -> None:
        self.checking = False
        self.checks[e.iteration] = e
        self.dirty.add("fixes")

    def _on_fix_applied(self, e: FixApplied) -> None:
        self.fixes.append(Fix(e.iteration, e.diff, tuple(e.files), self.checks.get(e.iteration - 1)))
        self.dirty.add("fixes")

    def _on_iteration_finished(self, e: IterationFinished) -> None:
        self.iterations_done, self.elapsed_s = e.iteration, e.elapsed_s
        self.cost_usd = max(self.cost_usd, e.cost_usd)

    def _on_paused(self, e: Paused) -> None:
        self.paused, self.pause_requested, self.pause_reason = True, False, e.reason

    def _on_resumed(self, e: Resumed) -> None:
        self.paused, self.pause_reason = False, ""

    def _on_deploy_ready(self, e: DeployReady) -> None:
        self.deploy_ready = e
        self.dirty.add("fixes")

    def _on_deployed(self, e: Deployed) -> None:
        self.deployed, self.deploy_refused = e, ""

    def _on_undone(self, e: object) -> None:
        self.deployed = None  # the folder is back: the changes can be deployed again

    def _on_deploy_refused(self, e: DeployRefused) -> None:
        self.deploy_refused = e.reason

    def _on_finished(self, e: Finished) -> None:
        self.finished, self.elapsed_s, self.paused, self.checking = e, e.elapsed_s, False, False
        self.cost_usd, self.retrying = e.cost_usd, None
        if e.outcome == "error" and not self.fatal_error:
            self.fatal_error = e.reason
        self.pending.clear()
        self.questions.clear()
        self.answered_ahead.clear()
        self.dirty.update({"perms", "plan"})

    def _on_env_detected(self, e: EnvDetected) -> None:
        self.env_building = "" if e.cached else "start"

    def _on_env_step(self, e: EnvStep) -> None:
        self.env_building = self.progress = f"environment: {e.step}"
        self.dirty.add("plan")

    def _on_env_ready(self, e: EnvReady) -> None:
        self.env_building, self.progress = "", ""

    def _on_env_failed(self, e: EnvFailed) -> None:
        self.env_building, self.progress = "", ""

    def _on_error(self, e: Error) -> None:
        self.errors.append(e.message)
        if e.fatal:
            self.fatal_error, self.retrying = e.message, None
            self.dirty.add("plan")
