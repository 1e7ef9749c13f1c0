"""Attach: a run served over its session's Unix socket (0600, the same user only) to several windows at once;
one set of controls: a pause from one window pauses the run for all; a window leaving never stops the run."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from tui_agent.attach.client import AttachedRun
from tui_agent.attach.server import AttachServer
from tui_agent.attach.shared import Shared
from tui_agent.attach.wire import AttachError, line, same_user, socket_path
from tui_agent.commands import Command, Pause, Resume, Step, Stop
from tui_agent.events import Event, Finished, IterationStarted, Paused, Resumed
from tui_agent.replay_run import ReplayRun

pytestmark = pytest.mark.unit
SYSTEM_PYTHON = "/usr/bin/python3"  # another user cannot run a python under /root
RECORDED = Path(__file__).parent / "tui" / "data" / "calculator.jsonl"


def _session(tmp_path: Path) -> Path:
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(RECORDED, folder / "events.jsonl")
    return folder


async def _until(predicate, what: str) -> None:
    for _ in range(2000):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


def test_commands_round_trip_through_json_like_events():
    for command in (Pause(), Resume(), Step(), Stop("because")):
        assert Command.from_dict(command.to_dict()) == command
    with pytest.raises(ValueError):
        Command.from_dict({"type": "paused"})  # an event is not a command


async def test_two_windows_steer_one_run_and_leaving_does_not_stop_it(tmp_path):
    run = Shared(ReplayRun(_session(tmp_path), speed=0, step=True))
    await run.start()
    seen: list[Event] = []
    run.subscribe(seen.append)
    path = socket_path(run.session_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    playing = asyncio.ensure_future(run.execute())
    one, two = await AttachedRun(run.session_dir).connect(), await AttachedRun(run.session_dir).connect()
    got_one: list[Event] = []
    got_two: list[Event] = []
    one.subscribe(got_one.append)
    two.subscribe(got_two.append)
    one_done, two_done = asyncio.ensure_future(one.execute()), asyncio.ensure_future(two.execute())
    await _until(lambda: any(isinstance(e, Paused) for e in got_two), "the start paused, in window two")
    assert one.send(Step()).ok  # window one steps: both see iteration 1, then paused again
    await _until(lambda: sum(isinstance(e, Paused) for e in got_two) >= 2, "paused after the step, in two")
    assert any(isinstance(e, IterationStarted) for e in got_two)
    await one.close()  # window one leaves: the run goes on
    assert (await one_done).outcome == "stopped" and not playing.done()
    assert two.send(Resume()).ok
    await _until(lambda: any(isinstance(e, Resumed) for e in seen), "resumed by window two")
    finished = await playing
    assert (await two_done) == finished and finished.outcome == "met"
    assert [e.type for e in got_two] == [e.type for e in seen]  # window two saw exactly what the run emitted
    await run.close()
    assert not path.exists()


async def test_a_late_window_gets_the_history_and_every_event_so_far(tmp_path):
    run = Shared(ReplayRun(_session(tmp_path), speed=0))
    await run.start()
    seen: list[Event] = []
    run.subscribe(seen.append)
    await run.execute()
    late = await AttachedRun(run.session_dir).connect()
    got: list[Event] = []
    late.subscribe(got.append)
    done = asyncio.ensure_future(late.execute())
    await _until(lambda: any(isinstance(e, Finished) for e in got), "the finish, replayed to the late window")
    assert got == seen
    await run.close()
    assert (await done).outcome == "met"


async def test_a_bad_line_gets_a_refusal_not_a_crash(tmp_path):
    run = Shared(ReplayRun(_session(tmp_path), speed=0, step=True))
    await run.start()
    reader, writer = await asyncio.open_unix_connection(str(socket_path(run.session_dir)))
    await reader.readline()  # hello
    writer.write(b'{"command": {"type": "rm_rf"}}\n' + line("command", Pause().to_dict()))
    replies = []
    while len(replies) < 2:
        raw = await reader.readline()
        if raw.startswith(b'{"reply"'):
            replies.append(raw)
    assert b'"ok": false' in replies[0] and b'"ok": true' in replies[1]
    writer.close()
    await run.close()


async def test_no_live_run_is_one_clear_error(tmp_path):
    with pytest.raises(AttachError, match="no live run"):
        await AttachedRun(tmp_path).connect()


def test_the_peer_is_checked_by_the_kernel():
    a, b = socket.socketpair(socket.AF_UNIX)
    try:
        assert same_user(a)  # SO_PEERCRED: this process's own uid
    finally:
        a.close()
        b.close()
    assert not same_user(None)


@pytest.mark.skipif(os.getuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
                    reason="needs root and a python another user can run")
async def test_another_user_is_refused(tmp_path):
    open_dir = Path(tempfile.mkdtemp(prefix="attach-peer-"))
    open_dir.chmod(0o755)
    server = AttachServer(ReplayRun(_session(tmp_path), speed=0), path=open_dir / "attach.sock")
    await server.start()
    os.chmod(server.path, 0o777)  # even if the file mode let them in, the peer check refuses them
    code = ("import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
            "sys.exit(0 if s.recv(100) == b'' else 1)")
    try:
        child = await asyncio.create_subprocess_exec(SYSTEM_PYTHON, "-c", code, str(server.path), user=65534)
        assert await child.wait() == 0, "connected, then closed at once with nothing said"
        assert server.refused == 1
    finally:
        await server.close()
        shutil.rmtree(open_dir)


def test_attach_without_a_live_run_is_one_line_and_exit_2(tmp_path, capsys):
    from tui_agent.cli.main import main

    session = _session(tmp_path)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(socket_path(session)))  # what a killed run leaves: a socket nobody listens on
    stale.close()
    assert main(["attach", "--sessions", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no live run to attach to" in err
    assert main(["attach", str(session)]) == 2
    assert "no live run" in capsys.readouterr().err
