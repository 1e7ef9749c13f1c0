"""A remote engine (a private dockerd on loopback TCP+TLS): no host folder is mounted, the workspace travels
through the engine's API incrementally both ways, an example is fixed end to end, and an engine that dies
mid-run fails the run with one clear error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from loop_fixtures import ROOT, EXAMPLES, cli, copy_example, events, of_type, script, tree
from sandbox_fixtures import TEST_LIMITS, Output, make_workspace, write_owned
from tui_agent.sandbox import SandboxSpec, create
from tui_agent.sandbox.docker import host_supervisor, supervisor_volume
from tui_agent.sandbox.docker import ours
from tui_agent.sessions.recorder import read_records
from tui_agent.workspace import quota

pytestmark = [pytest.mark.remote, pytest.mark.slow]


def hosts_env(private, name: str = "far") -> dict:
    entry = {"name": name, "url": private.engine.url, "tls": private.engine.tls}
    return {"TUI_AGENT_SANDBOX_HOSTS": json.dumps([entry])}


@pytest.fixture
async def remote_box(private_engine, tmp_path):
    workspace = make_workspace(tmp_path / "ws", TEST_LIMITS.workspace_mb)
    box = create("docker", SandboxSpec(workspace, TEST_LIMITS, engine=private_engine.engine))
    await box.start()
    try:
        yield box, workspace
    finally:
        await box.close()
        quota.unmount(workspace)


async def test_no_host_folder_is_mounted_in_any_container(remote_box):
    box, workspace = remote_box
    await box.ready()
    write_owned(workspace / "a.py", "print('shipped')\n")
    result = await box.run("python3 a.py", Output())
    assert result.exit_code == 0
    await box.ready()  # the run's container gone, the pool full again
    mine = ours.labelled(box.client)
    assert len(mine) >= 2, "the pool and the workspace keeper"
    for summary in mine:
        mounts = {m["Destination"]: m for m in box.client.api.inspect_container(summary["Id"])["Mounts"]}
        assert [m["Type"] for m in mounts.values()] == ["volume", "volume"], mounts
        assert mounts["/workspace"]["Name"] == box.shipped.volume and mounts["/workspace"]["RW"]
        supervisor = mounts[host_supervisor.INSIDE_DIR]  # the host's supervisor, content-addressed, read-only
        assert supervisor["Name"] == supervisor_volume.volume_name(host_supervisor.ensure()) and not supervisor["RW"]
    volume = box.client.api.inspect_volume(box.shipped.volume)
    assert volume["Options"]["type"] == "tmpfs", "the remote workspace lives in memory, capped"
    assert f"size={TEST_LIMITS.workspace_mb}m" in volume["Options"]["o"]


async def test_changes_travel_both_ways_and_only_what_changed(remote_box):
    box, workspace = remote_box
    write_owned(workspace / "keep.txt", "same\n")
    write_owned(workspace / "edit.py", "print(1)\n")
    out = Output()
    result = await box.run("cat keep.txt; python3 edit.py; echo made > made.txt; mkdir -p d/e; "
                           "ln -s ../edit.py d/link; chmod +x edit.py; rm keep.txt", out)
    assert result.exit_code == 0 and out.of("stdout") == "same\n1\n"
    assert (workspace / "made.txt").read_text() == "made\n"
    assert os.readlink(workspace / "d/link") == "../edit.py" and (workspace / "d/e").is_dir()
    assert os.access(workspace / "edit.py", os.X_OK) and not (workspace / "keep.txt").exists()

    write_owned(workspace / "edit.py", "print(2)\n")
    (workspace / "made.txt").unlink()
    pushed = box.shipped.push()  # what the next run would send: the one edit (the deletion goes along)
    assert pushed == ["edit.py"]
    out = Output()
    result = await box.run("python3 edit.py; ls", out)
    assert out.of("stdout") == "2\nd\nedit.py\n"
    assert box.shipped.push() == [], "nothing changed since"


async def test_a_workspace_too_big_for_its_cap_is_refused(private_engine, tmp_path):
    workspace = make_workspace(tmp_path / "ws", 8)
    box = create("docker", SandboxSpec(workspace, replace(TEST_LIMITS, workspace_mb=1), engine=private_engine.engine))
    await box.start()
    try:
        big = workspace / "big.bin"
        big.write_bytes(b"\0" * (2 << 20))
        result = await box.run("true", Output())
        assert result.error and "larger than its 1 MB cap" in result.error
        big.unlink()
        result = await box.run("echo ok", Output())
        assert result.exit_code == 0 and result.error is None
    finally:
        await box.close()
        quota.unmount(workspace)


def test_example_fixed_end_to_end_on_a_remote_engine(private_engine, tmp_path):
    project = copy_example("calculator", tmp_path / "calc")
    before = tree(project)
    done = cli("run", str(project), "--goal", "fix", "--check", "python3 -m unittest -v",
               "--model", f"scripted:{EXAMPLES / 'calculator/model.json'}", "--sandbox-host", "far", "--headless",
               "--allow", "edit_file", "--allow", "write_file", "--sessions", str(tmp_path / "sessions"),
               env=hosts_env(private_engine))
    assert done.returncode == 0, done.stderr[-2000:]
    finished = of_type(events(done.stdout), "finished")[-1]
    assert finished["outcome"] == "met"
    assert tree(project) == before, "headless never deploys"
    session = next((tmp_path / "sessions").iterdir())
    fixed = tree(session / "workspace")
    assert fixed["calc.py"] != before["calc.py"] and fixed["test_calc.py"] == before["test_calc.py"]


def test_killing_the_engine_mid_run_fails_the_run_clearly(private_engine, tmp_path):
    project = copy_example("calculator", tmp_path / "calc")
    sessions = tmp_path / "sessions"
    model = script(tmp_path, [{"text": "looking"}])
    args = ["run", str(project), "--check", "echo checking slowly; sleep 30", "--model", model, "--headless",
            "--sandbox-host", "far", "--sessions", str(sessions)]
    proc = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **hosts_env(private_engine)})
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            record = next(sessions.glob("*/events.jsonl"), None) if sessions.exists() else None
            if record and '"text": "checking slowly' in record.read_text():
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the slow check never started")
        private_engine.kill()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        private_engine.start()
    assert proc.returncode == 1, err
    printed = events(out)
    errors = of_type(printed, "error")
    assert errors and f"the Docker engine at {private_engine.engine.url} stopped answering" in errors[0]["message"]
    assert "\n" not in errors[0]["message"]
    assert of_type(printed, "finished")[0]["outcome"] == "error"
    assert read_records(record)[-1]["type"] == "finished", "the session file is whole"
