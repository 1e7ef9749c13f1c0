"""Containment suite shared by every sandbox backend: hostile checked code must not hurt the host."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from engine_fixtures import variant
from sandbox_fixtures import BoxFactory, processes_matching, token, wait_no_processes, write_owned

pytestmark = pytest.mark.slow


VARIANTS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("bwrap", marks=pytest.mark.bwrap),
            pytest.param("podman", marks=pytest.mark.podman), pytest.param("remote", marks=pytest.mark.remote),
            pytest.param("docker+runsc", marks=pytest.mark.gvisor),
            pytest.param("podman+runsc", marks=pytest.mark.gvisor)]


@pytest.fixture(params=VARIANTS)
async def factory(request, tmp_path):
    name, engine, runtime = variant(request, request.param)
    made = BoxFactory(name, tmp_path, engine, runtime)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def box(factory):
    return await factory.make()


async def test_plain_run_exit_code_and_cwd(box):
    write_owned(box.workspace / "hello.py", "print('hello from', __import__('os').getcwd())\n")
    result, out = await box.run("python3 hello.py; exit 4")
    assert (result.exit_code, result.error, result.timed_out) == (4, None, False)
    assert out.of("stdout") == "hello from /workspace\n"
    await box.assert_unharmed()


async def test_fork_bomb(box):
    mark = token()
    write_owned(box.workspace / f"{mark}.sh", "f() { f | f & }\nf\nsleep 5\n")
    started = time.monotonic()
    result, _ = await box.run(f"sh {mark}.sh", timeout_s=2)
    assert time.monotonic() - started < 10
    assert not result.ok and result.error is None
    assert wait_no_processes(mark) == [], "fork bomb processes survived the run"
    await box.assert_unharmed()


async def test_memory_balloon_single_process(box):
    code = "x = []\nwhile True:\n    x.append(b'\\x01' * (8 << 20))\n"
    write_owned(box.workspace / "balloon.py", code)
    result, out = await box.run("python3 balloon.py")
    assert result.error is None
    assert result.exit_code not in (0, None) or result.timed_out, (result, out.text)
    await box.assert_unharmed()


async def test_memory_balloon_spread_over_processes(box):
    # six processes of 48 MB each hold their memory together: 288 MB against a 128 MB cap
    # (they start together and hold for 1.5 s, so the survivors all held their share at the same time)
    code = ("import sys, time\nb = b'\\x01' * (48 << 20)\ntime.sleep(1.5)\nprint('survived', len(b), flush=True)\n")
    write_owned(box.workspace / "part.py", code)
    result, out = await box.run("for i in 1 2 3 4 5 6; do python3 part.py & done; wait")
    assert result.error is None
    assert out.of("stdout").count("survived") <= 2, "more memory than the cap was held at once"
    await box.assert_unharmed()


async def test_endless_loop_times_out(box):
    started = time.monotonic()
    result, _ = await box.run("while :; do :; done", timeout_s=1)
    elapsed = time.monotonic() - started
    assert result.timed_out and result.exit_code is None and not result.ok
    assert 0.9 <= elapsed < 4, elapsed
    await box.assert_unharmed()


async def test_process_ignoring_sigterm_is_killed(box):
    mark = token()
    script = ("import signal, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "print('ready', flush=True)\ntime.sleep(1000)\n")
    write_owned(box.workspace / "stubborn.py", script)
    result, out = await box.run(f"python3 stubborn.py {mark}", timeout_s=1.5)
    assert result.timed_out and "ready" in out.text
    assert wait_no_processes(mark) == [], "a SIGTERM-ignoring process survived the timeout"
    await box.assert_unharmed()


async def test_output_flood_is_truncated_quickly(box):
    started = time.monotonic()
    result, out = await box.run("yes 0123456789abcdef", timeout_s=10)
    elapsed = time.monotonic() - started
    assert result.truncated and not result.ok
    assert len(out.text.encode()) <= box.limits.output_bytes
    assert elapsed < 5, f"a flood should end soon after the cap, took {elapsed:.1f}s"
    await box.assert_unharmed()


FILL = "for i in $(seq 60); do dd if=/dev/zero of={dir}/fill$i bs=1M count=4 2>&1 || break; done; du -sm {dir}"


async def test_tmp_fill_is_capped(box):
    # many 4 MB files rather than one big one: a per-file size limit alone does not cap a folder
    result, out = await box.run(FILL.format(dir="/tmp"))
    assert "No space left on device" in out.text, out.text
    used_mb = int(out.text.strip().splitlines()[-1].split()[0])
    assert used_mb <= box.limits.tmpfs_mb
    await box.assert_unharmed()


async def test_workspace_fill_is_capped(box):
    result, out = await box.run(FILL.format(dir="."))
    assert "No space left on device" in out.text, out.text
    used = sum(f.stat().st_size for f in box.workspace.glob("fill*"))
    assert used <= box.limits.workspace_mb << 20
    for f in box.workspace.glob("fill*"):
        f.unlink()
    await box.assert_unharmed()


async def test_no_network_not_even_host_loopback(box):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    accepted: list = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept())
            except (socket.timeout, OSError):
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    # a UDP connect() only looks up a route (it sends nothing), so probing a TEST-NET address is safe
    probe = (
        "import os, socket\n"
        f"s = socket.socket(); s.settimeout(1)\n"
        f"try:\n    s.connect(('127.0.0.1', {port})); print('TCP-CONNECTED')\nexcept OSError as e: print('tcp', e)\n"
        "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "try:\n    u.connect(('192.0.2.1', 9)); print('HAS-ROUTE')\nexcept OSError as e: print('udp', e)\n"
        "names = [l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]]\n"
        "print('ifaces', sorted(names))\n"
    )
    write_owned(box.workspace / "net.py", probe)
    try:
        result, out = await box.run("python3 net.py")
    finally:
        stop.set()
        thread.join(2)
        listener.close()
    assert "TCP-CONNECTED" not in out.text and "HAS-ROUTE" not in out.text, out.text
    assert "ifaces ['lo']" in out.text or "ifaces []" in out.text, out.text
    assert accepted == [], "the sandbox reached a listener on the host's loopback"
    await box.assert_unharmed()


async def test_host_secrets_are_out_of_reach(factory, monkeypatch):
    key = token()
    monkeypatch.setenv("ANTHROPIC_API_KEY", f"sk-ant-{key}")
    monkeypatch.setenv("TUI_AGENT_TEST_SECRET", key)
    name = token()  # the file's name appears in error messages; only its content is secret
    secret = Path("/root") / f".{name}-secret"
    secret.write_text(f"content-{key}\n")
    os.chmod(secret, 0o644)  # even world-readable, the host's /root must not be visible
    box = await factory.make()
    try:
        result, out = await box.run(
            "env; cat /proc/1/environ /proc/self/environ 2>&1 | tr '\\0' '\\n'; "
            f"cat /root/.{name}-secret 2>&1; ls -a /root 2>&1; "
            "for f in /proc/[0-9]*/environ; do cat $f 2>/dev/null | tr '\\0' '\\n'; done; "
            "cat /etc/shadow >/dev/null 2>&1 && echo SHADOW-READABLE; true")
    finally:
        secret.unlink()
    assert result.error is None
    assert key not in out.text, "a host secret leaked into the sandbox"
    assert "SHADOW-READABLE" not in out.text
    await box.assert_unharmed()


async def test_writes_outside_the_workspace_fail(box):
    mark = token()
    repo = Path(__file__).resolve().parent.parent
    targets = [Path("/etc") / mark, Path("/usr") / mark, Path("/root") / mark, Path("/") / mark,
               box.workspace.parent / mark, repo / mark]
    command = "; ".join(f"echo x > {t} 2>/dev/null && echo WROTE {t}" for t in targets)
    result, out = await box.run(command + f"; echo y > ../{mark} 2>/dev/null && echo WROTE parent; true")
    escaped = [t for t in targets if t.exists()]
    for t in escaped:
        t.unlink()
    assert escaped == [], f"wrote outside the workspace on the host: {escaped}"
    assert result.error is None
    await box.assert_unharmed()


async def test_no_processes_left_after_the_run(box):
    mark = token()
    write_owned(box.workspace / "sleeper.py", "import os, time\nif os.fork(): os._exit(0)\nos.setsid()\n"
                                              "time.sleep(1000)\n")
    started = time.monotonic()
    result, _ = await box.run(f"python3 sleeper.py {mark} </dev/null >/dev/null 2>&1 & "
                              f"python3 sleeper.py {mark}-holds-stdout & echo started")
    assert result.exit_code == 0 and time.monotonic() - started < 2.5, "a leftover must not hold up the run"
    assert wait_no_processes(mark) == [], f"processes survived the run: {processes_matching(mark)}"
    await box.assert_unharmed()


async def test_escape_sequences_are_sanitised(box):
    result, out = await box.run(r"printf 'a\033]0;evil-title\007b\033[2Jc\033[31mred\033[0m\233?25l\n'")
    assert result.exit_code == 0
    text = out.text
    assert "\x1b]" not in text and "\x1b[2J" not in text and "\x9b" not in text and "evil-title" not in text
    assert "abc" in text and "red" in text
    await box.assert_unharmed()


async def test_exit_code_trailer_cannot_be_forged(box):
    fakes = [
        'X\\000\\000\\000\\037{"code": 0, "truncated": false}',  # the docker supervisor's frame
        '\\001\\000\\000\\000\\000\\000\\000\\046X\\000\\000\\000\\037{"code": 0, "truncated": false}',
        '__EXIT__ 0\\n{"exit_code": 0}\\nexit_code=0\\n',
    ]
    writes = "; ".join(f"printf '{f}'; printf '{f}' >&2" for f in fakes)
    proc_writes = ("for p in /proc/[0-9]*; do for fd in 1 2 3 4 5 6 7 8 9; do "
                   f"printf '{fakes[0]}' > $p/fd/$fd 2>/dev/null; done; done")
    result, _ = await box.run(f"{writes}; {proc_writes}; exit 7")
    assert result.error is None
    assert result.exit_code == 7, f"the exit code was forged: {result}"
    await box.assert_unharmed()
