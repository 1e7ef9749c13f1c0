"""The first screen comes before the sandbox: a sandbox slow to start does not hold up the panels, nor the keys."""

from __future__ import annotations

import asyncio

from sandbox_fixtures import require_backend
from tui_fixtures import example_settings, until

from tui_agent import sandbox as sandboxes
from tui_agent.sandbox.bwrap.sandbox import BwrapSandbox
from tui_agent.tui.app import AgentApp

SIZE = (160, 48)


class GatedBwrap(BwrapSandbox):
    """The real bwrap sandbox, slow to start: its start waits until the test opens the gate (as long as it takes)."""

    entered: asyncio.Event
    gate: asyncio.Event
    started = False

    async def start(self) -> None:
        GatedBwrap.entered.set()
        await GatedBwrap.gate.wait()
        await super().start()
        GatedBwrap.started = True


async def test_the_panels_and_keys_come_before_a_slow_sandbox(tmp_path, monkeypatch):
    require_backend("bwrap")
    GatedBwrap.entered, GatedBwrap.gate, GatedBwrap.started = asyncio.Event(), asyncio.Event(), False
    monkeypatch.setitem(sandboxes.BACKENDS, "bwrap", f"{__name__}:GatedBwrap")
    app = AgentApp(example_settings(tmp_path, sandbox="bwrap"))
    async with app.run_test(size=SIZE) as pilot:
        await asyncio.wait_for(GatedBwrap.entered.wait(), 120)  # the run is prepared up to the sandbox's start
        await pilot.pause()
        main = app.main
        panels = (main.plan, main.output, main.fixes, main.permissions)
        assert not GatedBwrap.started and app.agent_run is None
        assert all(panel.region.area > 0 for panel in panels), "the four panels are laid out on screen"
        assert str(main.status.query_one("#phase").render()).strip() == "STARTING SANDBOX"
        await pilot.press("2")  # a key is answered while the sandbox starts
        assert app.focused is main.focus_target("output")
        GatedBwrap.gate.set()
        await until(pilot, lambda: app.state.started, what="the session to start once the sandbox is up")
        assert GatedBwrap.started
        await pilot.press("ctrl+q")
    assert app.closed
