"""The configured deploy command, run on the host in the project folder once the person approved the deploy."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tui_agent.sanitize import sanitize
from tui_agent.tui.said import Heading

if TYPE_CHECKING:
    from tui_agent.tui.screens.main import MainScreen


async def run_deploy_command(screen: MainScreen, command: str) -> None:
    """Stream its output into the output panel (sanitised), then say how it ended; `screen.deploy_process` holds
    the process so that quitting can stop it."""
    screen.output.write_heading(Heading(f"── deploy command: {command}", mark="deploy"))
    screen.deploy_process = proc = await asyncio.create_subprocess_shell(
        command, cwd=str(screen.settings.project), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    assert proc.stdout is not None
    while chunk := await proc.stdout.read(65536):
        screen.output.append(sanitize(chunk.decode("utf-8", errors="replace")))
    code = await proc.wait()
    ok = code == 0
    screen.output.write_heading(Heading(f"── deploy command exited {code}", "good" if ok else "bad"))
    screen.notify(f"Deploy command {'finished' if ok else f'failed (exit {code})'}: {command}",
                  severity="information" if ok else "error", timeout=30)
