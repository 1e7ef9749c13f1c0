"""Podman through its Docker-compatible API: an example fixed end to end; rootless Podman refused, with the
reason, where the machine would not enforce its limits (cgroup v1), and used where it would."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from loop_fixtures import EXAMPLES, cli, copy_example, events, of_type, script, tree
from sandbox_fixtures import require_backend
from tui_agent.sandbox import SandboxSpec, probe
from tui_agent.sandbox.docker.engine import Engine, socket_listens
from tui_agent.sandbox.docker.engine_probe import ROOTLESS_V1, limits_problem, podman_facts

pytestmark = [pytest.mark.podman, pytest.mark.slow]
ROOTLESS_UID = 54321  # no account needed: podman runs rootless as any uid with its own HOME and runtime dir


def test_example_fixed_end_to_end_on_podman(tmp_path):
    require_backend("podman")
    project = copy_example("calculator", tmp_path / "calc")
    before = tree(project)
    done = cli("run", str(project), "--goal", "fix", "--check", "python3 -m unittest -v", "--sandbox", "podman",
               "--model", f"scripted:{EXAMPLES / 'calculator/model.json'}", "--headless",
               "--allow", "edit_file", "--allow", "write_file", "--sessions", str(tmp_path / "sessions"))
    assert done.returncode == 0, done.stderr[-2000:]
    records = events(done.stdout)
    assert of_type(records, "session_started")[0]["sandbox"] == "podman"
    assert of_type(records, "finished")[-1]["outcome"] == "met"
    assert tree(project) == before


@pytest.fixture
def rootless_podman():
    """A rootless Podman service of an unprivileged uid, on a socket in a folder of its own."""
    if os.geteuid() != 0 or shutil.which("podman") is None or shutil.which("setpriv") is None:
        pytest.skip("needs root, podman and setpriv to start a rootless Podman service")
    top = Path(tempfile.mkdtemp(prefix="tui-agent-rootless-"))  # reachable by that uid (pytest's are not)
    os.chmod(top, 0o755)
    home, run = top / "home", top / "run"
    for folder in (home, run):
        folder.mkdir()
        os.chown(folder, ROOTLESS_UID, ROOTLESS_UID)
        os.chmod(folder, 0o700)
    url = f"unix://{run}/podman.sock"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_RUNTIME_DIR": str(run)}
    proc = subprocess.Popen(["setpriv", f"--reuid={ROOTLESS_UID}", f"--regid={ROOTLESS_UID}", "--clear-groups",
                             "podman", "system", "service", "--time=0", url], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not socket_listens(url):
            assert proc.poll() is None and time.monotonic() < deadline, "the rootless service did not start"
            time.sleep(0.1)
        yield Engine(url=url, kind="podman", name="rootless")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pause = run / "libpod/tmp/pause.pid"  # the user namespace's keeper that rootless Podman leaves behind
        if pause.exists():
            try:
                os.kill(int(pause.read_text().strip()), signal.SIGKILL)
            except (ValueError, ProcessLookupError):
                pass
        shutil.rmtree(top, ignore_errors=True)


def test_rootless_podman_is_refused_where_limits_would_be_ignored(rootless_podman, tmp_path):
    client = rootless_podman.client(timeout=10)
    try:
        facts = podman_facts(client)
    finally:
        client.close()
    assert facts["rootless"]
    reason = probe("podman", SandboxSpec(Path(tmp_path), engine=rootless_podman))
    if facts["cgroup"] != "v2":
        assert reason == ROOTLESS_V1
        project = copy_example("calculator", tmp_path / "calc")
        done = cli("run", str(project), "--sandbox", "podman", "--headless",
                   "--model", script(tmp_path, [{"text": "never asked"}]),
                   env={"CONTAINER_HOST": rootless_podman.url})
        assert done.returncode == 2
        assert "rootless Podman on a cgroup v1 machine silently ignores memory, pids and CPU limits" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    elif limits_problem(facts):  # cgroup v2 without the controllers delegated
        assert reason == limits_problem(facts)
    else:  # cgroup v2 with them: usable (once the image is in that user's storage)
        assert reason is None or "is missing in Podman" in reason
