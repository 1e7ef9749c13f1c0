"""One check and, when it fails, one fix attempt in watch mode: an AgentLoop built like `run`'s, per change."""

from __future__ import annotations

from tui_agent.agent.control import Controller
from tui_agent.events import Event, Finished, FixApplied, SessionStarted
from tui_agent.agent.loop import AgentLoop
from tui_agent.tools.builtin import BuiltinTools
from tui_agent.tools.toolbox import Toolbox


class FixRound(AgentLoop):
    """An AgentLoop whose baseline is the check the watcher just ran (run_check(), then run() if it failed).

    run() does not re-run that check nor emit SessionStarted, and its end emits Finished but no
    DeployReady: the watcher offers the fix itself, once the person's queued edits are settled."""

    async def run_check(self) -> bool:
        """The folder's check (iteration 0): CheckStarted, OutputChunk..., CheckFinished; raises BadCheck
        (command not found), SandboxFailed or StopRequested like the loop's baseline check."""
        return await self._check(0)

    def emit(self, event: Event) -> None:
        if isinstance(event, FixApplied):
            self.workspace.drop_bytecode(event.files)  # the check right after must not run stale bytecode
        super().emit(event)

    async def _baseline(self) -> None:
        self.snapshot = self.first_snapshot = self.workspace.snapshot()

    def _finish(self, outcome: str, reason: str) -> Finished:
        p = self.progress
        finished = Finished(outcome, reason, p.iterations, round(p.cost_usd, 6), round(self._elapsed(), 3))
        self.emit(finished)
        return finished


def new_round(run, sink, *, interactive: bool) -> FixRound:
    """A FixRound with the run's model, sandbox, workspace, policy and tools, and a controller of its own."""
    base: AgentLoop = run.loop
    control = Controller(interactive=interactive, breakpoints=base.control.breakpoints)
    others = [p for p in base.toolbox.providers if not isinstance(p, BuiltinTools)]  # e.g. MCP servers
    toolbox = Toolbox(others)
    loop = FixRound(
        goal=base.goal, check=base.check, criteria=base.criteria, model=base.model, sandbox=base.sandbox,
        sandbox_name=base.sandbox_name, workspace=run.workspace, toolbox=toolbox, policy=base.policy,
        control=control, session_id=base.session_id, max_turns=base.max_turns,
        context_tokens=base.context_tokens, timeout_s=base.timeout_s, options=base.options,
    )
    toolbox.providers.insert(0, BuiltinTools(run.workspace, run=loop.run_command, on_plan=loop.plan_updated))
    loop.subscribe(sink)
    loop.conversation.apply(start_event(run))  # the goal opens the round's conversation, as in `run`
    return loop


def start_event(run, **options) -> SessionStarted:
    base: AgentLoop = run.loop
    return SessionStarted(base.session_id, str(run.workspace.project), base.goal, base.check, base.model.name,
                          base.sandbox_name, str(run.workspace.path), base.criteria.to_dict(),
                          {**base.options, **options})
