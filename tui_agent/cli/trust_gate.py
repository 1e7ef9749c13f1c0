"""The trust question before a run: headless says what an untrusted project's config lost; the TUI asks."""

from __future__ import annotations

import sys
from typing import Callable

from tui_agent import config
from tui_agent.sanitize import visible


async def asks_trust(settings: config.Settings, headless: bool,
                     trusted: Callable[[], config.Settings]) -> config.Settings | None:
    """Headless: say what an untrusted project's config lost. TUI: ask first (None: the person chose to quit);
    `trusted` loads the settings again once the person trusted the project."""
    if not headless and not settings.project_trusted:
        from tui_agent import trust
        from tui_agent.tui.trust_app import ask_trust

        answer = await ask_trust(settings.project, trust.review(settings.project))
        if answer == "quit":
            return None
        if answer == "trust":
            trust.record(settings.project)
            return trusted()
    for notice in settings.notices:
        print(f"tui-agent: notice: {visible(notice)}", file=sys.stderr)
    return settings
