"""RunHandle: what a run is to any UI (this terminal, headless JSON, later a second terminal or a browser)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from tui_agent.commands import Command, Deploy, Reply
from tui_agent.events import Event

if TYPE_CHECKING:
    from tui_agent.events import Finished
    from tui_agent.tools.mcp.manager import ServerStatus
    from tui_agent.tools.mcp.prompts import PromptEntry

Sink = Callable[[Event], None]


class RunHandle(Protocol):
    """Events out (subscribe), commands in (send, plain data both ways), and the few facts a screen shows.

    Implemented by runner.Run (a live run) and replay_run.ReplayRun (a recorded one: nothing runs)."""

    session_dir: Path  # the session's folder (a replay: the recorded one)
    replay: bool  # a recorded session played again: nothing runs, nothing is deployed

    def subscribe(self, sink: Sink) -> None:
        """Deliver every event from now on to `sink`, on the run's event loop."""

    async def execute(self) -> Finished:
        """Run to the end (goal met, a criterion, a stop); the last event emitted is this Finished."""

    def send(self, command: Command) -> Reply:
        """The person's command: pause, resume, step, stop, answer a tool call, breakpoints, deploy, restart."""

    def history(self) -> list[Event]:
        """What was recorded before execute() (a resumed or forked session's past); [] for a new run."""

    def rules(self) -> dict[str, list[str]]:
        """The permission rules in force: {"allow": [...], "ask": [...], "deny": [...]}."""

    def breakpoints(self) -> list[str]:
        """The breakpoints in force, spelled as --break-on takes them."""

    def servers(self) -> tuple[ServerStatus, ...]:
        """Each MCP server's state, tools and reason; () when the project has none."""

    async def prompts(self) -> list[PromptEntry]:
        """The ready MCP servers' prompts, for the command palette; [] when there are none (a replay: none)."""

    async def prompt_text(self, server: str, name: str, arguments: dict[str, str] | None = None) -> str:
        """A prompt's text for the person to use; ValueError says why it cannot be had."""

    def changes(self) -> str:
        """Every change since the start, as one unified diff (what a deploy would write)."""

    def deploy_preview(self, deploy: Deploy) -> list[tuple[str, bytes | None]] | None:
        """What this per-hunk Deploy would write: (path, its exact new bytes, or None: removed) per file; None
        without a workspace here to compute it from (a replay, a window attached to a run elsewhere)."""

    def attach_unavailable(self) -> str:
        """Why no other window can attach to this run ("" when one can: this window may then leave it running)."""

    async def alone(self) -> None:
        """Return once no other window is attached to the run (at once when none can attach)."""

    async def close(self) -> None:
        """Stop what the run started (MCP servers, sandbox), leave the workspace as a plain folder."""
