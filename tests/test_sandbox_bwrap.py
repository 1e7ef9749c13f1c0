"""The bubblewrap backend against real bwrap: streaming, isolation, limits, cleanup, and the next run."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from tui_agent import fsquota
from tui_agent.sandbox import Limits, SandboxSpec, cgroup, create, probe
from tui_agent.sandbox.bwrap import BwrapSandbox
from tui_agent.sandbox.bwrap_setup import host_tools
from tui_agent.sandbox.seccomp import denylist_program

pytestmark = pytest.mark.bwrap
LIMITS = Limits(timeout_s=3.0, memory_mb=128, pids=64, cpus=1.0, tmpfs_mb=16, workspace_mb=16, output_bytes=200_000)
REPO = Path(__file__).resolve().parent.parent


class Out:
    def __init__(self) -> None:
        self.chunks: list[tuple[str, str, float]] = []

    def __call__(self, stream: str, text: str) -> None:
        self.chunks.append((stream, text, time.monotonic()))

    def of(self, stream: str | None = None) -> str:
        return "".join(t for s, t, _ in self.chunks if stream in (None, s))


def mark() -> str:
    return "tuibw" + secrets.token_hex(5)


def leftovers(marker: str, within_s: float = 3.0) -> list[int]:
    """Host pids whose command line holds `marker`, once they had `within_s` to disappear."""
    deadline = time.monotonic() + within_s
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def appears(marker: str, within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while not leftovers(marker, within_s=0):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def own_run_cgroups() -> list[Path]:
    return [p for h in cgroup.hierarchies() for p in h.parent.glob(f"run-{os.getpid()}-*")]


def make_workspace(parent: Path, size_mb: int = 16) -> Path:
    ws = Path(tempfile.mkdtemp(prefix="ws-", dir=parent))
    fsquota.mount_capped(ws, size_mb, LIMITS.uid, LIMITS.gid)
    os.chown(ws, LIMITS.uid, LIMITS.gid)
    return ws


@pytest.fixture
def workspace():
    if reason := probe("bwrap"):
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    ws = make_workspace(Path("/tmp"))
    yield ws
    fsquota.unmount(ws)
    shutil.rmtree(ws, ignore_errors=True)


@pytest.fixture
async def box(workspace):
    sandbox = BwrapSandbox(SandboxSpec(workspace, LIMITS))
    await sandbox.start()
    yield sandbox
    await sandbox.close()
    assert own_run_cgroups() == [], "run cgroups were left behind"


async def run(sandbox, command: str, timeout_s: float | None = None):
    out = Out()
    result = await sandbox.run(command, out, timeout_s)
    return result, out


async def still_works(sandbox) -> None:
    result, out = await run(sandbox, "echo next-run-ok; id -u")
    assert (result.exit_code, result.error) == (0, None), (result, out.of())
    assert out.of("stdout") == f"next-run-ok\n{LIMITS.uid}\n"


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


async def test_exit_code_streams_and_cwd(box, workspace):
    result, out = await run(box, "pwd; echo err >&2; echo made > made.txt; exit 3")
    assert (result.exit_code, result.error, result.timed_out, result.truncated) == (3, None, False, False)
    assert out.of("stdout") == "/workspace\n" and out.of("stderr") == "err\n"
    made = workspace / "made.txt"
    assert made.read_text() == "made\n" and made.stat().st_uid == LIMITS.uid


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
    assert env["HOME"] == "/tmp" and env["PATH"].endswith("/usr/bin:/bin")


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
    result, out = await run(box, f"trap '' TERM; sh -c 'trap "" TERM; sleep 1000; : {name}' & echo up; wait",
                            timeout_s=1)
    assert result.timed_out and result.exit_code is None and result.error is None and out.of() == "up\n"
    assert time.monotonic() - started < 3
    assert leftovers(name) == []
    await still_works(box)


async def test_daemons_do_not_outlive_the_run(box):
    name = mark()
    started = time.monotonic()
    result, _ = await run(box, f"setsid nohup sh -c 'sleep 1000; : {name}' >/dev/null 2>&1 & "
                               f"setsid sh -c 'sleep 1000; : {name}' & echo bye")
    assert result.exit_code == 0 and time.monotonic() - started < 2
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


async def test_concurrent_runs_are_separate(box):
    (r1, o1), (r2, o2) = await asyncio.gather(run(box, "sleep 0.3; echo one"), run(box, "echo two; exit 2"))
    assert (r1.exit_code, o1.of(), r2.exit_code, o2.of()) == (0, "one\n", 2, "two\n")


async def test_cancelled_run_leaves_nothing(box):
    name = mark()
    task = asyncio.ensure_future(run(box, f"sh -c 'sleep 1000; : {name}'"))
    await asyncio.sleep(0.5)
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
    await asyncio.sleep(0.5)
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
