"""A review's recheck: the session's check on the accepted subset, in a sandbox of the session's own backend, started
for that one run and closed after (ReviewGate's loop side, for a finished session where no loop runs)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from tui_agent import config
from tui_agent import sandbox as sandboxes
from tui_agent.agent.output import OutputBuffer
from tui_agent.agent.termination import Progress
from tui_agent.config import Criteria
from tui_agent.environments.session import for_run
from tui_agent.events import Event, OutputChunk
from tui_agent.runner import _limits, choose_sandbox, settings_of_session
from tui_agent.sandbox import hosts as sandbox_hosts
from tui_agent.sandbox.base import RunResult, SandboxUnavailable
from tui_agent.workspace.workspace import Workspace


@dataclass(frozen=True)
class RecheckConfig:
    """What the gate reads of a loop's config: the session's check and its pass pattern."""

    check: str
    criteria: Criteria


class RecheckHost:
    """The `loop` a ReviewGate works with: the workspace, emit, progress, config and `sandboxed(k, command)`.

    `sandboxed` raises SandboxUnavailable (with one line saying why) when no sandbox can run the check here."""

    def __init__(self, session_dir: Path, workspace: Workspace, emit: Callable[[Event], None], iterations: int):
        self.session_dir, self.workspace, self.emit = session_dir, workspace, emit
        self.recorded = settings_of_session(session_dir)
        criteria = Criteria(pass_pattern=self.recorded.get("pass_pattern"))
        self.config = RecheckConfig(self.recorded["check"], criteria)
        self.progress = Progress(criteria, iterations)

    def _settings(self) -> config.Settings:
        """The session's settings (its backend, image, limits) over the person's config as it is now."""
        flags = {k: v for k, v in self.recorded.items() if k not in ("project", "goal", "model")}
        project = Path(self.recorded["project"])
        try:
            return config.load(project if project.is_dir() else self.session_dir, **flags)
        except config.ConfigError as exc:
            raise SandboxUnavailable(f"the session's settings do not load: {exc}") from None

    async def _sandbox(self, settings: config.Settings) -> sandboxes.Sandbox:
        try:
            choice, engine, runtime = sandbox_hosts.placement(settings)
            limits = _limits(settings)
            spec = sandboxes.SandboxSpec(settings.project, limits, settings.image, engine=engine, runtime=runtime)
            backend = choose_sandbox(choice, spec)
            environment = await for_run(settings, settings.project, backend, limits, engine)
        except config.ConfigError as exc:
            raise SandboxUnavailable(str(exc)) from None
        if not environment.ready:  # building it reaches the network: only the person starts that
            raise SandboxUnavailable("the project's environment is not built (`tui-agent env build` builds it)")
        sandbox = sandboxes.create(backend, environment.spec(replace(spec, workspace=self.workspace.path)))
        try:
            await sandbox.start()
        except BaseException:
            await sandbox.close()
            raise
        return sandbox

    async def sandboxed(self, k: int, command: str) -> tuple[RunResult, OutputBuffer]:
        """Run `command` in a sandbox started now and closed after; its output streams as OutputChunk of `k`."""
        buffer = OutputBuffer()

        def on_output(stream: str, text: str) -> None:
            buffer.add(text)
            self.emit(OutputChunk(k, stream, text))

        settings = self._settings()
        sandbox = await self._sandbox(settings)
        try:
            result = await sandbox.run(command, on_output, settings.timeout_s)
        except Exception as exc:  # a backend bug: the recheck failed, not the review
            result = RunResult(None, 0.0, error=f"{type(exc).__name__}: {exc}")
        finally:
            await sandbox.close()
        return result, buffer
