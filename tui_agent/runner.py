"""The composition root: a run (a RunHandle) built from settings: session folder, workspace, sandbox, model, tools."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from tui_agent import sandbox as sandboxes
from tui_agent.sandbox import hosts as sandbox_hosts
from tui_agent.agent.bounds import BoundedAudit
from tui_agent.agent.breakpoints import Breakpoints
from tui_agent.agent.preflight import history as _history
from tui_agent.agent.control import Controller
from tui_agent.agent.gate import WhoAnswers
from tui_agent.agent.loop import AgentLoop
from tui_agent.agent.review_gate import ReviewGate
from tui_agent.agent.setup import RESUMED_OPTIONS, LoopConfig, LoopParts
from tui_agent.environments.session import for_run
from tui_agent.commands import DONE, Command, Deploy, Feedback, Reply, RestartServers, Undo
from tui_agent.config import ConfigError, Settings, check_project
from tui_agent.events import (
    Deployed, DeployRefused, Error, Event, Finished, IterationFinished, ModelResponded, QuestionAsked, SessionStarted,
    ToolProgress,
)
from tui_agent.models import create_model
from tui_agent.sessions.recorder import SessionRecorder, new_session_dir, read_events
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.mcp.manager import McpManager, ServerStatus, mcp_client_side
from tui_agent.tools.mcp.prompts import PromptEntry
from tui_agent.tools.permissions.policy import Policy, PolicyError, denied_by
from tui_agent.workspace.deploy_risk import left_out
from tui_agent.workspace.deploy_subset import deploy_whole
from tui_agent.workspace.workspace import DeployError, Workspace, WorkspaceError

SANDBOX_UID = 1000


@dataclass
class Run:
    """A live run: the loop and what it works with. A RunHandle (see handle.py) for the TUI and headless mode."""

    settings: Settings
    session_dir: Path
    loop: AgentLoop
    control: Controller
    workspace: Workspace
    sandbox: sandboxes.Sandbox
    recorder: SessionRecorder
    mcp: McpManager | None = None  # the MCP servers of .mcp.json
    notices: tuple = ()  # said first when the run starts (e.g. a damaged session line set aside)
    replay = False
    _restarts: set[asyncio.Future] = field(default_factory=set)
    _gate: ReviewGate | None = None

    def subscribe(self, sink) -> None:
        self.loop.subscribe(sink)

    @property
    def gate(self) -> ReviewGate:
        """The per-hunk deploy, undo and feedback (made when first used)."""
        if self._gate is None:
            self._gate = ReviewGate(self.loop, denied_by(self.control.gate.policy))
        return self._gate

    async def execute(self) -> Finished:
        for notice in self.notices:
            self.loop.emit(Error(notice))
        return await self.loop.run()

    def send(self, command: Command) -> Reply:
        match command:
            case Deploy(include=include, hunks=None):
                return self._deploy(include)
            case Deploy():
                return self.gate.deploy(command)
            case Undo():
                return self.gate.undo()
            case Feedback():
                return self.gate.feedback(command)
            case RestartServers(names=names):
                return self._restart(names)
        return self.control.send(command)

    def history(self) -> list[Event]:
        return read_events(self.session_dir)

    def rules(self) -> dict[str, list[str]]:
        policy = self.control.gate.policy
        return {"allow": list(policy.allow), "ask": list(policy.ask), "deny": list(policy.deny)}

    def breakpoints(self) -> list[str]:
        return self.control.breakpoints.specs()

    def servers(self) -> tuple[ServerStatus, ...]:
        return tuple(self.mcp.servers()) if self.mcp is not None else ()

    async def prompts(self) -> list[PromptEntry]:
        return await self.mcp.prompts() if self.mcp is not None else []

    async def prompt_text(self, server: str, name: str, arguments: dict[str, str] | None = None) -> str:
        if self.mcp is None:
            raise ValueError("this run has no MCP servers")
        return await self.mcp.prompt_text(server, name, arguments)

    def changes(self) -> str:
        return self.workspace.diff(self.loop.first_snapshot)[0]

    def _deploy(self, include: tuple = ()) -> Reply:
        """The person approved the deploy: the safe copy-back into their folder (never done by the loop).

        Flagged files go only when the person checked them (`include`); a path a deny rule covers never goes
        (run_command can change any workspace file, so the write rules are enforced here too)."""
        if self._gate is not None and (busy := self._gate.busy()):  # a recheck has the workspace as the subset
            return busy
        try:
            skip = left_out(self.workspace.plan_deploy(), include, denied_by(self.control.gate.policy))
            files = deploy_whole(self.workspace, skip)  # undo data kept
        except DeployError as exc:
            self.loop.emit(DeployRefused(str(exc)))
            return Reply(False, str(exc))
        plan = self.workspace.last_plan
        self.loop.emit(Deployed(tuple(files), left_out=tuple(plan.skipped) if plan else ()))
        return Reply(True, f"{len(files)} file(s)")

    def _restart(self, names: tuple) -> Reply:
        if self.mcp is None:
            return Reply(False, "this project has no MCP server")
        mcp = self.mcp
        task = asyncio.ensure_future(asyncio.gather(*(mcp.restart(n) for n in names), return_exceptions=True))
        self._restarts.add(task)
        task.add_done_callback(self._restarts.discard)
        return DONE

    async def close(self) -> None:
        for task in list(self._restarts) + list(self._gate.tasks if self._gate else ()):
            task.cancel()
        if self.mcp is not None:
            await self.mcp.close()
        await self.sandbox.close()
        if trouble := self.workspace.close():
            self.loop.emit(Error(trouble))
        self.recorder.close()


def choose_sandbox(name: str, spec: sandboxes.SandboxSpec) -> str:
    if name == "auto":
        return sandboxes.default_backend(spec)
    if reason := sandboxes.probe(name, spec):
        raise sandboxes.SandboxUnavailable(f"sandbox {name} is not available: {reason}")
    return name


def _owner() -> tuple[int, int] | None:
    return (SANDBOX_UID, SANDBOX_UID) if hasattr(os, "geteuid") and os.geteuid() == 0 else None


def _limits(settings: Settings) -> sandboxes.Limits:
    owner = _owner() or (os.getuid(), os.getgid())
    return sandboxes.Limits(timeout_s=settings.timeout_s, memory_mb=settings.memory_mb, uid=owner[0], gid=owner[1])


async def prepare(
    settings: Settings, *, who: WhoAnswers, resume_dir: Path | None = None, fork_at: int | None = None,
    session_dir: Path | None = None, questions: bool = False,
) -> Run:
    """Validate the input (raising ConfigError, BadModelSpec or SandboxUnavailable: exit 2), then build the run.

    `questions`: the UI shows MCP servers' questions and sampling requests (QuestionAsked) and sends the person's
    answers (the TUI's Permissions panel); otherwise they are declined, as headless."""
    project = check_project(Path(settings.project))
    breakpoints = Breakpoints.parse(list(settings.breakpoints))
    # a malformed .mcp.json is bad input, before anything starts; an untrusted one starts nothing; the trust is
    # checked again here, against the files as they are now (they may have changed since the settings loaded)
    trusted = mcp_config.trusted_now(replace(settings, project=project))
    servers = mcp_config.servers_for(replace(settings, project=project, project_trusted=trusted))
    history: list[Event] = []
    start_turn = 0
    if resume_dir is not None:
        history = _history(resume_dir, fork_at)
        if _start_of(history).model == settings.model:  # the same scripted/replay model continues where it was
            start_turn = sum(isinstance(e, ModelResponded) for e in history)
    model = create_model(settings.model, start_turn=start_turn, prices=settings.prices or None)
    choice, engine, runtime = sandbox_hosts.placement(settings)
    probe_spec = sandboxes.SandboxSpec(project, _limits(settings), settings.image, engine=engine, runtime=runtime)
    backend = choose_sandbox(choice, probe_spec)

    if fork_at is not None and resume_dir is not None:
        session_dir = session_dir or new_session_dir(settings.session_root, project)
        parent = Workspace.open(resume_dir, project, owner=_owner())
        last = history[-1]
        try:
            workspace = parent.fork(session_dir, last.snapshot if isinstance(last, IterationFinished) else None)
        finally:
            parent.close()
        history[0] = replace(_start_of(history), session_id=session_dir.name, parent=resume_dir.name, fork_at=fork_at)
    elif resume_dir is not None:
        session_dir = resume_dir
        workspace = Workspace.open(session_dir, project, owner=_owner())
    else:
        session_dir = session_dir or new_session_dir(settings.session_root, project)
        try:
            workspace = Workspace.create(project, session_dir, owner=_owner())
        except WorkspaceError:
            shutil.rmtree(session_dir, ignore_errors=True)  # a new session that never started: free its space
            raise
    try:
        environment = await for_run(settings, project, backend, _limits(settings))
    except ConfigError:
        workspace.close()
        raise
    spec = environment.spec(replace(probe_spec, workspace=workspace.path))
    sandbox = environment.sandbox = sandboxes.create(backend, spec)
    try:
        if environment.ready:  # otherwise the loop builds the environment first, then starts the sandbox
            await sandbox.start()
    except sandboxes.SandboxUnavailable:
        workspace.close()
        raise
    try:
        policy = Policy.load(project, settings.permissions, audit=BoundedAudit(session_id=session_dir.name),
                             trusted=trusted, mode=settings.mode)
        policy.resolve = workspace.files.relative
    except PolicyError as exc:
        await sandbox.close()
        workspace.close()
        raise ConfigError(str(exc)) from None
    control = Controller(who=who, policy=policy, breakpoints=breakpoints, start_paused=settings.step)
    mcp = None
    if servers:  # the loop starts them: a server that fails is marked failed, the run goes on
        mcp = McpManager(servers, project=project,
                         on_event=lambda source, message: loop.emit(ToolProgress(None, source, message)))
        mcp.client_side = mcp_client_side(mcp, model, policy, workspace.path, lambda: loop,
                                          host=control.questions if questions and who.present else None)
        if not who.present:  # headless: nobody to sign in; a server that needs it fails naming `mcp login`
            mcp.show_sign_in = None
    config = LoopConfig.of(settings, sandbox_name=backend, session_id=session_dir.name)
    loop = AgentLoop(config, LoopParts(model, sandbox, workspace, (mcp,) if mcp else (), environment), control)
    def recording_failed(why: str) -> None:  # a full disk: say so, and stop at the next safe point
        loop.emit(Error(why, fatal=True))
        control.stop(why)

    recorder = SessionRecorder(session_dir, on_failure=recording_failed)
    notices = (f"{recorder.damaged}; the rest of the file is kept in events.jsonl.damaged; continuing from the last "
               "whole iteration",) if recorder.damaged and fork_at is None else ()
    if who.present:  # headless said them on stderr already; the TUI shows what the project's config lost
        notices += settings.notices
    if fork_at is not None:  # a fork's record starts with its parent's, up to the fork point
        for event in history:
            recorder.write(event)
    loop.subscribe(recorder.write)
    if history:
        loop.restore(history)
        recorded = history if fork_at is not None else read_events(session_dir)  # with an unfinished iteration's
        control.questions.start_after(sum(isinstance(e, QuestionAsked) for e in recorded))
    return Run(settings, session_dir, loop, control, workspace, sandbox, recorder, mcp, notices)


def _start_of(history: list[Event]) -> SessionStarted:
    start = history[0]
    if not isinstance(start, SessionStarted):
        raise ConfigError("the session does not begin with its start record")
    return start


def settings_of_session(session_dir: Path) -> dict:
    """The goal, check, project and model a recorded session was started with (for resume and replay)."""
    for event in read_events(session_dir):
        if isinstance(event, SessionStarted):
            return {"project": Path(event.project), "goal": event.goal, "check": event.check, "model": event.model,
                    "sandbox": event.sandbox, **{k: v for k, v in event.criteria.items() if v is not None},
                    **{k: v for k, v in event.options.items() if k in RESUMED_OPTIONS}}
    raise ConfigError(f"{session_dir}: the session has no start record")
