"""TrustApp: the trust question on its own, before a run's app opens (nothing of the project has run yet)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from tui_agent import trust
from tui_agent.tui.screens.trust import TrustScreen


class TrustApp(App[str]):
    """Shows the TrustScreen; its return value is the answer ("trust", "untrusted", "quit")."""

    TITLE = "tui-agent"

    def __init__(self, project: Path, review: trust.Review) -> None:
        super().__init__()
        self.project, self.review = Path(project), review
        self.changed = trust.recorded(self.project) is not None

    def on_mount(self) -> None:
        self.push_screen(TrustScreen(str(self.project), self.review, self.changed), self.exit)


async def ask_trust(project: Path, review: trust.Review) -> str:
    answer = await TrustApp(project, review).run_async()
    return answer or "quit"
