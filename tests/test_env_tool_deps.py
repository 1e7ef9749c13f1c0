"""Test dependencies declared in a tool's own tables (Poetry, PDM, Hatch) or tox.ini are installed: a Poetry
project keeps pytest in its dev group, where `pip install -e .` never looks."""

from __future__ import annotations

import os
import shutil

import pytest

from env_fixtures import IndexServer, index_folder, package, wheel_of_installed
from loop_fixtures import of_type
from test_env_real_traits import baseline, env_root  # noqa: F401 (a fixture)
from tui_agent.environments.detect import detect
from tui_agent.environments.tool_deps import declared, poetry_requirement

POETRY = """[build-system]
requires = ["poetry-core>=1.0"]
build-backend = "poetry.core.masonry.api"

[tool.poetry]
name = "poetpkg"
version = "0.1.0"
description = ""
authors = ["A <a@example.org>"]
packages = [{include = "poetpkg", from = "src"}]

[tool.poetry.dependencies]
python = "^3.9"
tinydep = "^1.0"

[tool.poetry.group.dev.dependencies]
pytest = ">=7"
testhelper = "~1.2"

[tool.poetry.group.docs.dependencies]
nothere = "*"

[tool.pytest.ini_options]
testpaths = ["tests"]
"""
TEST = ("from poetpkg import quad\nfrom testhelper import CHECKED\n\n\n"
        "def test_quad():\n    assert CHECKED and quad(2) == 8\n")


@pytest.mark.unit
@pytest.mark.parametrize("spec, expected", [
    ("^1.2.3", "x>=1.2.3,<2"), ("^0.2.3", "x>=0.2.3,<0.3"), ("^0.0.3", "x>=0.0.3,<0.0.4"), ("^0", "x>=0,<1"),
    ("~1.2.3", "x>=1.2.3,<1.3"), ("~1", "x>=1,<2"), ("~=1.2", "x~=1.2"), ("*", "x"), ("1.2.3", "x==1.2.3"),
    (">= 1.0, < 3", "x>=1.0,<3"), ("^1.0 || ^2.0", "x"),
    ({"version": "^2.1", "extras": ["socks"], "markers": "sys_platform == 'linux'"},
     "x[socks]>=2.1,<3; sys_platform == 'linux'"),
])
def test_poetry_constraints_read_as_pep_440(spec, expected):
    assert poetry_requirement("x", spec) == expected


@pytest.mark.unit
def test_the_test_groups_of_each_tool_and_nothing_that_is_not_a_requirement(tmp_path):
    data = {"tool": {
        "poetry": {"group": {"test": {"dependencies": {"pytest": "^8", "python": "^3.9", "mine": {"path": "../m"},
                                                       "evil": {"version": "--index-url=http://x"}}},
                             "dev": {"dependencies": {"black": "*"}}}},
        "pdm": {"dev-dependencies": {"testing": ["pytest-mock>=3", "-e file:///${PROJECT_ROOT}/sub"],
                                     "lint": ["ruff"]}},
        "hatch": {"envs": {"default": {"dependencies": ["coverage"]}, "hatch-test": {"extra-dependencies": [
            "hypothesis", "{root:uri}/x"]}}}}}
    (tmp_path / "tox.ini").write_text("[tox]\nenvlist = py3\n\n[testenv]\ndeps =\n    pytest-xdist  # fast\n"
                                      "    -r requirements.txt\n    py38: mock\n    {env:EXTRA}\ncommands = pytest\n")
    found = declared(tmp_path, data)
    assert found.requirements == ["pytest>=8,<9", "pytest-mock>=3", "hypothesis", "pytest", "pytest-xdist"], \
        "test groups before dev; dev (black), lint (ruff) and the default Hatch env are not a test suite's"
    assert found.inputs == ["tox.ini"]
    notes = " ".join(found.notes)
    assert "mine (from path)" in notes and "--index-url" in notes and "PROJECT_ROOT" in notes and "{root:uri}" in notes
    assert not any(r.startswith("-") for r in found.requirements)


@pytest.mark.unit
def test_setup_py_is_read_as_a_syntax_tree_never_run(tmp_path):
    """six 1.17.0 names pytest in `tests_require` only: its check found no pytest in the environment."""
    (tmp_path / "setup.py").write_text(
        "import os\nfrom setuptools import setup\nos.system('touch RAN')\n"
        "setup(name='s', tests_require=['pytest', 'mock>=2', '--index-url=http://x', os.environ.get('X')],\n"
        "      extras_require={'testing': ['hypothesis'], 'docs': ['sphinx']})\n")
    found = declared(tmp_path, {})
    assert found.requirements == ["pytest", "mock>=2"] and found.extras == ["testing"]
    assert "--index-url" in " ".join(found.notes) and not (tmp_path / "RAN").exists()
    recipe = detect(tmp_path, check="python -m pytest")
    assert "-e '.[testing]'" in recipe.install and "pytest mock>=2" in recipe.install.replace("'", "")
    assert not any("installs pytest" in n for n in recipe.notes)


@pytest.mark.unit
def test_a_poetry_project_is_built_with_its_dev_group_and_configuring_pytest_is_not_providing_it(tmp_path):
    folder = tmp_path / "poet"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(POETRY)
    recipe = detect(folder, check="python -m pytest -q")
    assert recipe.kind == "pyproject" and recipe.install.startswith("uv pip install --compile-bytecode -e .")
    assert "'pytest>=7'" in recipe.install and "'testhelper>=1.2,<1.3'" in recipe.install
    assert "nothere" not in recipe.install and not any("installs pytest" in n for n in recipe.notes)
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "pyproject.toml").write_text('[project]\nname = "c"\nversion = "1"\n\n[tool.pytest.ini_options]\n'
                                               'addopts = "-q"\n')
    (configured / "setup.cfg").write_text("[tool:pytest]\ntestpaths = tests\n")
    assert any("installs pytest" in n for n in detect(configured, check="python -m pytest").notes), \
        "[tool.pytest.ini_options] does not install pytest"


@pytest.mark.slow
def test_a_poetry_projects_baseline_runs_with_its_dev_group(backend, tmp_path, env_root):  # noqa: F811
    index = index_folder(tmp_path / "index")
    wheel_of_installed("poetry-core", index)
    package(index, "testhelper", "1.2.5", code="CHECKED = True\n")
    package(index, "testhelper", "1.3.0", code="CHECKED = False\n")  # out of ~1.2: must not be chosen
    server = IndexServer(index)
    try:
        folder = tmp_path / "poet"
        for rel, text in {"pyproject.toml": POETRY, "src/poetpkg/__init__.py": "def quad(x):\n    return 4 * x\n",
                          "tests/test_quad.py": TEST}.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        records = baseline(folder, backend, env_root, {"PIP_CONFIG_FILE": os.devnull, "UV_DEFAULT_INDEX": server.url},
                           tmp_path)
        assert not of_type(records, "env_failed"), of_type(records, "env_failed")
        first_check = of_type(records, "check_finished")[0]
        assert first_check["passed"], first_check["output_tail"]
    finally:
        server.close()
        shutil.rmtree(index, ignore_errors=True)


@pytest.mark.unit
def test_requirements_files_a_test_suite_does_not_need_are_left_out(tmp_path):
    """click 8.1.7 and markupsafe 3.0.2 (pip-compile'd requirements/*.txt): docs.txt pins the project itself at an
    older version, so installing every file had no solution."""
    for name in ("build", "dev", "docs", "tests", "typing"):
        (tmp_path / "requirements").mkdir(exist_ok=True)
        (tmp_path / "requirements" / f"{name}.txt").write_text("pytest\n")
    (tmp_path / "requirements-py3.txt").write_text("tinydep\n")
    recipe = detect(tmp_path, check="pytest")
    assert recipe.inputs == ("requirements-py3.txt", "requirements/tests.txt"), "test files first, dev only without"
    assert any(n.endswith("requirements/build.txt, requirements/dev.txt, requirements/docs.txt, "
                          "requirements/typing.txt") for n in recipe.notes), recipe.notes
    (tmp_path / "requirements" / "tests.txt").unlink()
    assert detect(tmp_path).inputs == ("requirements-py3.txt", "requirements/dev.txt")


@pytest.mark.unit
def test_a_pipfile_gives_its_packages_and_dev_packages(tmp_path):
    (tmp_path / "Pipfile").write_text('[[source]]\nurl = "https://pypi.org/simple"\n\n[packages]\ntinydep = "*"\n'
                                      'requests = {version = ">=2.31", extras = ["socks"]}\nmine = {path = "."}\n\n'
                                      '[dev-packages]\npytest = "==8.3.3"\n')
    (tmp_path / "app.py").write_text("")
    recipe = detect(tmp_path, check="pytest")
    assert recipe.kind == "requirements" and recipe.inputs == ("Pipfile",) and recipe.project_path == "."
    assert "tinydep 'requests[socks]>=2.31' pytest==8.3.3" in recipe.install
    assert any("mine (from path)" in n for n in recipe.notes)
