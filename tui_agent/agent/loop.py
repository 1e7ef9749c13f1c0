"""The agent loop: model turns and tool calls, a check in the sandbox, the fix's diff, until a criterion stops it."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable

from tui_agent.agent.bounds import bound_result, bound_turn, shorten
from tui_agent.agent.context import fit, trim_output
from tui_agent.agent.control import Controller, StopRequested
from tui_agent.agent.conversation import Conversation, system_prompt
from tui_agent.agent.output import OutputBuffer
from tui_agent.agent.setup import LoopConfig, LoopParts
from tui_agent.agent.termination import Progress, check_passed
from tui_agent.config import ConfigError
from tui_agent.events import (
    CheckFinished, CheckStarted, DeployReady, Error, Event, FeedbackGiven, Finished, FixApplied, IterationFinished,
    IterationStarted, ModelDelta, ModelRequested, ModelResponded, ModelRetrying, OutputChunk, PlanUpdated,
    SessionResumed, SessionStarted, SamplingSpent, ToolCallFinished, ToolCallRequested, ToolProgress,
)
from tui_agent.models.base import ModelError, ModelRequest, ModelTurn, ToolCall
from tui_agent.sandbox.base import RunResult
from tui_agent.tools.base import ToolResult
from tui_agent.tools.builtin import BuiltinTools
from tui_agent.tools.toolbox import Toolbox
from tui_agent.workspace.deploy_risk import shown
from tui_agent.workspace.deploy_subset import review_of

NOT_FOUND = 127  # the shell's "command not found"


class SandboxFailed(Exception):
    """The sandbox itself failed during the check (e.g. the engine stopped): the session ends, resumable."""


class BadCheck(Exception):
    """The check command cannot run at all (not found in the sandbox): bad input, exit 2."""


class AgentLoop:
    """One loop with its tools (the built-ins on its workspace and sandbox, then `parts.tools`)."""

    def __init__(self, config: LoopConfig, parts: LoopParts, control: Controller) -> None:
        self.config, self.parts, self.control = config, parts, control
        self.model, self.sandbox, self.workspace = parts.model, parts.sandbox, parts.workspace
        self.toolbox = Toolbox([BuiltinTools(parts.workspace.files, run=self.run_command, on_plan=self.plan_updated),
                                *parts.tools])
        self.system = system_prompt(config.goal, config.check, config.criteria.pass_pattern)
        self.conversation = Conversation()
        self.progress = Progress(config.criteria)
        self.snapshot = self.first_snapshot = ""
        self.sinks: list[Callable[[Event], None]] = []
        self._thread = threading.get_ident()
        self._aloop: asyncio.AbstractEventLoop | None = None
        self._sent = 0  # messages already shown in an earlier ModelRequested event
        self._start = time.monotonic()
        self._resumed = False
        control.bind(self.emit)
        if config.fix_round:
            self.conversation.apply(self.session_started())  # the goal opens the round's conversation, as in a run

    # --- events --------------------------------------------------------------------------

    def subscribe(self, sink: Callable[[Event], None]) -> None:
        self.sinks.append(sink)

    def emit(self, event: Event) -> None:
        """Deliver an event to the conversation and every sink, on the loop's thread."""
        if threading.get_ident() != self._thread and self._aloop is not None:
            self._aloop.call_soon_threadsafe(self.emit, event)
            return
        self.conversation.apply(event)
        for sink in self.sinks:
            sink(event)

    def restore(self, events: list[Event]) -> None:
        """Resume: apply the recorded events of the whole iterations (see sessions.recorder.whole_iterations)."""
        for event in events:
            self.conversation.apply(event)
            if isinstance(event, (ModelResponded, SamplingSpent)):
                self.progress.cost_usd += event.cost_usd
            elif isinstance(event, IterationFinished):
                self.progress.iterations, self.snapshot = event.iteration, event.snapshot
                self.first_snapshot = self.first_snapshot or event.snapshot
        self.workspace.restore(self.snapshot)
        self._sent = len(self.conversation.messages)
        self._resumed = True

    def session_started(self, **options: object) -> SessionStarted:
        c, ws = self.config, self.workspace
        return SessionStarted(c.session_id, str(ws.project), c.goal, c.check, self.model.name, c.sandbox_name,
                              str(ws.path), c.criteria.to_dict(), {**c.options, **options})

    # --- the loop ------------------------------------------------------------------------

    async def run(self) -> Finished:
        self._aloop, self._thread, self._start = asyncio.get_running_loop(), threading.get_ident(), time.monotonic()
        return await self._go(opening=True)

    async def go_on(self, note: FeedbackGiven) -> Finished:
        """After the run finished: the person's feedback (rejected hunks, why) starts another iteration."""
        self.emit(note)
        return await self._go(opening=False)

    async def _go(self, opening: bool) -> Finished:
        outcome, reason = "stopped", ""
        try:
            if opening:
                await self._open()
            while True:
                k = self.progress.iterations + 1
                await self.control.at("iteration", k)
                if await self._iteration(k):
                    outcome, reason = "met", "the check passes"
                    break
                if why := self.progress.stop_reason():
                    reason = why
                    break
                if why := self.progress.no_progress():
                    self.control.ask_to_go_on(why)  # the person decides at the next point; headless stops here
                    self.progress.forgive()
        except StopRequested as exc:
            reason = exc.reason
        except (BadCheck, ConfigError) as exc:  # ConfigError: e.g. the project's environment failed to build
            outcome, reason = "invalid", str(exc)
        except (ModelError, SandboxFailed, OSError) as exc:
            if isinstance(exc, OSError):  # the session's snapshots (e.g. a full disk)
                outcome, reason = "error", f"cannot save the session: {exc.strerror or exc}"
            else:
                outcome, reason = "error", f"{'model' if isinstance(exc, ModelError) else 'sandbox'} error: {exc}"
            self.emit(Error(reason, fatal=True, iteration=self.progress.iterations + 1))
        return self._finish(outcome, reason)

    async def _iteration(self, k: int) -> bool:
        self.emit(IterationStarted(k))
        for turn in range(1, self.config.max_turns + 1):
            await self.control.at("turn", k)
            response = await self._model_turn(k, turn)
            if not response.tool_calls:
                break
            for call in response.tool_calls:
                await self._tool_call(k, call)
            self.progress.elapsed_s = self._elapsed()
            if self.progress.over_budget() or self.progress.out_of_time():
                raise StopRequested(self.progress.stop_reason() or "limit reached")
        await self.control.at("fix", k)
        self.snapshot, diff, files = self.workspace.snapshot_with_diff(self.snapshot)
        self.emit(FixApplied(k, diff, tuple(files), self.snapshot))
        if self.parts.environment is not None and (outdated := self.parts.environment.outdated(files)):
            self.emit(outdated)
            self.control.hold("environment inputs changed")  # the person decides; headless goes on
        await self.control.at("check", k)
        passed = await self.check(k)
        await self.control.at("failure", k, passed=passed)  # a breakpoint here pauses before the next iteration
        self.progress.iterations, self.progress.elapsed_s = k, self._elapsed()
        self.emit(IterationFinished(k, passed, round(self.progress.cost_usd, 6), round(self._elapsed(), 3),
                                    self.snapshot))
        return passed

    async def prepare_environment(self) -> None:
        """The project's environment, from the cache or built now (its events stream live); then the sandbox starts."""
        if self.parts.environment is not None:
            await self.parts.environment.prepare(self.emit, self.workspace)

    async def _open(self) -> None:
        """Say where the session starts; start the tools; check the untouched workspace (iteration 0)."""
        if self._resumed:
            self.emit(SessionResumed(self.progress.iterations, self.snapshot))
        elif not self.config.fix_round:
            self.emit(self.session_started())
        if not self.config.fix_round:  # a watch round's environment is the watcher's, ready before its first check
            await self.prepare_environment()
        await self.toolbox.start()
        if self._resumed:
            return
        self.snapshot = self.first_snapshot = self.workspace.snapshot()
        if not self.config.fix_round:  # a watch round starts from the check the watcher just ran
            passed = await self.check(0)
            self.emit(IterationFinished(0, passed, 0.0, round(self._elapsed(), 3), self.snapshot))

    def _finish(self, outcome: str, reason: str) -> Finished:
        if outcome == "met" and self.control.who.present and not self.config.fix_round:
            diff, files = self.workspace.diff(self.first_snapshot)
            plan = self.workspace.plan_deploy()
            self.emit(DeployReady(diff, tuple(files), shown(self.workspace.path, plan), tuple(plan.skipped),
                                  review_of(self.workspace, plan)))
        p = self.progress
        finished = Finished(outcome, reason, p.iterations, round(p.cost_usd, 6), round(self._elapsed(), 3))
        self.emit(finished)
        return finished

    def _elapsed(self) -> float:
        return time.monotonic() - self._start

    # --- one model turn, one tool call ---------------------------------------------------

    async def _model_turn(self, k: int, turn: int) -> ModelTurn:
        messages = self.conversation.messages
        request = ModelRequest(self.system, fit(messages, self.config.context_tokens), self.toolbox.specs())
        shown = {"new_messages": messages[self._sent:], "message_count": len(request.messages),
                 "tools": [t.name for t in request.tools], "max_tokens": request.max_tokens}
        if self._sent == 0:
            shown["system"] = self.system
        self._sent = len(messages)
        self.emit(ModelRequested(k, turn, shown))
        started = time.monotonic()
        response = await self.model.complete(
            request,
            on_delta=lambda text: self.emit(ModelDelta(k, text)),
            on_retry=lambda attempt, why, wait: self.emit(ModelRetrying(k, attempt, why, wait)),
        )
        response = bound_turn(response)  # before anything parses or echoes an over-long call
        self.progress.cost_usd += response.cost_usd
        await self.control.at("spend", k, cost_usd=self.progress.cost_usd)
        errors = {call.id: call.error for call in response.tool_calls if call.error}
        self.emit(ModelResponded(k, turn, response.content, response.stop_reason, response.usage.to_dict(),
                                 response.cost_usd, round(time.monotonic() - started, 3), errors))
        return response

    async def _tool_call(self, k: int, call: ToolCall) -> None:
        echoed, hints = shorten(call.arguments), self.toolbox.hints(call.name) if not call.error else ()
        self.emit(ToolCallRequested(k, call.id, call.name, echoed, shortened=echoed != call.arguments, hints=hints))
        started = time.monotonic()
        if call.error:
            result = ToolResult(call.error, is_error=True)
        elif not self.toolbox.has(call.name):
            result = ToolResult((await self.toolbox.call(call.name, call.arguments)).content, is_error=True)
        elif (permit := await self.control.permit(call, k)).allowed:
            progress = lambda message: self.emit(ToolProgress(call.id, call.name, message))  # noqa: E731
            result = bound_result(await self.toolbox.call(call.name, permit.arguments, progress))
        else:
            result = ToolResult(permit.denial, is_error=True)
        self.emit(ToolCallFinished(k, call.id, call.name, result.content, result.is_error,
                                   round(time.monotonic() - started, 3), result.images))

    # --- the sandbox ---------------------------------------------------------------------

    async def sandboxed(self, k: int, command: str) -> tuple[RunResult, OutputBuffer]:
        buffer = OutputBuffer()

        def on_output(stream: str, text: str) -> None:
            buffer.add(text)
            self.emit(OutputChunk(k, stream, text))

        task = asyncio.ensure_future(self.sandbox.run(command, on_output, self.config.timeout_s))
        stop = asyncio.ensure_future(self.control.until_stopped())
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not task.done():  # stopped by the person: the backend kills what it started
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise StopRequested(self.control.stop_reason or "stopped")
        try:
            return task.result(), buffer
        except Exception as exc:  # a backend bug must not kill the session: report it as a sandbox failure
            return RunResult(None, 0.0, error=f"{type(exc).__name__}: {exc}"), buffer

    async def check(self, k: int) -> bool:
        """The check in a fresh sandbox: CheckStarted, OutputChunk..., CheckFinished; raises BadCheck (not found
        at iteration 0), SandboxFailed or StopRequested. A watch round's first check is the watcher's."""
        command = self.config.check
        self.emit(CheckStarted(k, command, self.config.sandbox_name))
        result, buffer = await self.sandboxed(k, command)
        text = buffer.text()
        passed = result.error is None and not result.timed_out and check_passed(
            result.exit_code, text, self.config.criteria.pass_pattern)
        self.emit(CheckFinished(k, result.exit_code, passed, round(result.duration_s, 3), result.timed_out,
                                result.truncated, result.error, trim_output(text)))
        if result.error:
            raise SandboxFailed(result.error)
        if k == 0 and result.exit_code == NOT_FOUND:
            raise BadCheck(f"the check command was not found in the sandbox: {text.strip()[-200:] or command}")
        self.progress.record_check(passed, result.exit_code, text)
        return passed

    async def run_command(self, command: str) -> tuple[int | None, str]:
        """The run_command tool: a command in a fresh sandbox, its output bounded for the model."""
        k = self.progress.iterations + 1
        result, buffer = await self.sandboxed(k, command)
        if result.error:
            return None, f"the sandbox failed: {result.error}"
        note = " (killed: time limit)" if result.timed_out else ""
        return result.exit_code, trim_output(buffer.text()) + note

    def plan_updated(self, steps: tuple) -> None:
        self.emit(PlanUpdated(steps))
