"""Assemble a run from settings: session folder, workspace, sandbox, model, tools, policy, loop."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from tui_agent import sandbox as sandboxes
from tui_agent.agent.breakpoints import Breakpoints
from tui_agent.environments.session import for_run
from tui_agent.config import ConfigError, Settings
from tui_agent.agent.control import Controller
from tui_agent.events import (
    Deployed, DeployRefused, Event, IterationFinished, ModelResponded, SessionStarted, ToolProgress,
)
from tui_agent.agent.loop import AgentLoop
from tui_agent.models import create_model
from tui_agent.sessions.recorder import SessionRecorder, effective, new_session_dir, read_events, whole_iterations
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.builtin import BuiltinTools
from tui_agent.tools.mcp.manager import McpManager
from tui_agent.tools.permissions.policy import AuditLog, Policy, PolicyError
from tui_agent.tools.toolbox import Toolbox
from tui_agent.workspace.workspace import DeployRefused as Refused
from tui_agent.workspace.workspace import Workspace

SANDBOX_UID = 1000
RESUMED_OPTIONS = ("permissions", "timeout_s", "memory_mb", "max_turns", "context_tokens", "image", "env",
                   "setup")


@dataclass
class Run:
    settings: Settings
    session_dir: Path
    loop: AgentLoop
    control: Controller
    workspace: Workspace
    sandbox: sandboxes.Sandbox
    recorder: SessionRecorder
    mcp: McpManager | None = None  # the MCP servers of .mcp.json; servers() gives each one's state and tools

    def subscribe(self, sink) -> None:
        self.loop.subscribe(sink)

    async def execute(self):
        return await self.loop.run()

    def deploy(self) -> Event:
        """The person approved the deploy: the safe copy-back into their folder (never called by the loop)."""
        try:
            files = self.workspace.deploy()
        except Refused as exc:
            event: Event = DeployRefused(str(exc))
        else:
            event = Deployed(tuple(files))
        self.loop.emit(event)
        return event

    async def close(self) -> None:
        if self.mcp is not None:
            await self.mcp.close()
        await self.sandbox.close()
        self.workspace.close()
        self.recorder.close()


def check_project(project: Path) -> Path:
    if not project.exists():
        raise ConfigError(f"project folder not found: {project}")
    if not project.is_dir():
        raise ConfigError(f"not a folder: {project}")
    return project.resolve()


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
    settings: Settings, *, interactive: bool, resume_dir: Path | None = None, fork_at: int | None = None,
    session_dir: Path | None = None,
) -> Run:
    """Validate the input (raising ConfigError, BadModelSpec or SandboxUnavailable: exit 2), then build the run."""
    project = check_project(Path(settings.project))
    breakpoints = Breakpoints.parse(list(settings.breakpoints))
    servers = mcp_config.load(project)  # a malformed .mcp.json is bad input, before anything starts
    history: list[Event] = []
    start_turn = 0
    if resume_dir is not None:
        history = _history(resume_dir, fork_at)
        if history[0].model == settings.model:  # the same scripted/replay model continues where it was
            start_turn = sum(isinstance(e, ModelResponded) for e in history)
    model = create_model(settings.model, start_turn=start_turn, prices=settings.prices or None)
    probe_spec = sandboxes.SandboxSpec(project, _limits(settings), settings.image)
    backend = choose_sandbox(settings.sandbox, probe_spec)

    if fork_at is not None:
        session_dir = session_dir or new_session_dir(settings.session_root, project)
        parent = Workspace.open(resume_dir, project, owner=_owner())
        try:
            workspace = parent.fork(session_dir, history[-1].snapshot)
        finally:
            parent.close()
        history[0] = replace(history[0], session_id=session_dir.name, parent=resume_dir.name, fork_at=fork_at)
    elif resume_dir is not None:
        session_dir = resume_dir
        workspace = Workspace.open(session_dir, project, owner=_owner())
    else:
        session_dir = session_dir or new_session_dir(settings.session_root, project)
        workspace = Workspace.create(project, session_dir, owner=_owner())
    try:
        environment = await for_run(settings, project, backend, _limits(settings))
    except ConfigError:
        workspace.close()
        raise
    spec = environment.spec(sandboxes.SandboxSpec(workspace.path, _limits(settings), settings.image))
    sandbox = environment.sandbox = sandboxes.create(backend, spec)
    try:
        if environment.ready:  # otherwise the loop builds the environment first, then starts the sandbox
            await sandbox.start()
    except sandboxes.SandboxUnavailable:
        workspace.close()
        raise
    try:
        policy = Policy.load(project, settings.permissions, audit=AuditLog(session_id=session_dir.name))
    except PolicyError as exc:
        await sandbox.close()
        workspace.close()
        raise ConfigError(str(exc)) from None
    control = Controller(start_paused=settings.step, interactive=interactive, breakpoints=breakpoints)
    toolbox = Toolbox([])
    loop = AgentLoop(
        goal=settings.goal, check=settings.check, criteria=settings.criteria, model=model, sandbox=sandbox,
        sandbox_name=backend, workspace=workspace, toolbox=toolbox, policy=policy, control=control,
        session_id=session_dir.name, max_turns=settings.max_turns, context_tokens=settings.context_tokens,
        timeout_s=settings.timeout_s, options={k: getattr(settings, k) for k in RESUMED_OPTIONS},
        environment=environment,
    )
    toolbox.providers.append(BuiltinTools(workspace, run=loop.run_command, on_plan=loop.plan_updated))
    mcp = None
    if servers:
        mcp = McpManager(servers, project=project,
                         on_event=lambda source, message: loop.emit(ToolProgress(None, source, message)))
        toolbox.providers.append(mcp)  # the loop starts it: a server that fails is marked failed, the run goes on
    recorder = SessionRecorder(session_dir)
    if fork_at is not None:  # a fork's record starts with its parent's, up to the fork point
        for event in history:
            recorder.write(event)
    loop.subscribe(recorder.write)
    if history:
        loop.restore(history)
    return Run(settings, session_dir, loop, control, workspace, sandbox, recorder, mcp)


def _history(session_dir: Path, fork_at: int | None) -> list[Event]:
    """The recorded events a resume (or a fork at iteration `fork_at`) starts from."""
    if fork_at is None:
        history = whole_iterations(read_events(session_dir))
        if not history:
            raise ConfigError(f"{session_dir}: no whole iteration was recorded; start a new run instead")
        return history
    events = effective(read_events(session_dir))
    ends = [i for i, e in enumerate(events) if isinstance(e, IterationFinished) and e.iteration == fork_at]
    if not ends:
        done = [e.iteration for e in events if isinstance(e, IterationFinished)]
        raise ConfigError(f"{session_dir.name} has no iteration {fork_at} to fork from (it has {done or 'none'})")
    return events[: ends[0] + 1]


def settings_of_session(session_dir: Path) -> dict:
    """The goal, check, project and model a recorded session was started with (for resume and replay)."""
    for event in read_events(session_dir):
        if isinstance(event, SessionStarted):
            return {"project": Path(event.project), "goal": event.goal, "check": event.check, "model": event.model,
                    "sandbox": event.sandbox, **{k: v for k, v in event.criteria.items() if v is not None},
                    **{k: v for k, v in event.options.items() if k in RESUMED_OPTIONS}}
    raise ConfigError(f"{session_dir}: the session has no start record")
