"""run_tui: open the app on a run built from settings and return the exit code (0 goal met, 1 otherwise)."""

from __future__ import annotations

import sys
from pathlib import Path

from tui_agent.config import Settings, check_project
from tui_agent.handle import RunHandle
from tui_agent.sanitize import one_line


async def run_tui(settings: Settings, *, resume_dir: Path | None = None, fork_at: int | None = None,
                  run: RunHandle | None = None) -> int | list[str]:
    """The exit code, or the command line the person chose in the session browser (v) for the CLI to run next.

    Bad input found while preparing (no folder, no sandbox, bad model spec) is raised after the app closes.

    With `run` (e.g. a ReplayRun) the app drives that run instead of preparing one; it is closed on exit,
    also when the terminal goes away (SIGHUP) or the process gets SIGTERM."""
    from tui_agent.tui.app import AgentApp
    from tui_agent.tui.signals import EXIT_GRACE_S, forget_ending_signals, on_ending_signals

    if run is None:
        check_project(Path(settings.project))  # fail before the screen opens when the folder is missing
    app = AgentApp(settings, resume_dir=resume_dir, fork_at=fork_at, run=run)
    app.hard_exit_after = EXIT_GRACE_S
    app.leave_allowed = run is None  # a live run goes on when its window closes (not a replay, not a review)
    handled = on_ending_signals(app)
    try:
        code = await app.run_async()
        if app.left:
            from tui_agent.tui.leave import keep_running

            return await keep_running(app)
    finally:
        await app.shutdown()  # the app may have ended some other way: the sandbox is still stopped cleanly
        forget_ending_signals(handled)
    if app.startup_error is not None:
        raise app.startup_error
    if app.finished is not None and app.finished.outcome == "invalid":
        print(f"tui-agent: error: {one_line(app.finished.reason)}", file=sys.stderr)
    if app.next_command is not None:
        return app.next_command
    return app.exit_code if code is None or code == 2 else code
