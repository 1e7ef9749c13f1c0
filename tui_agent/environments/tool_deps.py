"""Dependencies a project declares in its tools' own files (Poetry, PDM, Hatch, setup.py, tox.ini, Pipfile), as PEP 508.

A Poetry project keeps pytest in `[tool.poetry.group.dev.dependencies]` (or the older `dev-dependencies`), a PDM one
in `[tool.pdm.dev-dependencies]`, a Hatch one in an environment's `dependencies`, an older setup.py project in its
`tests_require` or tox's `[testenv] deps`, a Pipenv one in its Pipfile: none of them is installed by
`pip install -e .`. setup.py is read as a syntax tree (never run): only literal lists and dicts count. The groups
chosen are the ones a test suite needs (test, tests, testing; dev only when there is none of those). The project is
untrusted input: what does not read as a plain requirement (a path, a URL, an option, a template) is left out, with
a note.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
REQUIREMENT = re.compile(rf"{NAME}(?:\[{NAME}(?:\s*,\s*{NAME})*\])?\s*(?:\(?[<>=!~][<>=!~0-9A-Za-z.*+,\s]*\)?)?"
                         r"(?:\s*;\s*[\w\s.'\"<>=!~(),-]+)?")
VERSION = re.compile(r"\d+(?:\.\d+)*")
TEST_GROUPS = ("test", "tests", "testing")


@dataclass
class Declared:
    requirements: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # files besides pyproject.toml that were read (the cache key)
    notes: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)  # test extras of the built project ([tool.poetry.extras], setup.py)


def _chosen(groups: dict) -> list[str]:
    names = [n for n in groups if isinstance(n, str) and n.lower() in TEST_GROUPS]
    return names or [n for n in groups if isinstance(n, str) and n.lower() == "dev"]


def declared(project: Path, data: dict) -> Declared:
    found = Declared()
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    _poetry(tool.get("poetry"), found)
    pdm = tool.get("pdm") if isinstance(tool.get("pdm"), dict) else {}
    _listed("[tool.pdm.dev-dependencies]", pdm.get("dev-dependencies"), found)
    _hatch(tool.get("hatch"), found)
    _setup_py(project, found)
    _tox(project, found)
    _pipfile(project, found)
    found.requirements = list(dict.fromkeys(found.requirements))
    return found


def _add(where: str, requirement: object, found: Declared) -> None:
    text = requirement.strip() if isinstance(requirement, str) else ""
    if text and REQUIREMENT.fullmatch(text):
        found.requirements.append(text)
    else:
        found.notes.append(f"{where}: {str(requirement)[:80]!r} is not a plain requirement: not installed")


def _listed(where: str, groups: object, found: Declared) -> None:
    if not isinstance(groups, dict):
        return
    for name in _chosen(groups):
        if isinstance(groups[name], list):
            for requirement in groups[name]:
                _add(f"{where} {name}", requirement, found)


def _poetry(poetry: object, found: Declared) -> None:
    if not isinstance(poetry, dict):
        return
    groups = {name: (table or {}).get("dependencies") for name, table in (poetry.get("group") or {}).items()
              if isinstance(table, dict)}
    if isinstance(poetry.get("dev-dependencies"), dict):  # Poetry before 1.2
        groups.setdefault("dev", poetry["dev-dependencies"])
    for name in _chosen(groups):
        for dep, spec in (groups[name] or {}).items():
            if isinstance(dep, str) and dep.lower() != "python":
                _add(f"[tool.poetry.group.{name}]", poetry_requirement(dep, spec), found)
    extras = poetry.get("extras")
    if isinstance(extras, dict):
        found.extras = [n for n in extras if isinstance(n, str) and n.lower() in TEST_GROUPS]


def poetry_requirement(name: str, spec: object) -> str:
    """`pytest = "^7.1"` as PEP 508 (`pytest>=7.1,<8`); a git/path/url source comes back as it is (and is left out)."""
    if isinstance(spec, list):  # several constraints by platform or Python: the package, unconstrained
        spec = "*"
    return _requirement(name, spec, ("git", "path", "url", "file"), _constraint)


def _requirement(name: str, spec: object, sources: tuple[str, ...], constraint: Callable[[str], str | None]) -> str:
    """A Poetry or Pipfile entry (a version string, or a table with version, extras, markers) as PEP 508."""
    extras: list = []
    markers = ""
    if isinstance(spec, dict):
        if any(key in spec for key in sources):
            return f"{name} (from {next(k for k in sources if k in spec)})"
        extras, markers = spec.get("extras") or [], spec.get("markers") or ""
        spec = spec.get("version", "*")
    text = name + (f"[{','.join(map(str, extras))}]" if extras else "") + (constraint(str(spec)) or "")
    return f"{text}; {markers}" if markers else text


def _constraint(spec: str) -> str | None:
    """Poetry's version constraint as a PEP 440 specifier ("" for any version)."""
    if "||" in spec or "|" in spec:
        return ""  # alternatives have no PEP 440 spelling: any version
    parts = []
    for word in (w.strip() for w in spec.split(",")):
        if word in ("", "*"):
            continue
        if word.startswith("^") or (word.startswith("~") and not word.startswith("~=")):
            version = VERSION.match(word[1:].strip())
            if version is None:
                return ""
            numbers = [int(n) for n in version.group(0).split(".")]
            if word.startswith("^"):
                bump = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
            else:
                bump = 1 if len(numbers) > 1 else 0
            upper = numbers[:bump] + [numbers[bump] + 1]
            parts += [f">={version.group(0)}", "<" + ".".join(map(str, upper))]
        elif word[0] in "<>=!~":
            parts.append(word.replace(" ", ""))
        else:
            parts.append("==" + word)
    return ",".join(parts)


def _hatch(hatch: object, found: Declared) -> None:
    envs = hatch.get("envs") if isinstance(hatch, dict) else None
    if not isinstance(envs, dict):
        return
    names = [n for n in envs if n.lower() in (*TEST_GROUPS, "hatch-test")] or [n for n in envs if n == "default"]
    for name in names:
        env = envs[name] if isinstance(envs[name], dict) else {}
        for key in ("dependencies", "extra-dependencies"):
            for requirement in env.get(key) or []:
                _add(f"[tool.hatch.envs.{name}]", requirement, found)
        if name == "hatch-test":  # Hatch's own test environment brings pytest
            found.requirements.append("pytest")


def _setup_py(project: Path, found: Declared) -> None:
    path = project / "setup.py"
    if not path.is_file() or path.is_symlink():
        return
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or getattr(node.func, "id", getattr(node.func, "attr", None)) != "setup":
            continue
        for keyword in node.keywords:
            if keyword.arg == "tests_require" and isinstance(keyword.value, (ast.List, ast.Tuple)):
                for item in keyword.value.elts:
                    if isinstance(item, ast.Constant):
                        _add("setup.py tests_require", item.value, found)
            elif keyword.arg == "extras_require" and isinstance(keyword.value, ast.Dict):
                keys = [k.value for k in keyword.value.keys if isinstance(k, ast.Constant)]
                found.extras += [n for n in keys if isinstance(n, str) and n.lower() in TEST_GROUPS]


def _pipfile(project: Path, found: Declared) -> None:
    """Pipenv's Pipfile: [packages] and [dev-packages] (its specs are PEP 440 already, or tables like Poetry's)."""
    path = project / "Pipfile"
    if not path.is_file() or path.is_symlink():
        return
    try:
        data = tomllib.loads(path.read_text(errors="replace"))
    except tomllib.TOMLDecodeError:
        found.notes.append("Pipfile: not valid TOML: not read")
        return
    found.inputs.append("Pipfile")
    for table in ("packages", "dev-packages"):
        for name, spec in (data.get(table) or {}).items():
            if isinstance(name, str):
                _add(f"Pipfile [{table}]", _pipfile_requirement(name, spec), found)


def _pipfile_requirement(name: str, spec: object) -> str:
    return _requirement(name, spec, ("git", "path", "file", "editable"), lambda v: "" if v.strip() == "*" else v)


def _tox(project: Path, found: Declared) -> None:
    path = project / "tox.ini"
    if not path.is_file() or path.is_symlink():
        return
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(path.read_text(errors="replace"))
    except configparser.Error:
        return
    if not parser.has_option("testenv", "deps"):
        return
    found.inputs.append("tox.ini")
    for line in parser.get("testenv", "deps").splitlines():
        line = line.split("#", 1)[0].strip()
        if re.match(r"[\w,!-]+:", line):  # a factor's own deps (py38: ...): not the default environment's
            continue
        if line and not line.startswith("-") and "{" not in line:  # -r files are read as requirements files
            _add("tox.ini [testenv] deps", line, found)
