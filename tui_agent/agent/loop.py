"""The agent loop: model turns and tool calls, a check in the sandbox, the fix's diff, until a criterion stops it."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Callable

from tui_agent.config import ConfigError, Criteria
from tui_agent.agent.context import fit, trim_output
from tui_agent.agent.control import Controller, StopRequested
from tui_agent.agent.conversation import Conversation, system_prompt
from tui_agent.events import (
    CheckFinished, CheckStarted, DeployReady, Error, Event, Finished, FixApplied, IterationFinished,
    IterationStarted, ModelDelta, ModelRequested, ModelResponded, ModelRetrying, OutputChunk, PlanUpdated,
    SessionResumed, SessionStarted, ToolCallDecided, ToolCallFinished, ToolCallRequested, ToolProgress,
)
from tui_agent.models.base import Model, ModelError, ModelRequest, ToolCall
from tui_agent.agent.output import OutputBuffer
from tui_agent.sandbox.base import RunResult, Sandbox
from tui_agent.agent.termination import Progress, check_passed
from tui_agent.tools.toolbox import Toolbox

NOT_FOUND = 127  # the shell's "command not found"


class SandboxFailed(Exception):
    """The sandbox itself failed during the check (e.g. the engine stopped): the session ends, resumable."""


class BadCheck(Exception):
    """The check command cannot run at all (not found in the sandbox): bad input, exit 2."""


class AgentLoop:
    def __init__(
        self, *, goal: str, check: str, criteria: Criteria, model: Model, sandbox: Sandbox, sandbox_name: str,
        workspace, toolbox: Toolbox, policy, control: Controller, session_id: str = "", max_turns: int = 30,
        context_tokens: int = 150_000, timeout_s: float | None = None, options: dict | None = None,
        environment=None,
    ) -> None:
        self.goal, self.check, self.criteria = goal, check, criteria
        self.model, self.sandbox, self.sandbox_name = model, sandbox, sandbox_name
        self.workspace, self.toolbox, self.policy, self.control = workspace, toolbox, policy, control
        self.session_id, self.max_turns, self.context_tokens = session_id, max_turns, context_tokens
        self.timeout_s, self.options = timeout_s, options or {}
        self.environment = environment  # the project's environment step (environments.session), or None
        self.system = system_prompt(goal, check, criteria.pass_pattern)
        self.conversation = Conversation()
        self.progress = Progress(criteria)
        self.snapshot = ""
        self.first_snapshot = ""
        self.sinks: list[Callable[[Event], None]] = []
        self._thread = threading.get_ident()
        self._aloop: asyncio.AbstractEventLoop | None = None
        self._sent = 0  # messages already shown in an earlier ModelRequested event
        self._start = time.monotonic()
        self._resumed = False
        control.bind(self.emit)

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
        """Resume: apply the recorded events of the whole iterations (see session.whole_iterations)."""
        for event in events:
            self.conversation.apply(event)
            if isinstance(event, ModelResponded):
                self.progress.cost_usd += event.cost_usd
            elif isinstance(event, IterationFinished):
                self.progress.iterations, self.snapshot = event.iteration, event.snapshot
                self.first_snapshot = self.first_snapshot or event.snapshot
        self.workspace.restore(self.snapshot)
        self._sent = len(self.conversation.messages)
        self._resumed = True

    # --- the loop ------------------------------------------------------------------------

    async def run(self) -> Finished:
        self._aloop, self._thread = asyncio.get_running_loop(), threading.get_ident()
        self._start = time.monotonic()
        outcome, reason = "stopped", ""
        try:
            if self._resumed:
                self.emit(SessionResumed(self.progress.iterations, self.snapshot))
                await self.prepare_environment()
                await self.toolbox.start()
            else:
                self._started()
                await self.prepare_environment()
                await self.toolbox.start()
                await self._baseline()
            while True:
                k = self.progress.iterations + 1
                if why := self.control.breakpoints.at_iteration(k):
                    self.control.pause_for(why)
                await self.control.iteration_boundary(k)
                if await self._iteration(k):
                    outcome, reason = "met", "the check passes"
                    break
                if why := self.progress.stop_reason():
                    reason = why
                    break
                if why := self.progress.no_progress():
                    if not self.control.interactive:
                        reason = why
                        break
                    self.control.pause_for(why)  # stop and ask the person: resume goes on, stop ends
                    self.progress.forgive()
        except StopRequested as exc:
            reason = exc.reason
        except (BadCheck, ConfigError) as exc:  # ConfigError: e.g. the project's environment failed to build
            outcome, reason = "invalid", str(exc)
        except (ModelError, SandboxFailed) as exc:
            kind = "model error" if isinstance(exc, ModelError) else "sandbox error"
            outcome, reason = "error", f"{kind}: {exc}"
            self.emit(Error(reason, fatal=True, iteration=self.progress.iterations + 1))
        return self._finish(outcome, reason)

    async def prepare_environment(self) -> None:
        """The project's environment, from the cache or built now (its events stream live); then the sandbox starts."""
        if self.environment is not None:
            await self.environment.prepare(self.emit)

    def _finish(self, outcome: str, reason: str) -> Finished:
        if outcome == "met" and self.control.interactive:
            diff, files = self.workspace.diff(self.first_snapshot)
            self.emit(DeployReady(diff, tuple(files)))
        p = self.progress
        finished = Finished(outcome, reason, p.iterations, round(p.cost_usd, 6), round(self._elapsed(), 3))
        self.emit(finished)
        return finished

    def _elapsed(self) -> float:
        return time.monotonic() - self._start

    def _started(self) -> None:
        self.emit(SessionStarted(
            self.session_id, str(self.workspace.project), self.goal, self.check, self.model.name,
            self.sandbox_name, str(self.workspace.path), self.criteria.to_dict(), self.options,
        ))

    async def _baseline(self) -> None:
        self.snapshot = self.first_snapshot = self.workspace.snapshot()
        passed = await self._check(0)
        self.emit(IterationFinished(0, passed, 0.0, round(self._elapsed(), 3), self.snapshot))

    async def _iteration(self, k: int) -> bool:
        self.emit(IterationStarted(k))
        for turn in range(1, self.max_turns + 1):
            await self.control.checkpoint(k)
            response = await self._model_turn(k, turn)
            if not response.tool_calls:
                break
            for call in response.tool_calls:
                await self._tool_call(k, call)
            self.progress.elapsed_s = self._elapsed()
            if self.progress.over_budget() or self.progress.out_of_time():
                raise StopRequested(self.progress.stop_reason() or "limit reached")
        await self.control.checkpoint(k)
        self.snapshot, diff, files = self.workspace.checkpoint(self.snapshot)  # one scan: snapshot and diff
        self.emit(FixApplied(k, diff, tuple(files), self.snapshot))
        if self.environment is not None and (outdated := self.environment.outdated(files)):
            self.emit(outdated)
            self.control.pause_for("environment inputs changed")  # the person decides; headless goes on
        await self.control.stop_at(self.control.breakpoints.at_check(), k)
        passed = await self._check(k)
        if why := self.control.breakpoints.at_failure(passed):
            self.control.pause_for(why)  # taken at the next checkpoint: before the next iteration
        self.progress.iterations, self.progress.elapsed_s = k, self._elapsed()
        self.emit(IterationFinished(k, passed, round(self.progress.cost_usd, 6), round(self._elapsed(), 3),
                                    self.snapshot))
        return passed

    async def _model_turn(self, k: int, turn: int):
        messages = self.conversation.messages
        request = ModelRequest(self.system, fit(messages, self.context_tokens), self.toolbox.specs())
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
        self.progress.cost_usd += response.cost_usd
        if why := self.control.breakpoints.at_spend(self.progress.cost_usd):
            self.control.pause_for(why)
        errors = {call.id: call.error for call in response.tool_calls if call.error}
        self.emit(ModelResponded(k, turn, response.content, response.stop_reason, response.usage.to_dict(),
                                 response.cost_usd, round(time.monotonic() - started, 3), errors))
        return response

    async def _tool_call(self, k: int, call: ToolCall) -> None:
        self.emit(ToolCallRequested(k, call.id, call.name, call.arguments))
        started = time.monotonic()
        arguments = call.arguments
        if call.error:
            result, is_error = call.error, True
        elif not self.toolbox.has(call.name):
            result, is_error = (await self.toolbox.call(call.name, arguments)).content, True
        else:
            await self.control.stop_at(self.control.breakpoints.at_tool(call.name, arguments), k)
            allowed, arguments, why = await self._permission(k, call)
            if allowed:
                progress = lambda message: self.emit(ToolProgress(call.id, call.name, message))  # noqa: E731
                outcome = await self.toolbox.call(call.name, arguments, progress)
                result, is_error = outcome.content, outcome.is_error
            else:
                result, is_error = why, True
        self.emit(ToolCallFinished(k, call.id, call.name, result, is_error, round(time.monotonic() - started, 3)))

    async def _permission(self, k: int, call: ToolCall) -> tuple[bool, dict, str]:
        verdict = self.policy.evaluate(call.name, call.arguments)
        action, rule, edited = verdict.action, verdict.rule, None
        if action == "allow" and self.control.decided_ahead(call.id):
            action, rule = "ask", None  # the person answered (maybe edited) it at a breakpoint: that answer counts
        by = "rule" if verdict.rule else "default"
        if action == "ask":
            decision = await self.control.ask(call.id, call.name, call.arguments, k)
            by = "person" if self.control.interactive else "headless"
            action, edited = ("allow" if decision.action in ("allow", "always") else "deny"), decision.arguments
            if decision.action == "always":
                rule = self.policy.allow_always(call.name, edited or call.arguments)
        self.policy.record(call.name, edited or call.arguments, action, by, rule=rule, call_id=call.id)
        self.emit(ToolCallDecided(call.id, call.name, action, by, rule, edited))
        if action == "allow":
            return True, edited or call.arguments, ""
        if by == "headless":
            return False, call.arguments, f"denied: {call.name} needs the person's permission, and headless mode never asks"
        return False, call.arguments, f"denied by {'the person' if by == 'person' else f'rule {rule}'}: {call.name}"

    # --- the sandbox ---------------------------------------------------------------------

    async def _sandboxed(self, k: int, command: str) -> tuple[RunResult, OutputBuffer]:
        buffer = OutputBuffer()

        def on_output(stream: str, text: str) -> None:
            buffer.add(text)
            self.emit(OutputChunk(k, stream, text))

        task = asyncio.ensure_future(self.sandbox.run(command, on_output, self.timeout_s))
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

    async def _check(self, k: int) -> bool:
        self.emit(CheckStarted(k, self.check, self.sandbox_name))
        result, buffer = await self._sandboxed(k, self.check)
        text = buffer.text()
        passed = result.error is None and not result.timed_out and check_passed(
            result.exit_code, text, self.criteria.pass_pattern)
        self.emit(CheckFinished(k, result.exit_code, passed, round(result.duration_s, 3), result.timed_out,
                                result.truncated, result.error, trim_output(text)))
        if result.error:
            raise SandboxFailed(result.error)
        if k == 0 and result.exit_code == NOT_FOUND:
            raise BadCheck(f"the check command was not found in the sandbox: {text.strip()[-200:] or self.check}")
        self.progress.record_check(passed, result.exit_code, text)
        return passed

    async def run_command(self, command: str) -> tuple[int | None, str]:
        """The run_command tool: a command in a fresh sandbox, its output bounded for the model."""
        k = self.progress.iterations + 1
        result, buffer = await self._sandboxed(k, command)
        if result.error:
            return None, f"the sandbox failed: {result.error}"
        note = " (killed: time limit)" if result.timed_out else ""
        return result.exit_code, trim_output(buffer.text()) + note

    def plan_updated(self, steps: tuple) -> None:
        self.emit(PlanUpdated(steps))
