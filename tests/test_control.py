"""Pause, resume, step and stop, and permission requests as Futures the UI resolves."""

import asyncio

import pytest

from tui_agent.agent.control import Controller, StopRequested
from tui_agent.events import Paused, Resumed


async def test_checkpoint_passes_when_running():
    control = Controller()
    await asyncio.wait_for(control.checkpoint(1), 1)


async def test_pause_blocks_until_resume_and_emits_events():
    control, seen = Controller(), []
    control.bind(seen.append)
    control.pause()
    waiter = asyncio.ensure_future(control.checkpoint(2))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    control.resume()
    await asyncio.wait_for(waiter, 1)
    assert [type(e) for e in seen] == [Paused, Resumed]
    assert seen[0].iteration == 2


async def test_step_lets_one_iteration_through_then_pauses():
    control = Controller(start_paused=True)
    first = asyncio.ensure_future(control.iteration_boundary(1))
    await asyncio.sleep(0.05)
    assert not first.done(), "--step starts paused"
    control.step()
    await asyncio.wait_for(first, 1)
    await asyncio.wait_for(control.checkpoint(1), 1)  # inside the iteration: runs on
    second = asyncio.ensure_future(control.iteration_boundary(2))
    await asyncio.sleep(0.05)
    assert not second.done(), "after one step the next iteration waits"
    control.resume()
    await asyncio.wait_for(second, 1)


async def test_stop_wakes_a_paused_loop_with_its_reason():
    control = Controller()
    control.pause()
    waiter = asyncio.ensure_future(control.checkpoint(1))
    await asyncio.sleep(0.01)
    control.stop("enough")
    with pytest.raises(StopRequested, match="enough"):
        await asyncio.wait_for(waiter, 1)


async def test_permission_is_a_future_the_ui_resolves():
    control = Controller()
    asking = asyncio.ensure_future(control.ask("c1", "write_file", {"path": "a"}, 1))
    await asyncio.sleep(0.01)
    assert list(control.pending) == ["c1"]
    assert control.decide("c1", "allow", {"path": "b"})
    decision = await asyncio.wait_for(asking, 1)
    assert (decision.action, decision.arguments) == ("allow", {"path": "b"})
    assert control.pending == {}
    assert not control.decide("c1", "deny"), "a decided request cannot be answered twice"


async def test_headless_never_asks():
    control = Controller(interactive=False)
    decision = await asyncio.wait_for(control.ask("c1", "run_command", {}, 1), 1)
    assert decision.action == "deny"


async def test_stop_denies_a_pending_permission():
    control = Controller()
    asking = asyncio.ensure_future(control.ask("c1", "run_command", {}, 1))
    await asyncio.sleep(0.01)
    control.stop()
    assert (await asyncio.wait_for(asking, 1)).action == "deny"
