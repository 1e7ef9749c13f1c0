"""A run killed with SIGKILL (no atexit, no clean-up of its own): the next start of any tui-agent command removes
its sandbox containers, on Docker and on Podman, unmounts its workspace (files kept) and says so, once."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from loop_fixtures import cli
from sandbox_fixtures import require_backend
from test_faults import killed_run, root_only
from tui_agent.sandbox.docker import owners
from tui_agent.workspace import quota as fsquota

pytestmark = [pytest.mark.slow]


def containers(backend: str, workspace: Path) -> list[str]:
    done = subprocess.run([backend, "ps", "-aq", "--filter", f"label=tui-agent.workspace={workspace}"],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()


@root_only
@pytest.mark.parametrize("backend", ["docker", "podman"])
def test_a_kill_9_runs_containers_and_mount_are_gone_at_the_next_start(tmp_path, backend):
    require_backend(backend)
    pid, sessions, session = killed_run(tmp_path, backend)
    workspace = session / "workspace"
    left = containers(backend, workspace)
    assert left, "the killed run left no container: nothing to test"
    records = [json.loads(p.read_text()) for p in owners.records_dir().glob("*.json")]
    assert any(r["owner"].startswith(f"{pid}:") and r["engine"]["kind"] == backend for r in records), records

    started = time.perf_counter()
    done = cli("sessions", "--sessions", str(sessions))
    took = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert f"sandbox container(s) that a killed run (pid {pid}) left" in done.stderr, done.stderr
    assert containers(backend, workspace) == [], "the killed run's containers were not removed"
    assert not fsquota.is_mounted(workspace), "the killed run's workspace is still mounted"
    assert "return a / b" in (workspace / "calc.py").read_text(), "the workspace's files are kept"
    assert not [p for p in owners.records_dir().glob("*.json") if f"{pid}:" in p.read_text()]
    print(f"\n{backend}: leftovers of a kill -9 removed at the next start in {took:.2f} s (whole command)")

    again = cli("sessions", "--sessions", str(sessions))
    assert "killed run" not in again.stderr, "said once"


@pytest.mark.unit
def test_a_sandbox_closed_cleanly_leaves_no_record_and_a_live_owner_is_never_cleaned(tmp_path):
    from tui_agent.sandbox.docker.engine import Engine

    engine = Engine(url=f"unix://{tmp_path}/none.sock", kind="docker")
    path = owners.record(engine)
    assert path in list(owners.records_dir().glob("*.json"))
    assert path not in [p for p, _ in owners.dead()], "this process is alive: its record is not a leftover"
    owners.forget(path)
    assert not path.exists()


@root_only
def test_a_podman_whose_service_is_gone_is_cleaned_with_the_podman_command(tmp_path):
    """The run started Podman's service and both died: the containers are removed without starting a service."""
    require_backend("podman")
    from tui_agent.sandbox.docker.engine import Engine

    dead_owner = "999999:1"
    made = subprocess.run(["podman", "create", "--label", "tui-agent=1", "--label", f"tui-agent.owner={dead_owner}",
                           "localhost/tui-agent-sandbox:latest", "true"], capture_output=True, text=True, check=True)
    cid = made.stdout.strip()
    try:
        url = f"unix://{tmp_path}/gone.sock"
        engine = Engine(url=url, kind="podman", name="podman", service=("podman", "system", "service", "--time=600",
                                                                           url))
        path = owners.records_dir() / "999999-1-test.json"
        owners.records_dir().mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"owner": dead_owner, "engine": {**engine.__dict__, "service": engine.service}}))
        said = owners.recover()
        assert said == [f"removed 1 sandbox container(s) that a killed run (pid 999999) left on {engine.label}"], said
        assert subprocess.run(["podman", "container", "exists", cid]).returncode == 1, "the container is still there"
        assert not path.exists() and not Path(url[len("unix://"):]).exists(), "no service was started"
    finally:
        subprocess.run(["podman", "rm", "-f", cid], capture_output=True)


@pytest.mark.unit
def test_an_engine_that_never_answers_is_retried_then_given_up_after_a_week(tmp_path):
    from tui_agent.sandbox.docker.engine import Engine

    engine = Engine(url="tcp://127.0.0.1:9", kind="docker", name="gone")  # discard port: nothing listens
    owners.records_dir().mkdir(parents=True, exist_ok=True)
    path = owners.records_dir() / "999999-1-gone.json"
    path.write_text(json.dumps({"owner": "999999:1", "engine": {"url": engine.url, "kind": "docker"}}))
    try:
        said = owners.recover()
        assert len(said) == 1 and said[0].startswith("could not yet remove") and path.exists(), said
        week_ago = time.time() - owners.GIVE_UP_S - 60
        os.utime(path, (week_ago, week_ago))
        said = owners.recover()
        assert len(said) == 1 and said[0].startswith("gave up") and "tui-agent.owner=999999:1" in said[0], said
        assert not path.exists()
    finally:
        owners.forget(path)
