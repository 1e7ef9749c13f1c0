"""Traits of released projects that broke their baseline check (issue 10, measured on PyPI sdists), each
reproduced by a tiny local project and local indexes: no internet."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from env_fixtures import IndexServer, index_folder, package, reachable_dir
from loop_fixtures import cli, events, of_type, script
from tui_agent.environments import docker_store, indexes
from tui_agent.sandbox import probe
from tui_agent.workspace import generated
from tui_agent.workspace.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture
def env_root(tmp_path):
    root = reachable_dir("tui-agent-envtraits-")
    yield root
    shutil.rmtree(root, ignore_errors=True)
    if probe("docker") is None:
        for entry in docker_store.entries():
            if entry.project.startswith(str(tmp_path)):
                docker_store.remove(entry)


def baseline(folder, backend, env_root, host_env: dict[str, str], tmp_path) -> list[dict]:
    """A run whose model does nothing: does the project's own check run and pass as it is?"""
    env = {"TUI_AGENT_ENV_ROOT": str(env_root), **{k: "" for k in os.environ if k.startswith(("PIP_", "UV_"))},
           **host_env}
    done = cli("run", str(folder), "--check", "python -m pytest -q", "--model",
               script(tmp_path, [{"text": "nothing to do"}]), "--sandbox", backend, "--headless",
               "--max-iterations", "1", "--sessions", str(env_root / "sessions"), env=env, timeout=300)
    return events(done.stdout)


@pytest.mark.unit
def test_a_pip_configured_host_gets_pips_index_strategy(tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://mirror.example.org/simple\n"
                    "extra-index-url = https://pypi.org/simple\n")
    found = indexes.read({"PIP_CONFIG_FILE": str(conf)})
    assert found.sandbox_env()["UV_INDEX_STRATEGY"] == "unsafe-best-match"
    assert found.summary()["strategy"] == "unsafe-best-match", "a change of strategy is a new cache key"
    uv_set = indexes.read({"PIP_CONFIG_FILE": str(conf), "UV_INDEX": "https://pypi.org/simple"})
    assert "UV_INDEX_STRATEGY" not in uv_set.sandbox_env(), "uv's own settings keep uv's default"
    chosen = indexes.read({"PIP_CONFIG_FILE": str(conf), "UV_INDEX_STRATEGY": "first-index"})
    assert chosen.sandbox_env()["UV_INDEX_STRATEGY"] == "first-index"
    assert "strategy" not in indexes.read({"PIP_CONFIG_FILE": os.devnull}).summary()


def test_an_older_version_on_the_first_pip_index_does_not_fail_the_build(backend, tmp_path, env_root):
    """more-itertools 10.5.0 on a host whose pip.conf adds a mirror (extra-index-url) holding an old flit-core:
    uv asks its extra indexes first and stops at the first that has the package, so it failed where pip (the best
    version of every index) installs."""
    main, mirror = index_folder(tmp_path / "main"), tmp_path / "mirror"
    mirror.mkdir()
    package(mirror, "tinydep", "0.9", code="def double(x):\n    return 0\n")
    package(main, "tinydep", "2.0", code="def double(x):\n    return 2 * x\n")
    servers = [IndexServer(main), IndexServer(mirror)]
    try:
        folder = tmp_path / "proj"
        folder.mkdir()
        (folder / "requirements.txt").write_text("tinydep>=2\npytest\n")
        (folder / "test_it.py").write_text("from tinydep import double\n\n\ndef test_double():\n"
                                           "    assert double(2) == 4\n")
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\nindex-url = {servers[0].url}\nextra-index-url = {servers[1].url}\n")
        records = baseline(folder, backend, env_root, {"PIP_CONFIG_FILE": str(conf)}, tmp_path)
        assert not of_type(records, "env_failed"), of_type(records, "env_failed")
        first_check = of_type(records, "check_finished")[0]
        assert first_check["passed"], first_check["output_tail"]
    finally:
        for server in servers:
            server.close()


GENERATED = {".gitignore": "src/*/_version.py\n*.mo\n.env\nlocal_settings.py\n",
             "src/verpkg/locale/it/humanize.mo": "catalog", "src/verpkg/.env": "TOKEN=x", ".env": "TOKEN=y",
             "src/verpkg/local_settings.py": "PASSWORD = 'x'\n",
             "pyproject.toml": '[tool.setuptools_scm]\nwrite_to = "src/verpkg/_version.py"\n',
             "requirements.txt": "pytest\n",
             "src/verpkg/__init__.py": "from ._version import version\n",
             "src/verpkg/_version.py": "version = '4.11.0'\n",
             "tests/test_version.py": "from verpkg import version\n\n\n"
                                      "def test_version():\n    assert version == '4.11.0'\n\n\n"
                                      "def test_catalog():\n    import os\n    import verpkg\n"
                                      "    here = os.path.dirname(verpkg.__file__)\n"
                                      "    assert os.path.isfile(here + '/locale/it/humanize.mo')\n"}


def _generated_project(root: Path) -> Path:
    for rel, text in GENERATED.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.unit
def test_a_gitignored_version_module_is_in_the_workspace_and_never_deployed(tmp_path):
    """humanize 4.11.0 (hatch-vcs) imports a _version.py its .gitignore hides (every test failed to import) and
    ships compiled translations it gitignores (*.mo: 23 tests skipped in the sandbox, not on the host)."""
    project = _generated_project(tmp_path / "proj")
    ws = Workspace.create(project, tmp_path / "session")
    try:
        assert (ws.path / "src/verpkg/_version.py").read_text() == "version = '4.11.0'\n"
        assert (ws.path / "src/verpkg/locale/it/humanize.mo").read_text() == "catalog", "humanize's translations"
        assert not (ws.path / ".env").exists() and not (ws.path / "src/verpkg/.env").exists(), "dotfiles stay out"
        assert not (ws.path / "src/verpkg/local_settings.py").exists(), "a gitignored source file (secrets) stays out"
        (ws.path / "src/verpkg/_version.py").write_text("version = 'changed'\n")
        (ws.path / "src/verpkg/__init__.py").write_text("from ._version import version  # edited\n")
        plan = ws.plan_deploy()
        assert [w for w in plan.writes] == ["src/verpkg/__init__.py"] and not plan.deletes, plan
        ws.deploy()
        assert (project / "src/verpkg/_version.py").read_text() == "version = '4.11.0'\n", "never deployed"
    finally:
        ws.close()
    outside = _generated_project(tmp_path / "evil")
    (outside / "pyproject.toml").write_text('[tool.hatch.build.hooks.vcs]\nversion-file = "../secret.py"\n')
    assert generated.declared(outside) == [], "a path outside the project is never copied"


def test_a_gitignored_version_module_lets_the_baseline_run(backend, tmp_path, env_root):
    server = IndexServer(index_folder(tmp_path / "index"))
    try:
        folder = _generated_project(tmp_path / "verproj")
        records = baseline(folder, backend, env_root, {"PIP_CONFIG_FILE": os.devnull, "UV_DEFAULT_INDEX": server.url},
                           tmp_path)
        first_check = of_type(records, "check_finished")[0]
        assert first_check["passed"], first_check["output_tail"]
    finally:
        server.close()
