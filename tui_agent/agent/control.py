"""The loop's points of control (pause, step, stop, breakpoints, each tool call's permit); the person's commands."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from tui_agent.agent.breakpoints import Breakpoints
from tui_agent.agent.gate import PERSON, PermissionGate, Permit, WhoAnswers
from tui_agent.agent.questions import QuestionDesk
from tui_agent.commands import (
    DONE, AddBreakpoint, Answer, AnswerQuestion, ApproveSampling, Command, Pause, RemoveBreakpoint, Reply, Resume,
    SetMode, Step, Stop,
)
from tui_agent.config import ConfigError
from tui_agent.events import Event, ModeChanged, Paused, Resumed
from tui_agent.models.base import ToolCall
from tui_agent.tools.permissions.policy import MODES, Policy

ARMING = ("spend", "failure")  # points that only arm a pause, taken at the next point


class StopRequested(Exception):
    """Raised at a point of control once stop() was called; the loop ends with outcome "stopped"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Controller:
    """The loop awaits `at(point, k)` and `permit(call, k)`; the person's commands arrive through `send`."""

    def __init__(self, *, who: WhoAnswers = PERSON, policy: Policy | None = None,
                 breakpoints: Breakpoints | None = None, start_paused: bool = False) -> None:
        self.who = who
        self.breakpoints = breakpoints or Breakpoints()
        self.gate = PermissionGate(policy or Policy(), who)
        self._running = asyncio.Event()
        if not start_paused:
            self._running.set()
        self._start_paused = start_paused
        self._stepping = False
        self._stop_reason: str | None = None
        self._stopped = asyncio.Event()
        self._pause_reason: str | None = None
        self._pending: dict[str, asyncio.Future[Answer]] = {}  # tool calls asked, waiting for the person's answer
        self._ahead: dict[str, Answer] = {}  # answered while paused before the call was asked
        self._at_call: str | None = None  # the call between its request and its decision
        self._emit: Callable[[Event], None] = lambda event: None
        self.questions = QuestionDesk()  # what MCP servers ask the person (the run's ClientHost when one is present)

    def bind(self, emit: Callable[[Event], None]) -> None:
        self._emit = self.gate.emit = self.questions.emit = emit

    def for_round(self) -> "Controller":
        """A controller of its own for a watch round: the same person, rules and breakpoints."""
        return Controller(who=self.who, policy=self.gate.policy, breakpoints=self.breakpoints)

    # --- the person's commands -----------------------------------------------------------

    def send(self, command: Command) -> Reply:
        match command:
            case Pause():
                self.pause()
            case Resume():
                self.resume()
            case Step():
                self.step()
            case Stop(reason=reason):
                self.stop(reason)
            case Answer():
                return self.answer(command.call_id, command.action, command.arguments)
            case AnswerQuestion():
                return self.questions.answer(command.question_id, command.action, command.content)
            case ApproveSampling():
                return self.questions.answer(command.question_id, "approve" if command.approve else "deny")
            case AddBreakpoint(spec=spec):
                try:
                    self.breakpoints.add(spec)
                except ConfigError as exc:
                    return Reply(False, str(exc))
            case RemoveBreakpoint(spec=spec):
                if not self.breakpoints.remove(spec):
                    return Reply(False, f"no breakpoint {spec!r} is set")
            case SetMode(mode=mode):
                if mode not in MODES:
                    return Reply(False, f"no mode {mode!r} (use {', '.join(MODES)})")
                self.gate.policy.mode = mode
                self._emit(ModeChanged(mode))
            case _:
                return Reply(False, f"this run does not take the command {command.type!r}")
        return DONE

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    def pause(self) -> None:
        self._stepping = False
        self._running.clear()

    def resume(self) -> None:
        if self.paused:
            self._stepping = False
            self._running.set()
            self._emit(Resumed(stepping=False))

    def step(self) -> None:
        """Run one more iteration, then pause again."""
        self._stepping = True
        if self.paused:
            self._running.set()
            self._emit(Resumed(stepping=True))

    def stop(self, reason: str = "stopped by the person") -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        self._stopped.set()
        self._running.set()
        self.questions.close()
        for call_id, future in list(self._pending.items()):
            if not future.done():
                future.set_result(Answer(call_id, "deny"))

    def answer(self, call_id: str, action: str, arguments: dict[str, Any] | None = None) -> Reply:
        """The person's choice for a tool call: now when it is asked, or ahead when the loop is paused before it."""
        future = self._pending.get(call_id)
        if future is not None and not future.done():
            future.set_result(Answer(call_id, action, arguments))
            return Reply(True, "now")
        if call_id == self._at_call and self.who.present and self._stop_reason is None:
            self._ahead[call_id] = Answer(call_id, action, arguments)
            return Reply(True, "ahead")
        return Reply(False, "that tool call is no longer waiting")

    # --- awaited by the loop -------------------------------------------------------------

    async def at(self, point: str, iteration: int = 0, *, passed: bool = True, cost_usd: float = 0.0) -> None:
        """The loop reached a point: a breakpoint there pauses it; a pause, a step's end or a stop is honoured.

        "iteration" (before one: a step ends here, --step starts paused here), "turn", "fix", "check" wait
        here; "spend" and "failure" only arm a pause, taken at the next point."""
        if why := self.breakpoints.reason(point, iteration=iteration, passed=passed, cost_usd=cost_usd):
            self._pause_for(why)
        if point in ARMING:
            return
        if point == "iteration" and (self._stepping or self._start_paused):
            self._start_paused = self._stepping = False
            self._running.clear()
            await self._wait(iteration, "step")
        else:
            await self._wait(iteration, "person")

    async def permit(self, call: ToolCall, iteration: int) -> Permit:
        """A tool call about to run: a breakpoint before it, then the gate (rules, else who answers)."""
        self._at_call = call.id
        try:
            if why := self.breakpoints.at_tool(call.name, call.arguments):
                self._pause_for(why)
            await self._wait(iteration, "person")
            return await self.gate.decide(call, lambda: self._ask(call.id), call.id in self._ahead)
        finally:
            self._at_call = None
            self._ahead.pop(call.id, None)

    def _pause_for(self, reason: str) -> None:
        """The loop itself pauses (breakpoint, no progress): the next point waits for the person; nobody: ignored."""
        if not self.who.present:
            return
        self._stepping = False
        self._running.clear()
        self._pause_reason = reason

    def hold(self, reason: str) -> None:
        """Something the person should see before the loop goes on: pause at the next point; nobody: go on."""
        self._pause_for(reason)

    def ask_to_go_on(self, reason: str) -> None:
        """No progress: the person decides at the next point (resume goes on, stop ends); nobody: stop now."""
        if not self.who.present:
            raise StopRequested(reason)
        self._pause_for(reason)

    async def until_stopped(self) -> str:
        await self._stopped.wait()
        return self._stop_reason or "stopped"

    async def _wait(self, iteration: int, reason: str) -> None:
        """Wait here while paused; raise StopRequested once stop() was called."""
        if self._stop_reason is not None:
            raise StopRequested(self._stop_reason)
        if self.paused:
            reason, self._pause_reason = self._pause_reason or reason, None
            self._emit(Paused(reason=reason, iteration=iteration))
            await self._running.wait()
        if self._stop_reason is not None:
            raise StopRequested(self._stop_reason)

    async def _ask(self, call_id: str) -> Answer:
        """A Future the person resolves with answer(); denied when nobody can answer or the run stops."""
        if not self.who.present:
            return Answer(call_id, "deny")
        if (early := self._ahead.pop(call_id, None)) is not None:
            return early
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        try:
            stop = asyncio.ensure_future(self._stopped.wait())
            waiters: set[asyncio.Future[Any]] = {future, stop}
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not future.done():
                future.set_result(Answer(call_id, "deny"))
            return future.result()
        finally:
            self._pending.pop(call_id, None)
