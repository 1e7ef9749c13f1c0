"""Files a project's build writes into its source tree and gitignores: a version module from setuptools-scm or
hatch-vcs, compiled translations (*.mo), extension modules. The code and its tests need them (released sdists ship
them), so the workspace has them too, although it leaves gitignored files out: the files pyproject.toml declares,
and the gitignored build outputs inside the project's packages (a folder with __init__.py): compiled translations and
extension modules only. Any other gitignored file (a `local_settings.py` with a password, a `.env`) stays out: the
workspace is what the model may read.
A declared version module the person's folder lacks (a fresh git checkout) is written by tui-agent (scmversion).

They are copied from the person's folder as they are, never recorded in the baseline (so never deployed, never
deleted), and stay invisible to every scan, like any other ignored file."""

from __future__ import annotations

import os
from pathlib import Path

from tui_agent.workspace import scmversion
from tui_agent.workspace.safefs import read_regular

FILE_LIMIT, TOTAL_LIMIT = 16 << 20, 64 << 20  # package data: an extension module is a few MB
CACHES = {"__pycache__", "node_modules", "build", "dist"}
BUILT = (".mo", ".so", ".pyd", ".dylib", ".dll")  # what a build leaves in a package: translations, extensions


def declared(project: Path) -> list[str]:
    """The generated files pyproject.toml names (relative, normalized, inside the project)."""
    return [rel.as_posix() for rel in scmversion.declared(scmversion.pyproject(project))]


def package_files(project: Path, copied: set[str]) -> list[str]:
    """Build outputs inside the project's packages that the copy left out (gitignored), outermost packages first."""
    packages = sorted({rel.rsplit("/", 1)[0] for rel in copied if rel.endswith("/__init__.py")})
    roots: list[str] = []
    for pkg in packages:
        if not any(pkg.startswith(root + "/") for root in roots):
            roots.append(pkg)
    found: list[str] = []
    for root in roots:
        _walk(project, root, copied, found)
    return found


def _walk(project: Path, rel: str, copied: set[str], found: list[str]) -> None:
    try:
        entries = sorted(os.scandir(project / rel), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        child = f"{rel}/{entry.name}"
        if entry.name.startswith(".") or entry.name in CACHES or entry.name.endswith((".pyc", ".pyo")):
            continue
        if entry.is_dir(follow_symlinks=False):
            if child in copied:  # an ignored folder stays out
                _walk(project, child, copied, found)
        elif entry.name.endswith(BUILT) and entry.is_file(follow_symlinks=False) and child not in copied:
            found.append(child)


def copy_in(project: Path, workspace: Path, copied: set[str], owner: tuple[int, int] | None) -> list[str]:
    """Copy the generated files the workspace copy left out (gitignored); return their paths."""
    done: list[str] = []
    total = 0
    for rel in dict.fromkeys(declared(project) + package_files(project, copied)):
        dest = workspace / rel
        if rel in copied or not dest.parent.is_dir() or dest.parent.is_symlink() or os.path.lexists(dest):
            continue
        try:
            data, st = read_regular(project, rel, limit=FILE_LIMIT)
        except OSError:
            continue
        total += len(data)
        if total > TOTAL_LIMIT:
            break
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(fd, st.st_mode & 0o777)
        if owner:
            os.lchown(dest, *owner)
        done.append(rel)
    return done + scmversion.write_missing(project, workspace, owner)
