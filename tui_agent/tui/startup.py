"""How the app gets its run without holding up the first paint: the heavy modules load off the event loop.

The runner pulls in the MCP client, the model SDK and the sandbox engine's client (together ~0.7 s of imports, more
for the anthropic SDK); imported on the event loop they would hold the panels and every key until they are done.
The objects made by the imports and the first screen live as long as the app: the collector is told to skip them.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
from pathlib import Path

from tui_agent.config import Settings
from tui_agent.handle import RunHandle

SANDBOX_MODULES = {"auto": "tui_agent.sandbox.docker.sandbox", "docker": "tui_agent.sandbox.docker.sandbox",
                   "podman": "tui_agent.sandbox.docker.podman", "bwrap": "tui_agent.sandbox.bwrap.sandbox"}


_settled = 0  # how many times settle_heap froze the heap in this process (at most twice: a test runs many apps)


def settle_heap() -> None:
    """Take every object alive now (the modules, classes and functions of the imports, the first screen's widgets)
    out of the collector's full passes: one pass over them all costs ~15 ms, a stall in the first paint or a key.

    Only the first two calls in a process freeze (imports, then the first screen): later apps (tests) would freeze
    the garbage of the ones before them for good."""
    global _settled
    if _settled < 2:
        _settled += 1
        gc.freeze()


def run_modules(settings: Settings) -> list[str]:
    """What prepare will import for these settings: the runner, the model's SDK, the sandbox backend."""
    modules = ["tui_agent.runner", "tui_agent.agent.gate"]
    model = str(settings.model or "")
    if (model.partition(":")[0] if ":" in model else "anthropic") == "anthropic":
        modules.append("tui_agent.models.anthropic")
    if backend := SANDBOX_MODULES.get(str(settings.sandbox or "auto")):
        modules.append(backend)
    return modules


def _load(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # prepare imports it again on the loop and reports the error as before (exit 2)
            pass


async def load_off_loop(modules: list[str]) -> None:
    """Import these in a worker thread: meanwhile the screen paints and keys are answered."""
    await asyncio.to_thread(_load, modules)


async def prepare_run(settings: Settings, resume_dir: Path | None, fork_at: int | None = None) -> RunHandle:
    await load_off_loop(run_modules(settings))
    from tui_agent.agent.gate import PERSON
    from tui_agent.attach.shared import shared
    from tui_agent.runner import prepare

    run = await prepare(settings, who=PERSON, resume_dir=resume_dir, fork_at=fork_at, questions=True)
    return await shared(run)  # other windows can attach to it (`tui-agent attach`, `tui-agent serve`)


async def given(run: RunHandle) -> RunHandle:
    return run
