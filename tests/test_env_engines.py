"""Environments on the run's own engine: with `--sandbox podman` the environment image is built and kept in
Podman's storage (through its Docker-compatible API) and the checks run in it; a remote engine refuses an
environment build with one line (exit 2); a plain-TCP DOCKER_HOST is refused with one line (exit 2)."""

from __future__ import annotations

import json

import pytest

from env_fixtures import index_env, lock, project, scratch_root
from loop_fixtures import cli, events, of_type, script, tree
from sandbox_fixtures import require_backend
from tui_agent.environments import docker_store
from tui_agent.sandbox import probe
from tui_agent.sandbox.docker.engine import local_podman
from test_environments import test_only_the_index_is_reachable_and_only_while_building as _only_the_index

FIXED_OLD, FIXED_NEW = "return double(x) + 1", "return double(double(x))"


@pytest.fixture
def env_root(tmp_path):
    yield from scratch_root("tui-agent-envengines-", tmp_path, engines=("podman", "docker"))


def fixing(tmp_path, path: str) -> str:
    return script(tmp_path, [{"expect": "assert", "text": "quad() adds one instead of doubling twice.",
                              "tool_calls": [{"name": "edit_file", "arguments": {
                                  "path": path, "old_string": FIXED_OLD, "new_string": FIXED_NEW}}]},
                             {"text": "Fixed quad()."}])


def run(folder, model, env_root, index, *extra, sandbox="podman", env=None):
    return cli("run", str(folder), "--check", "python -m pytest -q", "--model", model, "--sandbox", sandbox,
               "--headless", "--allow", "edit_file", "--trust-project", "--sessions", str(env_root / "sessions"),
               *extra, env={**index_env(index.url), "TUI_AGENT_ENV_ROOT": str(env_root), **(env or {})}, timeout=300)


@pytest.mark.slow
@pytest.mark.podman
@pytest.mark.parametrize("kind", ["requirements", "uv"])
def test_podman_builds_the_environment_in_its_own_storage_and_checks_run_in_it(kind, tmp_path, env_root, index):
    require_backend("podman")
    folder, target = project(kind, tmp_path / kind)
    if kind == "uv":
        lock(folder, index.url)
    before = tree(folder)
    done = run(folder, fixing(tmp_path, target), env_root, index)
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-3000:]
    records = events(done.stdout)
    detected = of_type(records, "env_detected")[0]
    assert detected["backend"] == "podman" and detected["kind"] == kind and not detected["cached"]
    ready = of_type(records, "env_ready")[0]
    baseline = of_type(records, "check_finished")[0]
    assert not baseline["passed"] and "assert 5 == 8" in baseline["output_tail"], "pytest and tinydep resolve"
    assert of_type(records, "finished")[-1]["outcome"] == "met"
    assert tree(folder) == before
    podman = local_podman()
    built = docker_store.find(ready["key"], podman)
    assert built is not None and built.project == str(folder), "the image is in Podman's storage, labelled"
    if probe("docker") is None:
        assert docker_store.find(ready["key"]) is None, "nothing was built on the Docker engine"
    index.requests.clear()
    again = run(folder, fixing(tmp_path, target), env_root, index)
    assert again.returncode == 0, again.stderr[-2000:]
    assert of_type(events(again.stdout), "env_ready")[0]["cached"] and index.requests == [], "cached in Podman"


@pytest.mark.slow
@pytest.mark.podman
def test_on_podman_the_build_reaches_only_the_index_and_checks_nothing(tmp_path, env_root, index):
    require_backend("podman")
    _only_the_index("podman", tmp_path, env_root, index)


@pytest.mark.slow
@pytest.mark.podman
def test_podman_refuses_a_dockerfile_source_its_api_would_build_with_the_host_network(tmp_path, env_root, index):
    """Measured (Podman 4.3): its API's image build gives RUN steps the host's network despite networkmode=none."""
    require_backend("podman")
    folder, target = project("devcontainer", tmp_path / "dev")
    (folder / "tui-agent.toml").write_text('env = "devcontainer"\n')
    done = run(folder, fixing(tmp_path, target), env_root, index)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-2000:]
    assert "needs the Docker sandbox (Podman's API builds a Dockerfile with the host's network" in done.stderr


@pytest.mark.slow
@pytest.mark.podman
def test_env_command_on_podman_shows_builds_forces_and_prunes(tmp_path, env_root, index):
    require_backend("podman")
    folder, _ = project("requirements", tmp_path / "cmd")
    env = {**index_env(index.url), "TUI_AGENT_ENV_ROOT": str(env_root)}
    built = cli("env", "build", str(folder), "--sandbox", "podman", env=env, timeout=300)
    assert built.returncode == 0 and "ready: " in built.stdout, built.stderr[-2000:]
    shown = cli("env", str(folder), "--sandbox", "podman", env=env)
    assert "sandbox: podman (podman: unix://" in shown.stdout and "state: built (tui-agent-env:" in shown.stdout
    key = shown.stdout.split("key: ")[1].split()[0]
    client = local_podman().client()
    try:
        first = client.api.inspect_image(f"{docker_store.REPOSITORY}:{key}")["Id"]
        forced = cli("env", "build", "--force", str(folder), "--sandbox", "podman", env=env, timeout=300)
        assert forced.returncode == 0, forced.stderr[-2000:]
        second = client.api.inspect_image(f"{docker_store.REPOSITORY}:{key}")["Id"]
        assert second != first and not [i for i in client.api.images(all=True) if i["Id"] == first], \
            "--force replaces the image and removes the one it replaced"
    finally:
        client.close()
    # the shared Docker engine out of reach: its environments are not this test's to prune
    pruned = cli("env", "prune", env={**env, "DOCKER_HOST": "unix:///nonexistent.sock"})
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert docker_store.find(key, local_podman()) is None
    assert "state: not built" in cli("env", str(folder), "--sandbox", "podman", env=env).stdout


@pytest.mark.unit
def test_a_plain_tcp_docker_host_is_refused_with_one_line(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    model = script(tmp_path, [{"text": "Nothing to do."}])
    for sandbox in ("docker", "auto"):
        done = cli("run", str(folder), "--check", "true", "--model", model, "--sandbox", sandbox, "--headless",
                   env={"DOCKER_HOST": "tcp://127.0.0.1:2375", "DOCKER_TLS_VERIFY": ""})
        assert done.returncode == 2 and done.stdout == "", done.stdout[-500:]
        assert done.stderr.count("\n") == 1 and "without TLS" in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.remote
def test_a_remote_engine_refuses_an_environment_build_with_one_line(private_engine, tmp_path, env_root, index):
    folder, target = project("requirements", tmp_path / "remote")
    hosts = {"TUI_AGENT_SANDBOX_HOSTS": json.dumps([{"name": "far", "url": private_engine.engine.url,
                                                     "tls": private_engine.engine.tls}])}
    before = tree(folder)
    index.requests.clear()
    client = private_engine.engine.client()
    containers = {c.id for c in client.containers.list(all=True)}
    done = run(folder, fixing(tmp_path, target), env_root, index, "--sandbox-host", "far", sandbox="docker",
               env=hosts)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and "cannot be built on the Docker engine at tcp://" in done.stderr
    assert index.requests == [] and tree(folder) == before
    env = {**index_env(index.url), "TUI_AGENT_ENV_ROOT": str(env_root), **hosts}
    shown = cli("env", str(folder), "--sandbox-host", "far", env=env)
    assert shown.returncode == 0 and "sandbox: docker (far: tcp://" in shown.stdout, shown.stdout + shown.stderr
    assert "state: not built; the requirements environment cannot be built on" in shown.stdout
    built = cli("env", "build", str(folder), "--sandbox-host", "far", env=env)
    assert built.returncode == 2 and built.stderr.count("\n") == 1, built.stderr
    try:
        assert {c.id for c in client.containers.list(all=True)} <= containers, "no container was made there"
    finally:
        client.close()
