"""DockerSandbox specifics: pooling, leftovers, exit codes, streaming, hardening (an engine dying: test_engine_stop)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_agent.sandbox import SandboxSpec, SandboxUnavailable, create
from tui_agent.sandbox.base import GIT_IDENTITY
from tui_agent.sandbox.docker import host_supervisor
from tui_agent.sandbox.docker import ours
from tui_agent.sandbox.docker.sandbox import DockerSandbox
from tui_agent.workspace import quota as fsquota

from sandbox_fixtures import (
    GID, UID, BoxFactory, Output, make_workspace, processes_matching, require_backend, token, wait_no_processes,
    write_owned,
)

pytestmark = pytest.mark.docker


@pytest.fixture
async def factory(tmp_path):
    made = BoxFactory("docker", tmp_path)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def box(factory):
    return await factory.make()


def _client():
    import docker

    return docker.from_env(timeout=30)


async def test_fresh_container_per_run(box):
    first, out1 = await box.run("echo secret > /tmp/left-behind; hostname")
    second, out2 = await box.run("test -e /tmp/left-behind && echo STILL-THERE; hostname")
    assert first.exit_code == 0 and second.exit_code == 0
    assert "STILL-THERE" not in out2.text
    assert out1.text != out2.text, "both runs used the same container"


async def test_workspace_is_shared_between_runs_and_owned_by_the_user(box):
    result, _ = await box.run("echo kept > note.txt")
    assert result.ok
    note = box.workspace / "note.txt"
    assert note.read_text() == "kept\n" and (note.stat().st_uid, note.stat().st_gid) == (UID, GID)
    result, out = await box.run("cat note.txt")
    assert out.text == "kept\n"


@pytest.mark.parametrize("command, code", [("true", 0), ("false", 1), ("exit 42", 42), ("exit 255", 255),
                                           ("exit 256", 0), ("kill -9 $$", 137), ("kill -TERM $$", 143),
                                           ("no-such-command-here", 127)])
async def test_exit_codes(box, command, code):
    result, _ = await box.run(command)
    assert (result.exit_code, result.error, result.timed_out) == (code, None, False)
    assert result.ok == (code == 0)


async def test_concurrent_runs_each_get_their_own_container(box):
    runs = [box.run(f"sleep 0.3; hostname; exit {code}") for code in (3, 4, 5)]
    results = await asyncio.gather(*runs)
    assert [r.exit_code for r, _ in results] == [3, 4, 5]
    assert len({out.text for _, out in results}) == 3


async def test_run_before_start_is_an_error_not_an_exception(tmp_path):
    result = await DockerSandbox(SandboxSpec(tmp_path)).run("true", Output())
    assert result.exit_code is None and "not started" in result.error


async def test_streaming_order_and_timing(box):
    started = time.monotonic()
    seen: list[tuple[float, str, str]] = []

    def on_output(stream: str, text: str) -> None:
        seen.append((time.monotonic() - started, stream, text))

    result = await box.sandbox.run("echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; sleep 0.6", on_output)
    assert result.exit_code == 0
    assert [(s, t) for _, s, t in seen] == [("stdout", "one\n"), ("stderr", "two\n"), ("stdout", "three\n")]
    assert seen[0][0] < 0.5, "output must stream while the command runs, not arrive at the end"
    assert result.duration_s >= 1.0


async def test_large_output_and_split_utf8_arrive_intact(factory):
    box = await factory.make(output_bytes=1_000_000)
    result, out = await box.run("python3 -c \"import sys; sys.stdout.write('é' * 150000 + '\\n')\"")
    assert result.exit_code == 0 and not result.truncated
    assert out.of("stdout") == "é" * 150000 + "\n"


async def test_container_is_hardened(box):
    pool = box.sandbox.pool
    await box.sandbox.ready()
    attrs = pool.ready[0].container.attrs
    host, config = attrs["HostConfig"], attrs["Config"]
    assert host["NetworkMode"] == "none" and host["CapDrop"] == ["ALL"] and host["ReadonlyRootfs"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] == host["MemorySwap"] == box.limits.memory_mb << 20
    assert host["PidsLimit"] == box.limits.pids and host["NanoCpus"] == int(box.limits.cpus * 1e9)
    assert host["LogConfig"]["Type"] == "none" and not host["Privileged"]
    assert f"size={box.limits.tmpfs_mb}m" in host["Tmpfs"]["/tmp"]
    assert config["User"] == f"{UID}:{GID}"
    names = sorted(e.split("=")[0] for e in config["Env"])
    assert names == sorted(["HOME", "LANG", "PATH", *GIT_IDENTITY])  # nothing from the host
    mounts = sorted((m["Source"], m["Destination"], m["RW"]) for m in attrs["Mounts"])
    supervisor = host_supervisor.ensure()
    assert mounts == sorted([(str(box.workspace.resolve()), "/workspace", True),
                             (str(supervisor.folder), host_supervisor.INSIDE_DIR, False)])
    assert config["Entrypoint"] == [host_supervisor.INSIDE] and not config["Cmd"]  # the host's own supervisor
    assert config["Healthcheck"]["Test"] == ["NONE"]  # no exec of the image's own making runs beside it
    assert config["Labels"][ours.LABEL] == "1"


async def test_exit_status_is_confirmed_by_the_engine(box):
    for command in ("exit 3", "true", "kill -9 $$"):
        await box.run(command)
    await box.sandbox.close()  # waits for the background confirmations
    assert box.sandbox.confirm_problems == []


async def test_leftovers_of_a_dead_process_are_removed_on_start(factory):
    client = _client()
    dead = subprocess.Popen(["true"])
    dead.wait()
    labels = {ours.LABEL: "1", ours.OWNER_LABEL: f"{dead.pid}:0"}
    leftover = client.containers.create("tui-agent-sandbox:latest", ["sleep", "600"], labels=labels,
                                        network_mode="none")
    leftover.start()
    alive_labels = {ours.LABEL: "1", ours.OWNER_LABEL: ours.owner_id()}
    in_use = client.containers.create("tui-agent-sandbox:latest", ["true"], labels=alive_labels,
                                      network_mode="none")
    try:
        await factory.make()
        ids = {c["Id"] for c in ours.labelled(client)}
        assert leftover.id not in ids, "a crashed run's container was not removed"
        assert in_use.id in ids, "a container of a live process was removed"
    finally:
        for c in (leftover, in_use):
            ours.remove_quietly(client, c.id)
        client.close()


CRASHING_CLIENT = """
import asyncio, sys
from pathlib import Path
from tui_agent.sandbox import Limits, SandboxSpec, create
async def main():
    sandbox = create("docker", SandboxSpec(Path(sys.argv[1]), Limits(timeout_s=60)))
    await sandbox.start()
    await sandbox.run("python3 -c 'import time; time.sleep(100)' " + sys.argv[2] + "-check", lambda *_: None)
asyncio.run(main())
"""


async def test_a_killed_client_stops_its_containers_and_the_next_start_removes_them(factory, tmp_path):
    mark = token()
    check = f"{mark}-check"  # only the sandboxed process has this in its command line, not the client
    workspace = make_workspace(tmp_path / "crashing", 16)
    factory.mounts.append(workspace)
    repo = Path(__file__).resolve().parent.parent
    client = subprocess.Popen([sys.executable, "-c", CRASHING_CLIENT, str(workspace), mark],
                              env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        deadline = time.monotonic() + 30
        while not processes_matching(check) and time.monotonic() < deadline and client.poll() is None:
            await asyncio.sleep(0.1)
        assert processes_matching(check), "the crashing client never started its check"
    finally:
        client.kill()
        client.wait()
    assert await asyncio.to_thread(wait_no_processes, check, 10) == [], "the check outlived its client"
    # (its stopped containers are still there now, unless a concurrent start() elsewhere removed them)
    docker = _client()
    await factory.make()
    left = [c for c in ours.labelled(docker)
            if c["Labels"].get(ours.OWNER_LABEL, "").startswith(f"{client.pid}:")]
    docker.close()
    assert left == [], "the dead client's containers were not removed at the next start"


async def test_close_leaves_nothing_running(factory):
    box = await factory.make()
    await box.run("true")
    await box.sandbox.ready()
    created = set(box.sandbox.pool.created)
    await box.sandbox.close()
    client = _client()
    left = {c["Id"] for c in ours.labelled(client)} & created
    client.close()
    assert left == set()


async def test_timeout_and_cancellation_remove_the_container(box):
    result, _ = await box.run("sleep 30", timeout_s=0.5)
    assert result.timed_out and result.exit_code is None
    task = asyncio.ensure_future(box.sandbox.run("sleep 30", Output()))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await box.assert_unharmed()


async def test_a_replaced_workspace_folder_is_picked_up(box, tmp_path):
    await box.sandbox.ready()  # the pool holds containers bound to the old folder
    fsquota.unmount(box.workspace)
    shutil.rmtree(box.workspace)
    make_workspace(box.workspace, 16)
    write_owned(box.workspace / "new.txt", "new folder\n")
    result, out = await box.run("cat new.txt")
    assert result.exit_code == 0 and out.text == "new folder\n"


async def test_probe_and_start_explain_a_missing_image(tmp_path):
    require_backend("docker")
    spec = SandboxSpec(tmp_path, image="tui-agent-no-such-image:latest")
    reason = DockerSandbox.probe(spec)
    assert reason and "tui-agent-no-such-image:latest" in reason and "sandbox build --offline" in reason
    with pytest.raises(SandboxUnavailable, match="sandbox build"):
        await create("docker", spec).start()


def test_doctor_lines_and_mirror(monkeypatch):
    require_backend("docker")
    from tui_agent.sandbox.docker import image
    from tui_agent.sandbox.docker.image_doctor import doctor_lines

    lines = {what: (ok, detail) for what, ok, detail in doctor_lines()}
    assert lines["docker engine"][0] and lines["sandbox image"][0], lines
    assert image.debian_mirror().startswith("http")
    monkeypatch.setenv("TUI_AGENT_DEBIAN_MIRROR", "http://mirror.example/debian")
    assert image.debian_mirror() == "http://mirror.example/debian"
