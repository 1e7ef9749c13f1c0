"""A project versioned by git tags (setuptools-scm, hatch-vcs) in a fresh git checkout (pluggy): its version
module is missing and the build's copy has no .git. The build backend here is a tiny in-tree one that behaves
like setuptools-scm (no version without .git or SETUPTOOLS_SCM_PRETEND_VERSION): setuptools-scm and hatch-vcs are
not on this machine, and tests never download."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from env_fixtures import IndexServer, index_folder
from loop_fixtures import of_type
from test_env_real_traits import baseline, env_root  # noqa: F401 (env_root is a fixture)
from tui_agent.environments.build import _keyed
from tui_agent.environments.detect import detect
from tui_agent.environments.script import build_env
from tui_agent.workspace import scmversion
from tui_agent.workspace.workspace import Workspace

BACKEND = '''"""setuptools-scm's behaviour in a few lines: a version from git or SETUPTOOLS_SCM_PRETEND_VERSION, the
version module written into the source tree, then an editable wheel (a .pth to src/)."""
import base64, hashlib, os, zipfile


def _version():
    if "SETUPTOOLS_SCM_PRETEND_VERSION" in os.environ:
        return os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"]
    raise SystemExit("setuptools-scm was unable to detect version for " + os.getcwd())


def get_requires_for_build_editable(config_settings=None):
    return []


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    with open("src/scmpkg/_version.py", "w") as f:
        f.write("version = %r\\n" % version)
    info = "scmpkg-%s.dist-info" % version
    files = {"scmpkg.pth": os.path.abspath("src") + "\\n",
             info + "/METADATA": "Metadata-Version: 2.1\\nName: scmpkg\\nVersion: %s\\n" % version,
             info + "/WHEEL": "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    record = ["%s,sha256=%s,%d" % (p, base64.urlsafe_b64encode(hashlib.sha256(d.encode()).digest()).rstrip(b"=")
              .decode(), len(d.encode())) for p, d in files.items()] + [info + "/RECORD,,"]
    files[info + "/RECORD"] = "\\n".join(record) + "\\n"
    name = "scmpkg-%s-py3-none-any.whl" % version
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return name
'''
CHECKOUT = {  # pluggy's git checkout: version_file gitignored, so missing; the package imports it
    ".gitignore": "src/scmpkg/_version.py\n",
    "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "scmbackend"\nbackend-path = ["_build"]\n\n'
                      '[project]\nname = "scmpkg"\ndynamic = ["version"]\n\n'
                      '[tool.setuptools_scm]\nversion_file = "src/scmpkg/_version.py"\n',
    "_build/scmbackend.py": BACKEND,
    "src/scmpkg/__init__.py": "from ._version import __version__ as version_module_version\n"
                              "from ._version import version_tuple\n",
    "testing/test_version.py": "import importlib.metadata\nimport scmpkg\n\n\ndef test_versions():\n"
                               "    assert scmpkg.version_module_version == '{v}'\n"
                               "    assert scmpkg.version_tuple == {t}\n"
                               "    assert importlib.metadata.version('scmpkg') == '{v}'\n"}


def checkout(root: Path, version: str = "0.0.0", version_tuple: str = "(0, 0, 0)") -> Path:
    for rel, text in CHECKOUT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.replace("{v}", version).replace("{t}", version_tuple))
    return root


@pytest.mark.unit
def test_the_version_module_is_written_in_the_workspace_and_never_deployed(tmp_path):
    project = checkout(tmp_path / "proj")
    (project / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: scmpkg\nVersion: 1.5.1.dev3+g12ab\n\nbody\n")
    ws = Workspace.create(project, tmp_path / "session")
    try:
        namespace: dict = {}
        exec((ws.path / "src/scmpkg/_version.py").read_text(), namespace)
        assert namespace["__version__"] == namespace["version"] == "1.5.1.dev3+g12ab"
        assert namespace["version_tuple"] == (1, 5, 1, "dev3", "g12ab")
        (ws.path / "src/scmpkg/_version.py").write_text("version = 'edited'\n")
        (ws.path / "src/scmpkg/__init__.py").write_text("# edited\n")
        plan = ws.plan_deploy()
        assert list(plan.writes) == ["src/scmpkg/__init__.py"] and not plan.deletes, plan
        ws.deploy()
        assert not (project / "src/scmpkg/_version.py").exists(), "the written version module is never deployed"
    finally:
        ws.close()
    assert not os.path.lexists(project / "src/scmpkg/_version.py")


@pytest.mark.unit
def test_a_version_file_outside_the_project_or_through_a_symlink_is_never_written(tmp_path):
    for name in ("/tmp/x.py", "../x.py", "src/../../x.py", "src/*.py", "src/scmpkg/_version.txt"):
        assert scmversion.version_files({"tool": {"setuptools_scm": {"write_to": name}}}) == [], name
    assert scmversion.version_files({"tool": {"hatch": {"build": {"hooks": {"vcs": {
        "version-file": "src/scmpkg/_version.py"}}}}}}) == ["src/scmpkg/_version.py"]
    project = checkout(tmp_path / "proj")
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "pyproject.toml").write_text('[tool.hatch.build.hooks.vcs]\nversion-file = "link/_version.py"\n')
    (project / "link").symlink_to(outside, target_is_directory=True)
    ws = Workspace.create(project, tmp_path / "session")
    try:
        os.symlink(outside, ws.path / "link") if not os.path.lexists(ws.path / "link") else None
        assert scmversion.write_missing(project, ws.path, None) == []
    finally:
        ws.close()
    assert list(outside.iterdir()) == [], "nothing written through a symlinked folder"


@pytest.mark.unit
def test_the_build_gets_the_version_and_only_scm_projects_change_their_key(tmp_path):
    project = checkout(tmp_path / "proj")
    recipe = detect(project)
    assert recipe is not None and dict(recipe.build_vars) == {"SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0"}
    assert build_env(recipe, {})["SETUPTOOLS_SCM_PRETEND_VERSION"] == "0.0.0"
    note = "SETUPTOOLS_SCM_PRETEND_VERSION=0.0.0 (no PKG-INFO, no release tag"
    assert any(note in n for n in recipe.notes), recipe.notes
    (project / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: scmpkg\nVersion: 1.5.0\n")
    sdist = detect(project)
    assert sdist is not None and dict(sdist.build_vars)["SETUPTOOLS_SCM_PRETEND_VERSION"] == "1.5.0"
    assert _keyed(sdist) != _keyed(recipe), "a different version is a different environment"
    (project / "PKG-INFO").unlink()
    (project / ".git/refs/tags").mkdir(parents=True)
    for tag in ("v1.10.0", "2.0.0rc1", "latest"):
        (project / ".git/refs/tags" / tag).write_text("0" * 40 + "\n")
    (project / ".git/packed-refs").write_text(f"# pack-refs\n{'1' * 40} refs/tags/1.9.3\n{'2' * 40} refs/heads/v9\n")
    assert scmversion.version(project) == ("1.10.0", "the highest release tag in .git"), "read as files, git not run"
    (project / ".git/refs/tags/v1.10.0").unlink()
    assert scmversion.version(project)[0] == "1.9.3"
    hatch = tmp_path / "hatch"
    hatch.mkdir()
    (hatch / "pyproject.toml").write_text('[build-system]\nrequires = ["hatchling", "hatch-vcs"]\n'
                                          'build-backend = "hatchling.build"\n[project]\nname = "h"\n')
    assert dict(detect(hatch).build_vars) == {"SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0"}
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools"]\n[project]\nname = "p"\n')
    other = detect(plain)
    assert other is not None and other.build_vars == () and "build_vars" not in _keyed(other), "older keys hold"
    assert "SETUPTOOLS_SCM_PRETEND_VERSION" not in build_env(other, {})


def test_a_fresh_git_checkout_runs_its_suite(backend, tmp_path, env_root):  # noqa: F811
    server = IndexServer(index_folder(tmp_path / "index"))
    try:
        folder = checkout(tmp_path / "scmproj", "2.1.0", "(2, 1, 0)")
        (folder / ".git/refs/tags").mkdir(parents=True)
        (folder / ".git/refs/tags/v2.1.0").write_text("0" * 40 + "\n")  # the version, read without running git
        records = baseline(folder, backend, env_root, {"PIP_CONFIG_FILE": os.devnull, "UV_DEFAULT_INDEX": server.url},
                           tmp_path)
        assert not of_type(records, "env_failed"), of_type(records, "env_failed")
        detected = of_type(records, "env_detected")[0]
        assert "SETUPTOOLS_SCM_PRETEND_VERSION=2.1.0 (the highest release tag in .git)" in str(detected), detected
        first_check = of_type(records, "check_finished")[0]
        assert first_check["passed"], first_check["output_tail"]
    finally:
        server.close()
    assert not (folder / "src/scmpkg/_version.py").exists(), "the person's folder is untouched"
