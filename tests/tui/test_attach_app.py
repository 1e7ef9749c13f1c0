"""Pilot: the app attached to a run in another window (AttachApp over the run's socket): its keys steer the run
(step, pause), what the run emits shows here, and quitting this window leaves the run as it was."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from tui_fixtures import until

from tui_agent.attach.client import AttachedRun
from tui_agent.attach.shared import Shared
from tui_agent.cli.live import command_line
from tui_agent.commands import Resume
from tui_agent.events import IterationStarted, Paused
from tui_agent.replay_run import ReplayRun
from tui_agent.tui.attach_app import AttachApp

RECORDED = Path(__file__).parent / "data" / "calculator.jsonl"


async def test_keys_in_the_attached_window_steer_the_run_and_quitting_leaves_it(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(RECORDED, folder / "events.jsonl")
    run = Shared(ReplayRun(folder, speed=0, step=True))
    await run.start()
    emitted: list = []
    run.subscribe(emitted.append)
    playing = asyncio.ensure_future(run.execute())
    app = AttachApp(await AttachedRun(folder).connect())
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.state.paused, what="paused at the start, shown here")
        assert "attached to s" in app.title
        await pilot.press("s")  # step, from this window
        await until(pilot, lambda: sum(isinstance(e, Paused) for e in emitted) >= 2, what="the run stepped")
        assert any(isinstance(e, IterationStarted) for e in emitted)
        await until(pilot, lambda: app.state.paused and app.state.iteration >= 1, what="paused after the step")
        await pilot.press("ctrl+q")
    for _ in range(1000):  # the server reads all this window sent, then its end
        if not run.server.windows:
            break
        await asyncio.sleep(0.01)
    assert not run.server.windows
    assert not playing.done() and emitted[-1] == Paused("step", 2), "quitting an attached window never stops the run"
    run.send(Resume())
    assert (await playing).outcome == "met"
    await run.close()


def test_the_browser_choice_as_a_command_line():
    session = Path("/s/x")
    assert command_line("replay", session) == ["replay", "/s/x"]
    assert command_line("resume", session) == ["resume", "/s/x"]
    assert command_line("fork", session, 2) == ["resume", "/s/x", "--fork-at", "2"]
    assert command_line("attach", session) == ["attach", "/s/x"]


def test_serve_public_url_is_the_origin_and_a_bad_one_is_refused(tmp_path):
    """Behind --host 0.0.0.0 the browser's Origin is the address it used: --public-url names it; the websocket
    from that Origin and the token is let in, any other Origin is not; a URL with a path is bad input."""
    from aiohttp.test_utils import make_mocked_request

    from tui_agent.tui.serve import GuardedServer, check_public_url, ipaddress_is_loopback

    server = GuardedServer(tmp_path, "127.0.0.1", 0, token="t0k", public_url=check_public_url("http://box.lan:8000/"))
    assert server.url == "http://box.lan:8000/t0k"

    def allowed(origin: str, token: str = "t0k") -> bool:
        request = make_mocked_request("GET", f"/ws/{token}", headers={"Origin": origin}, match_info={"token": token})
        return server.allowed(request, origin_required=True)

    assert allowed("http://box.lan:8000") and not allowed("http://127.0.0.1:8000") and not allowed("http://evil")
    assert not allowed("http://box.lan:8000", token="t0x")
    with pytest.raises(ValueError):
        check_public_url("http://box.lan:8000/path")
    with pytest.raises(ValueError):
        check_public_url("javascript:alert(1)")
    assert ipaddress_is_loopback("127.0.0.1") and ipaddress_is_loopback("[::1]")
    assert not ipaddress_is_loopback("0.0.0.0")
