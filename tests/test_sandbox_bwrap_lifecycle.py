"""The bubblewrap backend's lifecycle: pre-started sandboxes, close, cancel, crashes, staging, fallbacks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui_agent.sandbox import SandboxSpec, create, probe
from tui_agent.sandbox.bwrap import cgroup
from tui_agent.sandbox.bwrap.sandbox import BwrapSandbox
from tui_agent.sandbox.bwrap.setup import host_tools
from tui_agent.workspace import quota as fsquota

from bwrap_fixtures import LIMITS, REPO, appears, leftovers, mark, own_run_cgroups, run, still_works

pytestmark = pytest.mark.bwrap


def test_registry_and_probe():
    assert create("bwrap", SandboxSpec(Path("/tmp"), LIMITS)).name == "bwrap"
    assert probe("bwrap", SandboxSpec(Path("/nonexistent-ws"), LIMITS)).startswith("workspace")


def test_probe_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    host_tools.cache_clear()
    try:
        assert BwrapSandbox.probe(None) == "bwrap not found: apt-get install bubblewrap"
    finally:
        host_tools.cache_clear()


async def test_every_run_gets_a_fresh_sandbox_that_sees_the_live_workspace(box, workspace):
    first, _ = await run(box, "echo left > /tmp/t; echo $$ > /tmp/pid; sleep 0.2")
    (workspace / "late.txt").write_text("written after the sandbox was pre-started\n")  # live bind
    second, out = await run(box, "cat /tmp/t 2>/dev/null || echo fresh-tmp; cat late.txt; echo $$")
    assert first.ok and second.ok
    assert out.of("stdout").startswith("fresh-tmp\nwritten after the sandbox was pre-started\n")


async def test_close_leaves_no_prestarted_sandbox(workspace):
    sandbox = BwrapSandbox(SandboxSpec(workspace, LIMITS))
    await sandbox.start()
    sentinel = sandbox._sentinel  # in the command line of every waiting sandbox
    try:
        assert appears(sentinel)
    finally:
        await sandbox.close()
    assert leftovers(sentinel) == [] and own_run_cgroups() == []


async def test_concurrent_runs_are_separate(box):
    (r1, o1), (r2, o2) = await asyncio.gather(run(box, "sleep 0.3; echo one"), run(box, "echo two; exit 2"))
    assert (r1.exit_code, o1.of(), r2.exit_code, o2.of()) == (0, "one\n", 2, "two\n")


async def test_cancelled_run_leaves_nothing(box):
    name = mark()
    task = asyncio.ensure_future(run(box, f"sh -c 'sleep 1000; : {name}'"))
    assert await asyncio.to_thread(appears, name)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(name) == []
    await still_works(box)


async def test_a_failing_callback_stops_the_run(box):
    name = mark()

    def explode(stream: str, text: str) -> None:
        raise ValueError("renderer broke")

    with pytest.raises(ValueError, match="renderer broke"):
        await box.run(f"echo hi; sh -c 'sleep 1000; : {name}'", explode)
    assert leftovers(name) == []
    await still_works(box)


async def test_close_kills_running_commands_and_refuses_new_ones(workspace):
    name = mark()
    sandbox = BwrapSandbox(SandboxSpec(workspace, LIMITS))
    task = asyncio.ensure_future(run(sandbox, f"sh -c 'sleep 1000; : {name}'", timeout_s=30))
    assert await asyncio.to_thread(appears, name)
    await sandbox.close()
    result, _ = await asyncio.wait_for(task, 5)
    assert result.exit_code is None and not result.ok and leftovers(name) == []
    after, _ = await run(sandbox, "true")
    assert after.error and "closed" in after.error


async def test_infrastructure_failure_is_an_error_not_an_exit_code(workspace):
    sandbox = BwrapSandbox(SandboxSpec(workspace, LIMITS))
    await sandbox.start()
    try:
        fsquota.unmount(workspace)
        workspace.rmdir()
        result, out = await run(sandbox, "echo never")
        assert result.exit_code is None and result.error.startswith("bwrap could not start the sandbox")
        assert out.of() == ""
    finally:
        workspace.mkdir(exist_ok=True)
        await sandbox.close()


async def test_unreachable_workspace_is_staged_and_follows_a_swap(tmp_path):
    private = tmp_path / "private"  # 0700 root: uid 1000 cannot walk into it
    private.mkdir(mode=0o700)
    ws = private / "ws"
    ws.mkdir()
    os.chown(ws, LIMITS.uid, LIMITS.gid)
    sandbox = BwrapSandbox(SandboxSpec(ws, LIMITS))
    try:
        result, _ = await run(sandbox, "echo one > f")
        assert result.ok and (ws / "f").read_text() == "one\n"
        ws.rename(private / "old")  # a workspace swapped underneath (snapshot restore)
        ws.mkdir()
        os.chown(ws, LIMITS.uid, LIMITS.gid)
        result, out = await run(sandbox, "ls; echo two > g")
        assert result.ok and out.of() == "" and (ws / "g").read_text() == "two\n"
    finally:
        await sandbox.close()
    assert not any(str(private) in line for line in Path("/proc/mounts").read_text().splitlines())


async def test_rlimit_fallback_without_cgroups(workspace, monkeypatch):
    monkeypatch.setattr(cgroup, "hierarchies", lambda: ())
    sandbox = BwrapSandbox(SandboxSpec(workspace, LIMITS))
    name = mark()
    try:
        result, out = await run(sandbox, "python3 -c \"b = b'x' * (256 << 20)\" 2>&1 | tail -1")
        assert "MemoryError" in out.of()
        result, _ = await run(sandbox, f"setsid sh -c 'sleep 1000; : {name}' & sleep 1000", timeout_s=1)
        assert result.timed_out and leftovers(name) == []
        await still_works(sandbox)
    finally:
        await sandbox.close()


async def test_nothing_survives_a_killed_owner(workspace):
    name = mark()
    script = textwrap.dedent(f"""
        import asyncio, sys
        from pathlib import Path
        from tui_agent.sandbox import Limits, SandboxSpec, create
        async def main():
            box = create("bwrap", SandboxSpec(Path({str(workspace)!r}), Limits()))
            def out(stream, text):
                print(text, end="", flush=True)
            await box.run("echo ready; sh -c 'sleep 1000; : {name}'", out)
        asyncio.run(main())
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=REPO)
    try:
        assert owner.stdout.readline() == b"ready\n"
        assert appears(name)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    assert leftovers(name) == [], "the sandbox outlived the process that started it"
    stale = [p for h in cgroup.hierarchies() for p in h.parent.glob(f"run-{owner.pid}-*")]
    await cgroup.remove_stale()
    await cgroup.wait_removed()
    assert stale and all(not p.exists() for p in stale)
