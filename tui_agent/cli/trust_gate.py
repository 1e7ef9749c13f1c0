"""The trust question before a run: headless says what an untrusted project's config lost; the TUI asks. Bad input is
refused before it, and before any screen."""

from __future__ import annotations

import sys
from pathlib import Path
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


async def checked_settings(project: Path, flags: dict, headless: bool, resume_dir: Path | None = None,
                           fork_at: int | None = None) -> config.Settings | None:
    """The run's settings, every bad input refused before any screen (the trust question's included); None: the
    person chose to quit at the trust question."""
    from tui_agent.agent.preflight import preflight

    settings = config.load(project, **flags)
    preflight(settings, resume_dir=resume_dir, fork_at=fork_at)
    answered = await asks_trust(settings, headless, lambda: config.load(project, **{**flags, "trust_project": True}))
    if answered is not None and answered is not settings:  # trusted now: its own config and .mcp.json count
        preflight(answered, resume_dir=resume_dir, fork_at=fork_at)
    return answered
