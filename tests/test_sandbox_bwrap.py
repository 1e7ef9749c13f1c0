"""The bubblewrap backend against real bwrap: streaming, isolation, limits, and the next run after each."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import socket
import textwrap
import time
from pathlib import Path

import pytest

from tui_agent.sandbox import SandboxSpec
from tui_agent.sandbox.bwrap import cgroup
from tui_agent.sandbox.bwrap.sandbox import BwrapSandbox
from tui_agent.sandbox.bwrap.seccomp import denylist_program

from bwrap_fixtures import LIMITS, REPO, appears, leftovers, mark, run, still_works

pytestmark = pytest.mark.bwrap


async def test_exit_code_streams_and_cwd(box, workspace):
    result, out = await run(box, "pwd; echo err >&2; echo made > made.txt; exit 3")
    assert (result.exit_code, result.error, result.timed_out, result.truncated) == (3, None, False, False)
    assert out.of("stdout") == "/workspace\n" and out.of("stderr") == "err\n"
    made = workspace / "made.txt"
    assert made.read_text() == "made\n" and made.stat().st_uid == LIMITS.uid


async def test_output_is_streamed_live(box):
    result, out = await run(box, "echo first; sleep 0.6; echo second")
    (_, first, t1), *_, (_, last, t2) = out.chunks
    assert result.ok and first == "first\n" and last.endswith("second\n")
    assert t2 - t1 > 0.4, "the first line should arrive before the command ends"


async def test_utf8_split_across_chunks_and_escapes(box):
    result, out = await run(box, "python3 -c \"import sys; sys.stdout.write('é' * 50000)\"; "
                                 r"printf '\033]0;title\007\033[31mred\033[0m\n'")
    assert result.ok and "\ufffd" not in out.of() and out.of().count("é") == 50000
    assert "\x1b]" not in out.of() and "title" not in out.of() and "\x1b[31mred" in out.of()


async def test_environment_is_clean(box, monkeypatch):
    key = secrets.token_hex(8)
    monkeypatch.setenv("ANTHROPIC_API_KEY", f"sk-ant-{key}")
    result, out = await run(box, "env; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; done")
    assert result.ok and key not in out.of() and "ANTHROPIC" not in out.of()
    env = dict(line.split("=", 1) for line in out.of().splitlines() if "=" in line)
    path = env["PATH"].removesuffix(":/opt/tui-agent/shims")  # python/pytest shims, where the host lacks them
    assert env["HOME"] == "/tmp" and path == "/usr/local/bin:/usr/bin:/bin", env["PATH"]


async def test_host_files_are_unreadable(box):
    key = secrets.token_hex(8)
    secrets_on_host = [Path("/root") / f".tuibw-{key}", Path("/tmp") / f"tuibw-{key}"]
    for path in secrets_on_host:
        path.write_text(f"secret-{key}\n")
        path.chmod(0o644)
    try:
        listing = " ".join(str(p) for p in secrets_on_host)
        result, out = await run(box, f"cat {listing} 2>&1; ls -a /root /home 2>&1; cat /etc/shadow 2>&1; true")
    finally:
        for path in secrets_on_host:
            path.unlink()
    assert result.ok and f"secret-{key}" not in out.of()


async def test_writes_outside_the_workspace_fail(box, workspace):
    name = mark()
    targets = [Path(p) / name for p in ("/etc", "/usr", "/", "/root", "/tmp", str(workspace.parent), str(REPO))]
    script = "; ".join(f"echo x > {t} 2>/dev/null && echo WROTE {t}" for t in targets)
    result, out = await run(box, f"{script}; echo x > ../{name} 2>/dev/null; true")
    assert [t for t in targets if t.exists()] == [] and "WROTE /tmp" in out.of()  # the sandbox's own /tmp
    assert result.ok


async def test_network_is_unreachable(box):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    probe_code = textwrap.dedent(f"""
        import socket
        s = socket.socket(); s.settimeout(1)
        try:
            s.connect(('127.0.0.1', {port})); print('CONNECTED')
        except OSError as exc:
            print('refused', exc)
        print('routes', open('/proc/net/route').read().splitlines()[1:])
        print('ifaces', sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]))
    """)
    try:
        result, out = await run(box, f"python3 -c \"{probe_code}\"")
    finally:
        listener.close()
    assert result.ok and "CONNECTED" not in out.of(), out.of()
    assert "routes []" in out.of() and "ifaces ['lo']" in out.of()


async def test_the_exit_code_reporter_is_out_of_reach(box):
    # bwrap's init (pid 1) reports the exit code: no ptrace, no /proc/1/mem, no cross-process writes
    probe_code = textwrap.dedent("""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        for name, nr, args in (("ptrace", 101, (16, 1, 0, 0)), ("process_vm_writev", 311, (1, 0, 0, 0, 0, 0)),
                               ("keyctl", 250, (0, 0, 0, 0))):
            print(name, libc.syscall(nr, *args), os.strerror(ctypes.get_errno()))
        print("pid1", sorted(os.listdir("/proc/1")))
        try:
            open("/proc/1/mem", "r+b")
            print("MEM-OPEN")
        except OSError as exc:
            print("mem", type(exc).__name__)
    """)
    (box.spec.workspace / "reach.py").write_text(probe_code)
    result, out = await run(box, "python3 reach.py; exit 5")
    assert result.exit_code == 5
    if denylist_program() is not None:
        for name in ("ptrace", "process_vm_writev", "keyctl"):
            assert f"{name} -1 Operation not permitted" in out.of(), out.of()
    assert "pid1 []" in out.of() and "MEM-OPEN" not in out.of()


async def test_timeout_kills_a_sigterm_ignoring_tree(box):
    name = mark()
    started = time.monotonic()
    task = asyncio.ensure_future(run(box, f"trap '' TERM; sh -c \"trap '' TERM; sleep 1000; : {name}\" & "
                                          "echo up; wait", timeout_s=1.5))
    assert await asyncio.to_thread(appears, name)
    result, out = await task
    assert result.timed_out and result.exit_code is None and result.error is None and out.of() == "up\n"
    assert time.monotonic() - started < 3.5
    assert leftovers(name) == []
    await still_works(box)


async def test_daemons_do_not_outlive_the_run(box):
    name = mark()
    task = asyncio.ensure_future(run(box, f"setsid nohup sh -c 'sleep 1000; : {name}' >/dev/null 2>&1 & "
                                          f"setsid sh -c 'sleep 1000; : {name}' & echo bye; sleep 0.5"))
    assert await asyncio.to_thread(appears, name)
    started = time.monotonic()
    result, _ = await task
    assert result.exit_code == 0 and time.monotonic() - started < 1.5, "a daemon must not hold up the run"
    assert leftovers(name, within_s=0.2) == [], "a daemon survived the run"
    await still_works(box)


async def test_fork_bomb_is_contained(box):
    result, out = await run(box, "f() { f | f & }; f; sleep 5", timeout_s=2)
    assert not result.ok and result.error is None
    if "pids" in {h.controller for h in cgroup.hierarchies()}:
        assert "process limit (64) hit" in out.of("stderr")
    await still_works(box)


async def test_memory_balloon_over_processes_is_contained(box):
    part = "import time; b = b'x' * (48 << 20); time.sleep(1.5); print('survived', flush=True)"
    result, out = await run(box, f"for i in 1 2 3 4 5 6; do python3 -c \"{part}\" & done; wait")
    assert result.error is None and out.of("stdout").count("survived") <= 2
    if "memory" in {h.controller for h in cgroup.hierarchies()}:
        assert "memory limit (128 MB) hit" in out.of("stderr")
    await still_works(box)


async def test_cpu_quota(workspace):
    if "cpu" not in {h.controller for h in cgroup.hierarchies()}:
        pytest.skip("no cpu cgroup controller here")
    sandbox = BwrapSandbox(SandboxSpec(workspace, dataclasses.replace(LIMITS, cpus=0.2)))
    busy = "import time\nend = time.monotonic() + 1.5\nwhile time.monotonic() < end: pass\nprint(time.process_time())"
    try:
        result, out = await run(sandbox, f"python3 -c '{busy}'", timeout_s=10)
    finally:
        await sandbox.close()
    assert result.ok and float(out.of("stdout")) < 0.6, out.of()  # 1.5 s at 0.2 cpu is ~0.3 s of cpu time


async def test_output_flood_is_truncated_quickly(box):
    started = time.monotonic()
    result, out = await run(box, "yes flood-flood-flood", timeout_s=10)
    assert result.truncated and result.exit_code is None and not result.ok
    assert len(out.of().encode()) <= LIMITS.output_bytes and time.monotonic() - started < 3
    await still_works(box)


async def test_tmp_fill_is_capped(box):
    result, out = await run(box, "dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>&1; du -m /tmp/fill")
    assert "No space left on device" in out.of()
    assert int(out.of().split()[-2]) <= LIMITS.tmpfs_mb
    await still_works(box)
