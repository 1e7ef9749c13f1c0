"""Which environment a project declares (devcontainer, Dockerfile, uv.lock, pyproject, requirements, setup)."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from tui_agent.config import ConfigError
from tui_agent.environments import devcontainer, tool_deps
from tui_agent.trust import REQUIREMENT_GLOBS
from tui_agent.workspace import scmversion

KINDS = ("devcontainer", "dockerfile", "uv", "pyproject", "requirements", "setup")
DOCKER_ONLY = ("devcontainer", "dockerfile")
TEST_NAMES = ("test", "tests", "testing", "dev")  # dependency groups and extras a test suite needs
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
# words in a requirements file's name that say it is not a test suite's (docs, typing, lint, build...)
NOT_TESTS = {"doc", "docs", "documentation", "sphinx", "typing", "types", "mypy", "lint", "linting", "linters",
             "style", "format", "build", "release", "publish", "deploy", "precommit", "commit", "bench",
             "benchmark", "benchmarks", "perf", "examples", "notebooks"}
RUNS_PYTEST = re.compile(r"(?:^|[\s;&|(`/])(?:py\.?test|pytest-3)(?=$|[\s;&|)`])|-m\s+pytest\b")
# pytest, pytest>=8, "pytest", pytest = "^8" (pytest-x too); not pytest_x, nor a configuration section:
# [tool.pytest.ini_options], [tool:pytest], [pytest] configure pytest, they do not install it
NAMES_PYTEST = re.compile(r"(?i)(?<![\w.:\[-])pytest(?![\w.\]])")


@dataclass(frozen=True)
class Recipe:
    """What to build: the kind, the files whose content makes the cache key, and the commands."""

    kind: str
    inputs: tuple  # relative paths, hashed into the key
    install: str = ""  # the install step's shell command ("" when there is none)
    setup: str | None = None  # the `setup` setting, run after the install
    python: str | None = None  # the interpreter request for uv (".python-version" or requires-python)
    python_from: str = ""
    project_path: str | None = None  # made importable with a .pth when the install does not install the project
    image: str | None = None  # devcontainer `image`
    dockerfile: str | None = None  # devcontainer build.dockerfile or the configured Dockerfile
    context: str | None = None
    env: tuple = ()  # devcontainer containerEnv
    notes: tuple = ()
    pytest: bool = False  # the check runs pytest: the build makes sure it is installed (its own step, after the rest)
    build_vars: tuple = ()  # build-only environment variables (SETUPTOOLS_SCM_PRETEND_VERSION); in the key if any

    @property
    def docker_only(self) -> bool:
        return self.kind in DOCKER_ONLY

    def describe(self) -> str:
        words = {"devcontainer": f"{self.inputs[0]} ({self.image or self.dockerfile})",
                 "dockerfile": f"Dockerfile {self.dockerfile}", "uv": "uv.lock (uv sync --frozen)",
                 "pyproject": "pyproject.toml (the project installed editable)",
                 "requirements": "requirements files", "setup": "the setup command"}
        return words[self.kind]


def _toml(project: Path) -> dict:
    path = project / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _python(project: Path, data: dict) -> tuple[str | None, str]:
    pinned = project / ".python-version"
    if pinned.is_file():
        words = pinned.read_text().split()
        version = next((w for w in words if not w.startswith("#")), "")
        match = re.match(r"^(?:python|cpython-?)?(\d+\.\d+)", version)
        if match:  # a patch pin (3.11.7) asks for the minor version: images carry their distribution's patch
            return match.group(1), ".python-version"
    requires = (data.get("project") or {}).get("requires-python")
    if isinstance(requires, str) and requires.strip():
        return requires.strip(), "requires-python in pyproject.toml"
    return None, ""


def _requirements(project: Path) -> tuple[list[str], list[str]]:
    """(the requirements files a test suite needs, in the order of REQUIREMENT_GLOBS; the others, left out).

    Kept: the test ones (test, tests, testing, ci), the dev ones only when there is no test one, and the rest
    (requirements.txt, requirements/base.txt) but for docs, typing, lint or build files: often locked
    by pip-compile, they pin what a test suite does not need (Pallets' requirements/docs.txt pins the project
    itself, so installing every file failed)."""
    found: list[str] = []
    for pattern in REQUIREMENT_GLOBS:
        for path in sorted(project.glob(pattern)):
            rel = path.relative_to(project).as_posix()
            if path.is_file() and not path.is_symlink() and rel not in found:
                found.append(rel)
    kinds = {rel: _requirements_kind(rel) for rel in found}
    wanted = ("base", "test") if "test" in kinds.values() else ("base", "dev")
    return [r for r in found if kinds[r] in wanted], [r for r in found if kinds[r] not in wanted]


def _requirements_kind(rel: str) -> str:
    words = set(re.split(r"[-_./]+", rel.lower().removesuffix(".txt"))) - {"requirements", "requirement", "reqs"}
    if words & {"test", "tests", "testing", "ci"}:
        return "test"
    if words & {"dev", "develop", "development"}:
        return "dev"
    return "other" if words & NOT_TESTS else "base"  # an unknown word (py3, frozen) may be the project's own list


def _named(names) -> list[str]:
    """The test groups (or extras); `dev` only when there is none: it often holds tooling (tox, pre-commit)."""
    tests = [n for n in names if n.lower() in TEST_NAMES[:-1]]
    return tests or [n for n in names if n.lower() == "dev"]


def _setup_cfg_extras(project: Path) -> list[str]:
    """The extras a setuptools project declares in setup.cfg ([options.extras_require])."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(project / "setup.cfg")
    except (configparser.Error, UnicodeDecodeError):
        return []
    return list(parser["options.extras_require"]) if parser.has_section("options.extras_require") else []


class Found(NamedTuple):
    kind: str
    command: str  # the install command
    inputs: list[str]
    path: str | None  # the project's folder made importable with a .pth (when the install does not install it)
    notes: list[str]


def _python_install(project: Path, data: dict) -> Found | None:
    """What installs the project's Python side (uv.lock, the project and its test groups, requirements), or None."""
    table = data.get("project") or {}
    tool = tool_deps.declared(project, data)
    groups = _named((data.get("dependency-groups") or {}).keys())
    extras = _named([*(table.get("optional-dependencies") or {}), *_setup_cfg_extras(project)]) or tool.extras
    reqs, skipped = _requirements(project)
    layout = "src" if (project / "src").is_dir() else "."
    if (project / "uv.lock").is_file() and (project / "pyproject.toml").is_file():
        flags = [f"--group {shlex.quote(g)}" for g in groups] + [f"--extra {shlex.quote(e)}" for e in extras]
        command = " ".join(["uv sync --frozen --inexact --compile-bytecode", *flags])  # inexact: pip stays
        return Found("uv", command, ["uv.lock", "pyproject.toml"], None, [])
    named = [shlex.quote(r) for r in tool.requirements]
    notes = tool.notes + ([f"installs the test dependencies declared for the project's tools: "
                           f"{', '.join(tool.requirements)}"] if named else []) + \
        ([f"not installed (not a test suite's requirements): {', '.join(skipped)}"] if skipped else [])
    buildable = "build-system" in data or (project / "setup.py").is_file() or (project / "setup.cfg").is_file()
    if table or buildable:
        extra = f"[{','.join(extras)}]" if extras else ""
        parts = [f"-e {shlex.quote('.' + extra)}"] if buildable else \
            ["-r pyproject.toml", *[f"--extra {shlex.quote(e)}" for e in extras]]
        parts += [f"--group {shlex.quote(g)}" for g in groups] + [f"-r {shlex.quote(r)}" for r in reqs] + named
        inputs = [f for f in PROJECT_FILES if (project / f).is_file()] + reqs + tool.inputs
        return Found("pyproject", "uv pip install --compile-bytecode " + " ".join(parts), inputs,
                     None if buildable else layout, notes)
    if reqs or named:
        command = "uv pip install --compile-bytecode " + " ".join([f"-r {shlex.quote(r)}" for r in reqs] + named)
        inputs = reqs + [f for f in ("pyproject.toml",) if named and (project / f).is_file()] + tool.inputs
        return Found("requirements", command, inputs, layout, notes)
    return None


def detect(project: Path, env: str = "auto", setup: str | None = None, backend: str = "docker",
           trusted: bool = True, check: str | None = None) -> Recipe | None:
    """The project's environment, or None when it declares none (the bundled image is used as it is, with
    python and pytest). With a `check` that runs pytest, the build makes sure pytest is there after the install
    (`uv pip install pytest` changes nothing when the project installed it): whether an input declares it is only
    guessed from the files' text, so the guess decides the note, never the install.

    An untrusted project's devcontainer is not used: its image build runs with less isolation than a check."""
    recipe = _scm(Path(project), _detect(Path(project), env, setup, backend, trusted))
    if recipe is None or not check or not RUNS_PYTEST.search(check):
        return recipe
    note = () if _provides_pytest(Path(project), recipe) else (
        "the check runs pytest and the project's inputs do not declare it: the build installs pytest",)
    return replace(recipe, pytest=True, notes=recipe.notes + note)


def _scm(project: Path, recipe: Recipe | None) -> Recipe | None:
    """setuptools-scm and hatch-vcs find no version in the build's copy (it has no .git): they get one."""
    if recipe is None or not scmversion.uses_scm(scmversion.pyproject(project)):
        return recipe
    version, source = scmversion.version(project)
    return replace(recipe, build_vars=(("SETUPTOOLS_SCM_PRETEND_VERSION", version),), notes=recipe.notes + (
        f"setuptools-scm/hatch-vcs: the build's copy has no .git; it gets SETUPTOOLS_SCM_PRETEND_VERSION={version} "
        f"({source})",))


def _provides_pytest(project: Path, recipe: Recipe) -> bool:
    """Does an input file, the install or the setup command name pytest (pytest-cov etc. pull it in too)?"""
    texts = [recipe.install, recipe.setup or ""]
    for rel in recipe.inputs:
        try:
            texts.append((project / rel).read_text(errors="replace"))
        except OSError:
            pass
    return any(NAMES_PYTEST.search(text) for text in texts)


def _detect(project: Path, env: str, setup: str | None, backend: str, trusted: bool) -> Recipe | None:
    if env == "none":
        return None
    if env not in ("auto", *KINDS) and not (project / env).is_file():
        raise ConfigError(f"setting env = {env!r}: expected auto, none, {', '.join(KINDS)} or the path of a "
                          "Dockerfile in the project")
    data = _toml(project)
    python, python_from = _python(project, data)
    notes: list[str] = []
    extras = [".python-version"] if (project / ".python-version").is_file() else []
    common = dict(setup=setup, python=python, python_from=python_from)
    if env not in ("auto", *KINDS) or env == "dockerfile":
        if env == "dockerfile":
            raise ConfigError("setting env = 'dockerfile': name the Dockerfile instead, e.g. env = 'Dockerfile'")
        _docker_only(backend, f"env = {env!r} (a Dockerfile)")
        return _with_python(project, data, Recipe("dockerfile", (env, *extras), dockerfile=env, context=".",
                                                  notes=("Dockerfile RUN steps have no network; install "
                                                         "packages in the setup command",), **common))
    found = devcontainer.find(project) if env in ("auto", "devcontainer") else None
    if env == "devcontainer" and found is None:
        raise ConfigError(f"setting env = 'devcontainer': {project} has no .devcontainer/devcontainer.json")
    if found and backend not in IMAGE_BACKENDS:
        if env == "devcontainer":
            _docker_only(backend, "env = 'devcontainer'")
        notes.append(f"{found} is used with the Docker sandbox only; {backend} ignores it"
                     + (f" ({PODMAN_BUILD})" if backend == "podman" else ""))
        found = None
    if found and not trusted:
        notes.append(f"{found} is ignored: the project is not trusted (--trust-project, or trust it in the TUI)")
        found = None
    if found:
        dc = devcontainer.read(project, found)
        notes += [f"{found}: {key} is ignored (it would act on the host or widen the sandbox)" for key in dc.ignored]
        inputs = [found] + ([dc.dockerfile] if dc.dockerfile else []) + extras
        recipe = Recipe("devcontainer", tuple(inputs), install=dc.command or "", image=dc.image,
                        dockerfile=dc.dockerfile, context=dc.context, env=dc.env, notes=tuple(notes), **common)
        return recipe if dc.command else _with_python(project, data, recipe)
    python_kind = _python_install(project, data)
    if env in ("uv", "pyproject", "requirements") and (python_kind is None or python_kind[0] != env):
        raise ConfigError(f"setting env = {env!r}: {project} has no {env} inputs "
                          f"(found: {python_kind[0] if python_kind else 'none'})")
    if python_kind and env != "setup":
        kind, command, inputs, path, more = python_kind
        return Recipe(kind, tuple(inputs + extras), command, project_path=path, notes=tuple(notes + more), **common)
    if setup:
        layout = "src" if (project / "src").is_dir() else "."
        return Recipe("setup", tuple(extras), project_path=layout, notes=tuple(notes), **common)
    if env == "setup":
        raise ConfigError("setting env = 'setup' needs a `setup` command")
    return None


def _with_python(project: Path, data: dict, recipe: Recipe) -> Recipe:
    """A devcontainer or Dockerfile without its own command: the project's Python inputs installed on top."""
    found = _python_install(project, data)
    if not found:
        return recipe
    kind, command, inputs, path, more = found
    return Recipe(recipe.kind, tuple(dict.fromkeys(recipe.inputs + tuple(inputs))), command, recipe.setup,
                  recipe.python, recipe.python_from, path, recipe.image, recipe.dockerfile, recipe.context,
                  recipe.env, recipe.notes + (f"installs {kind} inputs on top", *more))


IMAGE_BACKENDS = ("docker",)  # the backends that build images from a Dockerfile (devcontainer sources too)
# measured with Podman 4.3: its API's image build ignores networkmode=none (compat and libpod endpoints alike),
# so a Dockerfile's RUN steps would reach every loopback service of the host; `podman build --network none`
# (the CLI) honours it, the API does not
PODMAN_BUILD = "Podman's API builds a Dockerfile with the host's network, whatever it is asked"


def _docker_only(backend: str, what: str) -> None:
    if backend not in IMAGE_BACKENDS:
        why = PODMAN_BUILD if backend == "podman" else f"the {backend} sandbox cannot build images"
        raise ConfigError(f"{what} needs the Docker sandbox ({why}): use --sandbox docker")
