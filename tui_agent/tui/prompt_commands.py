"""The command palette's `Prompt SERVER/NAME` entries: each ready MCP server's prompts (listed when the palette
opens), each opening the prompt's dialog. A server's names and descriptions are untrusted: shown sanitized."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui_agent.tui.safe import plain
from tui_agent.tui.widgets.question_text import clean

if TYPE_CHECKING:  # the MCP client and the dialog load when the palette first offers a prompt
    from tui_agent.handle import RunHandle
    from tui_agent.tools.mcp.prompts import PromptEntry


@runtime_checkable
class RunWindow(Protocol):
    """An app that drives a run (AgentApp, None until the run is built): the palette asks it for the prompts."""

    agent_run: RunHandle | None


class PromptCommands(Provider):
    @property
    def run(self) -> RunHandle | None:
        return self.app.agent_run if isinstance(self.app, RunWindow) else None

    async def startup(self) -> None:
        run = self.run
        self.entries: list[PromptEntry] = []
        if run is not None:
            try:
                self.entries = await run.prompts()
            except Exception:  # a run being closed: no prompts to offer
                self.entries = []

    def _open(self, entry: PromptEntry) -> None:
        run = self.run
        if run is not None:
            from tui_agent.tui.screens.prompt import PromptScreen

            self.app.push_screen(PromptScreen(entry, run.prompt_text))

    @staticmethod
    def title(entry: PromptEntry) -> str:
        return plain(clean(f"Prompt {entry.server}/{entry.name}", 120), newlines=False)

    @staticmethod
    def help(entry: PromptEntry) -> str:
        return plain(clean(entry.description or "an MCP server's prompt: its text to copy", 200), newlines=False)

    async def discover(self) -> Hits:
        for entry in self.entries:
            yield DiscoveryHit(self.title(entry), partial(self._open, entry), help=self.help(entry))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self.entries:
            title = self.title(entry)
            if (score := matcher.match(title)) > 0:
                yield Hit(score, matcher.highlight(title), partial(self._open, entry), help=self.help(entry))
