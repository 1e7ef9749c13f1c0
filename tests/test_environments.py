"""Real projects run their own test suite: each kind of environment is built in the sandbox from a loopback index
the test serves, the loop fixes a bug end to end, and nothing but the index is reachable, and only by the build."""

from __future__ import annotations


import pytest

from env_fixtures import FIXED_NEW, FIXED_OLD, IndexServer, index_env, lock, project, scratch_root
from loop_fixtures import cli, events, of_type, script, tree
from sandbox_fixtures import require_backend

pytestmark = pytest.mark.slow


@pytest.fixture
def env_root(tmp_path):
    yield from scratch_root("tui-agent-envtest-", tmp_path)


def run(folder, backend, model, env_root, index, *extra, check="python -m pytest -q", sessions=None):
    env = {**index_env(index.url), "TUI_AGENT_ENV_ROOT": str(env_root)}
    return cli("run", str(folder), "--check", check, "--model", model, "--sandbox", backend, "--headless",
               "--allow", "edit_file", "--allow", "run_command", "--trust-project",
               "--sessions", str(sessions or env_root / "sessions"),
               *extra, env=env, timeout=300)


def fixing(tmp_path, path: str) -> str:
    return script(tmp_path, [{"expect": "assert", "text": "quad() adds one instead of doubling twice.",
                              "tool_calls": [{"name": "edit_file", "arguments": {
                                  "path": path, "old_string": FIXED_OLD, "new_string": FIXED_NEW}}]},
                             {"text": "Fixed quad()."}])


KINDS = [("uv", "python -m pytest -q"), ("groups", "pytest -q"), ("extras", "python -m pytest -q"),
         ("requirements", "pytest -q")]


@pytest.mark.parametrize("kind,check", KINDS + [("devcontainer", "python -m pytest -q")])
def test_each_kind_runs_its_own_suite_and_the_loop_fixes_it(kind, check, backend, tmp_path, env_root, index):
    if kind == "devcontainer" and backend != "docker":
        pytest.skip("devcontainer.json is a Docker-only source")
    folder, target = project(kind, tmp_path / kind)
    if kind == "uv":
        lock(folder, index.url)
    before = tree(folder)
    done = run(folder, backend, fixing(tmp_path, target), env_root, index, check=check)
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-3000:]
    records = events(done.stdout)
    detected = of_type(records, "env_detected")[0]
    assert detected["kind"] == ("pyproject" if kind in ("groups", "extras") else kind) and not detected["cached"]
    assert of_type(records, "env_ready")[0]["cached"] is False
    baseline = of_type(records, "check_finished")[0]
    assert not baseline["passed"] and "assert 5 == 8" in baseline["output_tail"], baseline["output_tail"]
    assert of_type(records, "finished")[-1]["outcome"] == "met"
    assert tree(folder) == before, "the build and the run leave the person's folder as it was"
    session = next((env_root / "sessions").iterdir())
    workspace = session / "workspace"
    assert not list(workspace.rglob("*.egg-info")) and not (workspace / ".venv").exists()
    if kind == "devcontainer":
        assert any("runArgs is ignored" in n for n in detected["notes"])


PROBE = """import sys, urllib.request as u
direct = sys.argv[1] == "--direct"
for url in sys.argv[2:]:
    opener = u.build_opener(u.ProxyHandler({}) if direct else u.ProxyHandler())
    try:
        opener.open(url, timeout=5)
        print("REACHED", url)
    except Exception as exc:
        print("BLOCKED", url, type(exc).__name__)
"""


def test_only_the_index_is_reachable_and_only_while_building(backend, tmp_path, env_root, index):
    """The build reaches the configured index through the proxy, and not another loopback port; a check and
    run_command right after the build reach nothing."""
    other = IndexServer(tmp_path)  # another loopback service: nothing may reach it
    folder, _ = project("requirements", tmp_path / "net")
    (folder / "probe.py").write_text(PROBE)
    (folder / "tui-agent.toml").write_text(
        f'setup = "python probe.py --proxy {index.url}/tinydep/ {other.url}/ && '
        f'python probe.py --direct {other.url}/"\n')
    everything = f"python probe.py --direct {index.url}/ {other.url}/ http://127.0.0.1:3128/"
    model = script(tmp_path, [{"text": "Probing.", "tool_calls": [{"name": "run_command", "arguments": {
        "command": everything}}]}, {"text": "Done."}])
    done = run(folder, backend, model, env_root, index, "--max-iterations", "1", check=f"{everything}; exit 1")
    records = events(done.stdout)
    log = "\n".join(r["text"] for r in of_type(records, "env_output"))
    assert f"REACHED {index.url}/tinydep/" in log, log[-3000:]
    assert f"BLOCKED {other.url}/ HTTPError" in log and "[proxy] refused GET" in log, log[-3000:]
    assert f"BLOCKED {other.url}/ URLError" in log, log[-3000:]
    assert other.requests == [], "the build never reached the other loopback service"
    call = of_type(records, "tool_call_finished")[0]
    assert "REACHED" not in call["result"] and call["result"].count("BLOCKED") == 3, call["result"]
    check = of_type(records, "check_finished")[0]["output_tail"]
    assert "REACHED" not in check and check.count("BLOCKED") == 3, check
    other.close()


def test_the_cache_and_an_edit_of_requirements(backend, tmp_path, env_root, index):
    folder, target = project("requirements", tmp_path / "cache")
    first = run(folder, backend, fixing(tmp_path, target), env_root, index)
    assert first.returncode == 0, first.stderr[-2000:]
    key = of_type(events(first.stdout), "env_ready")[0]["key"]
    index.requests.clear()
    second = run(folder, backend, fixing(tmp_path, target), env_root, index)
    assert second.returncode == 0, second.stderr[-2000:]
    ready = of_type(events(second.stdout), "env_ready")[0]
    assert ready["cached"] and ready["key"] == key and not of_type(events(second.stdout), "env_step")
    assert index.requests == [], "a cached environment installs nothing"
    (folder / "requirements-test.txt").write_text("pytest\niniconfig\n")
    third = run(folder, backend, fixing(tmp_path, target), env_root, index)
    ready = of_type(events(third.stdout), "env_ready")[0]
    assert not ready["cached"] and ready["key"] != key and index.installs()


def test_an_agent_edit_of_requirements_does_not_rebuild(tmp_path, env_root, index):
    require_backend("bwrap")
    folder, target = project("requirements", tmp_path / "edit")
    model = script(tmp_path, [{"expect": "assert", "text": "Fixing quad() and adding a dependency.", "tool_calls": [
        {"name": "edit_file", "arguments": {"path": "requirements.txt", "old_string": "tinydep\n",
                                            "new_string": "tinydep\nrequests\n"}},
        {"name": "edit_file", "arguments": {"path": target, "old_string": FIXED_OLD, "new_string": FIXED_NEW}}]},
        {"text": "Fixed quad()."}])
    done = run(folder, "bwrap", model, env_root, index)
    assert done.returncode == 0, done.stderr[-2000:]
    records = events(done.stdout)
    outdated = of_type(records, "env_outdated")
    assert outdated and outdated[0]["files"] == ["requirements.txt"]
    assert len(of_type(records, "env_ready")) == 1 and not any("requests" in p for p in index.requests)


@pytest.mark.parametrize("setup,step,says", [
    ("pip install no-such-package", "setup", "no-such-package"),
    ("echo preparing; exit 3", "setup", "exit 3"),
    (None, "install", "nothere"),
])
def test_a_failing_build_is_exit_2_with_one_line(setup, step, says, backend, tmp_path, env_root, index):
    folder, target = project("requirements", tmp_path / "bad")
    if setup:
        (folder / "tui-agent.toml").write_text(f"setup = {setup!r}\n")
    else:
        (folder / "requirements.txt").write_text("tinydep\nnothere\n")
    before = tree(folder)
    done = run(folder, backend, fixing(tmp_path, target), env_root, index)
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "\n" not in line and f"step '{step}'" in line and says in line and "full log: " in line, line
    log = line.rsplit("full log: ", 1)[1]
    assert says in open(log).read()
    assert tree(folder) == before


def test_a_python_version_the_image_lacks_is_exit_2(tmp_path, env_root, index):
    require_backend("bwrap")
    folder, target = project("extras", tmp_path / "py")
    (folder / ".python-version").write_text("3.13.1\n")
    done = run(folder, "bwrap", fixing(tmp_path, target), env_root, index)
    assert done.returncode == 2
    assert "needs Python 3.13 (.python-version)" in done.stderr and "Python 3.11" in done.stderr, done.stderr


def test_the_env_command_shows_builds_and_prunes(tmp_path, env_root, index):
    require_backend("bwrap")
    folder, _ = project("requirements", tmp_path / "cmd")
    env = {**index_env(index.url), "TUI_AGENT_ENV_ROOT": str(env_root)}
    shown = cli("env", str(folder), "--sandbox", "bwrap", env=env)
    assert shown.returncode == 0 and "environment: requirements files" in shown.stdout
    assert f"package index: {index.url}" in shown.stdout and "state: not built" in shown.stdout
    built = cli("env", "build", str(folder), "--sandbox", "bwrap", env=env, timeout=300)
    assert built.returncode == 0 and "── install" in built.stdout and "ready: " in built.stdout, built.stderr
    again = cli("env", "build", str(folder), "--sandbox", "bwrap", env=env)
    assert "already built" in again.stdout
    assert "state: built" in cli("env", str(folder), "--sandbox", "bwrap", env=env).stdout
    pruned = cli("env", "prune", env=env)
    assert pruned.returncode == 0 and "removed " in pruned.stdout, pruned.stdout + pruned.stderr
    assert "state: not built" in cli("env", str(folder), "--sandbox", "bwrap", env=env).stdout
    assert cli("env", "build", "a", "b", env=env).returncode == 2
