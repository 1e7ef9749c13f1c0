"""A watch round: one fix attempt, an AgentLoop built like `run`'s (same parts and rules), its own controller."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from tui_agent.agent.loop import AgentLoop
from tui_agent.events import Event, FixApplied
from tui_agent.runner import Run
from tui_agent.workspace import bytecode


def new_round(run: Run, sink: Callable[[Event], None]) -> AgentLoop:
    """A fix round on the run's model, sandbox, workspace and tools: `check(0)`, then `run()` if it failed.

    Its run() does not re-run that check nor emit SessionStarted, and its end emits Finished but no
    DeployReady: the watcher offers the fix itself, once the person's queued edits are settled."""
    loop = AgentLoop(replace(run.loop.config, fix_round=True), run.loop.parts, run.control.for_round())

    def drop_stale_bytecode(event: Event) -> None:
        if isinstance(event, FixApplied):  # the check right after must not run stale bytecode
            bytecode.drop(run.workspace.path, event.files)

    loop.subscribe(drop_stale_bytecode)
    loop.subscribe(sink)
    return loop
