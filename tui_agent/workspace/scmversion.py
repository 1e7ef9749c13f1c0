"""Projects versioned by git tags (setuptools-scm, hatch-vcs) outside a git checkout: the version they get and the
version module they import.

The environment build copies the project without .git, so setuptools-scm cannot find a version ("unable to detect
version"): the build gets SETUPTOOLS_SCM_PRETEND_VERSION (hatch-vcs honours it too). A fresh git checkout has no
version module (the build writes it and .gitignore hides it): the workspace gets one, written by tui-agent and
hidden from every scan like an ignored file, so never deployed. The version never comes from running git on the
person's repository (its config can run code): the sdist's PKG-INFO holds it, else it is 0.0.0."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path, PurePosixPath

from tui_agent.workspace.safefs import O_DIR, read_regular

FALLBACK = "0.0.0"
VERSION = re.compile(r"[0-9][0-9A-Za-z.+!_-]{0,99}")  # PEP 440-ish: it goes into a Python file and an env var
TAG = re.compile(r"[vV]?(\d{1,9}(?:\.\d{1,9}){0,3})")  # final releases only
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # each part of a version file's name (no glob characters)
BACKENDS = re.compile(r"^\s*(setuptools[-_.]scm|hatch[-_.]vcs)\b", re.IGNORECASE)
LIMIT = 1 << 20


def _table(data: dict, *keys: str) -> dict:
    for key in keys:
        value = data.get(key)
        data = value if isinstance(value, dict) else {}
    return data


def pyproject(project: Path) -> dict:
    try:
        return tomllib.loads(read_regular(project, "pyproject.toml", limit=LIMIT)[0].decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def uses_scm(data: dict) -> bool:
    """Does the build take its version from git (setuptools-scm or hatch-vcs)?"""
    requires = _table(data, "build-system").get("requires")
    if isinstance(requires, list) and any(isinstance(r, str) and BACKENDS.match(r) for r in requires):
        return True
    tool = _table(data, "tool")
    return "setuptools_scm" in tool or _table(data, "tool", "hatch", "version").get("source") == "vcs" \
        or bool(_table(data, "tool", "hatch", "build", "hooks", "vcs"))


def version(project: Path) -> tuple[str, str]:
    """(the version, where it came from): the Version of the sdist's PKG-INFO, else the highest release tag in
    .git (its files read, git never run), else 0.0.0 (too low for a package others pin: pytest needs pluggy>=1.5)."""
    try:
        head = read_regular(project, "PKG-INFO", limit=LIMIT)[0].decode("utf-8", "replace").split("\n\n", 1)[0]
    except OSError:
        head = ""
    for line in head.splitlines():
        if line.lower().startswith("version:"):
            found = line.split(":", 1)[1].strip()
            if VERSION.fullmatch(found):
                return found, "PKG-INFO"
    tags = _tags(project)
    if tags:
        return max(tags, key=lambda t: tuple(int(n) for n in t.split("."))), "the highest release tag in .git"
    return FALLBACK, "no PKG-INFO, no release tag in .git"


def _tags(project: Path) -> list[str]:
    """Release tags (1.5.0, v1.5.0) from .git/packed-refs and .git/refs/tags, read as files (no symlinks)."""
    names = []
    try:
        packed = read_regular(project, ".git/packed-refs", limit=16 * LIMIT)[0].decode("utf-8", "replace")
        names += [line.split(" refs/tags/", 1)[1] for line in packed.splitlines() if " refs/tags/" in line]
    except OSError:
        pass
    if any(os.path.islink(project / rel) for rel in (".git", ".git/refs", ".git/refs/tags")):
        return []
    try:
        names += [e.name for e in os.scandir(project / ".git/refs/tags") if e.is_file(follow_symlinks=False)]
    except OSError:
        pass
    return [m.group(1) for m in map(TAG.fullmatch, names) if m]


def declared(data: dict) -> list[PurePosixPath]:
    """The generated files pyproject.toml names (setuptools-scm's write_to/version_file, hatch-vcs's version-file),
    relative and inside the project (no `..`)."""
    scm, vcs = _table(data, "tool", "setuptools_scm"), _table(data, "tool", "hatch", "build", "hooks", "vcs")
    found: list[PurePosixPath] = []
    for name in (scm.get("write_to"), scm.get("version_file"), vcs.get("version-file")):
        if isinstance(name, str) and name.strip():
            rel = PurePosixPath(name.strip())
            if not rel.is_absolute() and ".." not in rel.parts and rel not in found:
                found.append(rel)
    return found


def version_files(data: dict) -> list[str]:
    """The version modules tui-agent may write: declared, each part a plain name (no glob characters), `.py`."""
    return [rel.as_posix() for rel in declared(data)
            if rel.parts and all(SAFE_NAME.fullmatch(p) for p in rel.parts) and rel.suffix == ".py"]


def missing(project: Path) -> list[str]:
    """The declared version modules the person's folder does not have (tui-agent writes them in the workspace)."""
    return [rel for rel in version_files(pyproject(project)) if not os.path.lexists(project / rel)]


def exclude_rules(project: Path) -> str:
    """Ignore rules that hide the version modules tui-agent writes from every scan (so they are never deployed)."""
    return "".join(f"\n/{rel}\n" for rel in missing(project))


def module(text_version: str) -> str:
    """setuptools-scm's standard version module."""
    parts = re.split(r"[.+]", text_version)
    items = ", ".join(p if p.isdigit() else repr(p) for p in parts if p)
    return (f"# file generated by tui-agent (the project's folder has no version module; setuptools-scm writes it)\n"
            f"__version__ = version = {text_version!r}\n"
            f"__version_tuple__ = version_tuple = ({items}{',' if len(parts) == 1 else ''})\n")


def write_missing(project: Path, workspace: Path, owner: tuple[int, int] | None) -> list[str]:
    """Write each missing version module into the workspace, through real directories only; return their paths."""
    rels = missing(project)
    if not rels:
        return []
    text = module(version(project)[0]).encode()
    done = []
    for rel in rels:
        *dirs, name = rel.split("/")
        fd = os.open(workspace, O_DIR)
        try:
            for part in dirs:  # O_NOFOLLOW on each part: a symlinked folder is never entered
                parent, fd = fd, os.open(part, O_DIR, dir_fd=fd)
                os.close(parent)
            out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=fd)
        except OSError:
            continue  # the package folder is missing or a symlink, or the file exists: nothing written
        finally:
            os.close(fd)
        with os.fdopen(out, "wb") as f:
            f.write(text)
            if owner:
                os.fchown(f.fileno(), *owner)
        done.append(rel)
    return done
