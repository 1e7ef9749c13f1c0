"""The fast tier's doubles: a FakeSandbox that runs nothing, and a real AgentLoop built on it with a ScriptedModel.

Everything else is real (workspace snapshots and diffs, the controller, the permission gate, the conversation),
so the loop's logic is tested in milliseconds; the real sandboxes are the second tier."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Union

from tui_agent.agent.breakpoints import Breakpoints
from tui_agent.agent.control import Controller
from tui_agent.agent.gate import PERSON, WhoAnswers
from tui_agent.agent.loop import AgentLoop
from tui_agent.agent.setup import LoopConfig, LoopParts
from tui_agent.commands import Command, Reply
from tui_agent.config import Criteria
from tui_agent.events import Event, Finished
from tui_agent.models.scripted import ScriptedModel
from tui_agent.sandbox.base import OutputCallback, RunResult
from tui_agent.tools.permissions.policy import Policy
from tui_agent.workspace.workspace import Workspace

FAILING = "Traceback (most recent call last):\nAssertionError: VALUE is 0\n"


@dataclass(frozen=True)
class Outcome:
    """What one run in the FakeSandbox gives: an exit code and output, or the sandbox's own failure."""

    exit_code: int | None = 0
    output: str = ""
    error: str | None = None
    timed_out: bool = False


Answer = Union[Outcome, Callable[[str], Outcome]]  # or computed from the command


class FakeSandbox:
    """A Sandbox that runs nothing: each run answers with the next queued outcome (the last one repeats).

    With `blocking`, a run waits until it is cancelled (a stop during the check)."""

    name = "fake"

    def __init__(self, *answers: Answer) -> None:
        self.answers: list[Answer] = list(answers) or [Outcome()]
        self.commands: list[str] = []
        self.blocking = False
        self.cancelled = 0

    def enqueue(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    async def start(self) -> None:
        return None

    async def run(self, command: str, on_output: OutputCallback, timeout_s: float | None = None) -> RunResult:
        self.commands.append(command)
        if self.blocking:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        outcome = answer(command) if callable(answer) else answer
        if outcome.output:
            on_output("stderr" if outcome.exit_code else "stdout", outcome.output)
        return RunResult(outcome.exit_code, 0.001, outcome.timed_out, error=outcome.error)

    async def close(self) -> None:
        return None


@dataclass
class FastRun:
    """A loop on a small project, a FakeSandbox and a ScriptedModel; `events` is everything it emitted."""

    loop: AgentLoop
    model: ScriptedModel
    sandbox: FakeSandbox
    workspace: Workspace
    events: list[Event] = field(default_factory=list)
    task: asyncio.Future[Finished] | None = None

    @property
    def control(self) -> Controller:
        return self.loop.control

    def send(self, command: Command) -> Reply:
        return self.control.send(command)

    def start(self) -> None:
        self.task = asyncio.ensure_future(self.loop.run())

    async def finish(self, timeout: float = 10.0) -> Finished:
        if self.task is None:
            self.start()
        assert self.task is not None
        return await asyncio.wait_for(self.task, timeout)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def types(self) -> list[str]:
        return [e.type for e in self.events if e.type not in ("output", "model_delta")]

    async def until(self, predicate: Callable[[], bool], what: str = "", timeout: float = 5.0) -> None:
        """Let the loop run until predicate() holds (it is polled between the loop's steps)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if self.task is not None and self.task.done():
                self.task.result()  # a loop that crashed says why
                raise AssertionError(f"the loop finished before {what or predicate}: {self.types()}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}: {self.types()}")
            await asyncio.sleep(0.001)


def edit(old: str, new: str, path: str = "app.py") -> dict:
    return {"name": "edit_file", "arguments": {"path": path, "old_string": old, "new_string": new}}


def value_check(workspace: Workspace, passing: str = "VALUE = 1") -> Callable[[str], Outcome]:
    """A check that passes once app.py holds `passing` (read from the workspace, as the real check would)."""

    def check(command: str) -> Outcome:
        if passing in workspace.files.read_text("app.py"):
            return Outcome(0, "ok\n")
        return Outcome(1, FAILING)

    return check


def build(tmp_path: Path, *, turns: tuple[dict, ...] | list[dict] = (), checks: tuple[Answer, ...] = (),
          who: WhoAnswers = PERSON, policy: Policy | None = None, breakpoints: tuple[str, ...] = (),
          step: bool = False, files: dict[str, str] | None = None, max_turns: int = 30,
          **criteria: object) -> FastRun:
    """A FastRun on a fresh copy of a one-file project; `checks` default to value_check (passes at VALUE = 1)."""
    project = tmp_path / "project"
    project.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {"app.py": "VALUE = 0\n"}).items():
        (project / rel).write_text(text)
    workspace = Workspace.create(project, tmp_path / "session")
    sandbox = FakeSandbox(*checks) if checks else FakeSandbox(value_check(workspace))
    model = ScriptedModel(list(turns))
    control = Controller(who=who, policy=policy or Policy(allow=["edit_file"]),
                         breakpoints=Breakpoints.parse(list(breakpoints)), start_paused=step)
    config = LoopConfig("make the check pass", "check", Criteria(**{"no_progress": 0, **criteria}),  # type: ignore[arg-type]
                        "fake", "fast-session", max_turns=max_turns)
    run = FastRun(AgentLoop(config, LoopParts(model, sandbox, workspace), control), model, sandbox, workspace)
    run.loop.subscribe(run.events.append)
    return run
