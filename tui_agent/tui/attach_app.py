"""AttachApp: the TUI on a run that lives in another window; closing it leaves the run running."""

from __future__ import annotations

from pathlib import Path

from tui_agent.attach.client import AttachedRun
from tui_agent.config import Settings
from tui_agent.tui.app import AgentApp
from tui_agent.tui.startup import given


def attached_settings(run: AttachedRun) -> Settings:
    """What the panels show, as the run's own window has it; nothing here acts (the run acts in its process)."""
    said = run.settings
    return Settings(project=Path(said.get("project") or run.session_dir), goal=said.get("goal", ""),
                    check=said.get("check", ""), model=said.get("model", ""), sandbox=said.get("sandbox", ""),
                    mode=said.get("mode") or "auto")


class AttachApp(AgentApp):
    """One run, one set of controls: every key is a command to the run; quitting is leaving, not stopping."""

    def __init__(self, run: AttachedRun, **kwargs) -> None:
        super().__init__(attached_settings(run), start=lambda: given(run), **kwargs)
        self.title = f"tui-agent · attached to {run.session_dir.name}"

    async def shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._main is not None:
            await self._main.stop_deploy_command()
        if self.agent_run is not None:
            await self.agent_run.close()  # ends execute(): the loop worker returns
        if self.loop_worker is not None:
            try:
                await self.loop_worker.wait()
            except Exception:
                pass

    async def _end(self, name: str) -> None:
        try:
            await self.shutdown()  # the terminal went away: this window leaves, the run goes on
        finally:
            self.exit(self.exit_code, return_code=self.exit_code)


async def run_attached(session_dir: Path) -> int:
    """Attach this terminal to the live run of that session; 0 when the run met its goal while shown."""
    from tui_agent.tui.signals import EXIT_GRACE_S, forget_ending_signals, on_ending_signals

    run = await AttachedRun(session_dir).connect()
    app = AttachApp(run)
    app.hard_exit_after = EXIT_GRACE_S
    handled = on_ending_signals(app)
    try:
        await app.run_async()
    finally:
        await app.shutdown()
        forget_ending_signals(handled)
    return app.exit_code
