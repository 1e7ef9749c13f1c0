"""The code stays readable: every module under 300 lines, opening with a one-line docstring of what it provides."""

import ast
import re
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tui_agent"
LIMIT = 300
OVER: set[str] = set()


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_over_300_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in modules() if (n := len(p.read_text().splitlines())) > LIMIT}
    assert set(long) - OVER == set(), long
    assert OVER <= set(long), "a listed module is short now: take it off OVER"


def test_every_module_opens_with_a_one_line_docstring():
    missing = []
    for path in modules():
        tree = ast.parse(path.read_text())
        doc = ast.get_docstring(tree, clean=False)
        if path.read_text().strip() and (doc is None or not doc.split("\n")[0].strip()):
            missing.append(str(path.relative_to(PACKAGE)))
    assert missing == []


def packages() -> set[str]:
    inits = (p for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts)
    return {".".join(p.parent.relative_to(ROOT).parts) for p in inits}


def test_the_wheel_ships_every_package():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert packages() - listed == set()


def test_the_readme_layout_lists_the_tree_in_the_order_of_the_layers():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("    tui_agent/\n", 1)[1].split("\n\n", 1)[0]
    heads = re.findall(r"^      (\S+)", block, re.M)
    top = {p.name + "/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    top |= {p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert {name for name in top if name not in block} == set(), "a package or module the README does not name"
    assert set(heads) - top == set(), "the README names a package or module that is not there"
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    layer = {m.strip().removeprefix("tui_agent."): i for i, line in enumerate(contract["layers"])
             for m in line.split("|")}
    names = [h.removesuffix("/").removesuffix(".py") for h in heads]
    order = [(layer[name], name) for name in names if name in layer]  # prompts/ is data: in no layer
    assert [i for i, _ in order] == sorted(i for i, _ in order), order
